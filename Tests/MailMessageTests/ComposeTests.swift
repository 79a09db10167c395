import MailMessage
import Testing

/// Every line ends in CRLF and is at most `max` octets before it.
func checkLines(_ data: [UInt8], max: Int = 998) -> Bool {
    var length = 0
    var i = 0
    while i < data.count {
        let b = data[i]
        if b == UInt8(ascii: "\r") {
            guard i + 1 < data.count, data[i + 1] == UInt8(ascii: "\n") else { return false }
            length = 0
            i += 2
            continue
        }
        if b == UInt8(ascii: "\n") { return false }
        length += 1
        if length > max { return false }
        i += 1
    }
    return true
}

/// The header section's lines only.
func headerLinesOK(_ data: [UInt8], max: Int) -> Bool {
    let h = Header(parsing: data)
    return checkLines(Array(data[0..<h.end]), max: max)
}

@Suite struct ComposeTests {
    static let subjects = [
        "Hello world",
        "Grüße aus Köln",
        "日本語のメールの件名はとても長くなることがありますので、エンコードされた単語に分割する必要があります。",
        "emoji 👩‍👩‍👧‍👦 family and flags 🇳🇱🇩🇪 in a rather long subject line that needs folding across lines",
        String(repeating: "word ", count: 60) + "end",
        String(repeating: "x", count: 1500),
        "looks =?utf-8?q?encoded?= but is not",
        "double  space and trailing",
        "ąčęėįšųūž ĄČĘĖĮŠŲŪŽ " + String(repeating: "ü", count: 200),
    ]

    @Test(arguments: ComposeTests.subjects, [false, true])
    func subjectRoundTrip(subject: String, smtputf8: Bool) throws {
        var c = MessageComposer(smtputf8: smtputf8)
        try c.add("Subject", text: subject)
        let out = try c.finish(body: .text("hi\r\n"))
        let m = Message(parsing: out)
        #expect(m.header.decoded("Subject") == subject)
        // Without SMTPUTF8 everything is encoded words of at most 75 characters, so 78 columns always hold;
        // UTF-8 words are not split, so there only 998 octets is guaranteed.
        #expect(headerLinesOK(out, max: smtputf8 ? 998 : 78))
        #expect(checkLines(out))
        if !smtputf8 {
            #expect(out.allSatisfy { $0 < 0x80 })
        }
    }

    @Test func encodedWordsAreShortAndOnCharacterBoundaries() {
        let text = "👩‍👩‍👧‍👦 Grüße 日本語 " + String(repeating: "é", count: 100)
        let words = HeaderEncoder.encodedWords(text)
        #expect(words.allSatisfy { $0.utf8.count <= 75 })
        // Each word alone decodes to valid UTF-8 (no character split between words).
        for w in words {
            #expect(!EncodedWords.decode(w).contains("\u{FFFD}"))
        }
        #expect(EncodedWords.decode(words.joined(separator: " ")) == text)
        // Mostly ASCII picks Q, mostly non-ASCII picks B.
        #expect(HeaderEncoder.encodedWords("Hello Jörg, how are you")[0].hasPrefix("=?utf-8?q?"))
        #expect(HeaderEncoder.encodedWords("日本語日本語")[0].hasPrefix("=?utf-8?b?"))
    }

    @Test func addresses() throws {
        let list = [
            MessageAddress(name: "Plain Name", localpart: "plain", domain: "example.org"),
            MessageAddress(name: "Doe, John (Jr.)", localpart: "john.doe", domain: "example.org"),
            MessageAddress(name: "Jörg Müller", localpart: "joerg", domain: "example.de"),
            MessageAddress(name: "", localpart: "no name", domain: "example.com"),
            MessageAddress(name: "say \"hi\"", localpart: "q", domain: "example.com"),
        ]
        for smtputf8 in [false, true] {
            var c = MessageComposer(smtputf8: smtputf8)
            try c.add("To", addresses: list + list + list)
            let out = try c.finish(body: .text("x"))
            let m = Message(parsing: out)
            let parsed = AddressList.mailboxes(m.header.first("To") ?? "")
            #expect(parsed == list + list + list)
            #expect(headerLinesOK(out, max: 78))
        }
        // UTF-8 addresses need SMTPUTF8.
        let intl = MessageAddress(name: "Ünïcode", localpart: "jörg", domain: "bücher.example")
        var c = MessageComposer(smtputf8: false)
        #expect(throws: ComposeError.self) { try c.add("From", addresses: [intl]) }
        var u = MessageComposer(smtputf8: true)
        try u.add("From", addresses: [intl])
        let out = try u.finish(body: .text("x"))
        #expect(AddressList.mailboxes(Message(parsing: out).header.first("From") ?? "") == [intl])
    }

    @Test func dateAndMessageID() throws {
        let d = MessageDate(unixTime: 1_136_239_445, zoneMinutes: -7 * 60)
        #expect(d.formatted == "Mon, 2 Jan 2006 15:04:05 -0700")
        #expect(MessageDate(parsing: d.formatted) == d)
        #expect(MessageDate(unixTime: 0).formatted == "Thu, 1 Jan 1970 00:00:00 +0000")
        let t: Int64 = 1_709_210_096  // 2024-02-29, a leap day
        #expect(MessageDate(unixTime: t, zoneMinutes: 330).unixTime == t)
        let id = MessageIDs.generate(random: Array(0..<16), host: "mail.example.org")
        #expect(MessageIDs.messageID(id)?.hasSuffix("@mail.example.org") == true)
        var c = MessageComposer()
        c.add(date: d)
        try c.add("Message-ID", structured: id)
        let m = Message(parsing: try c.finish(body: .text("x")))
        #expect(m.header.first("Message-ID") == id)
        #expect(MessageDate(parsing: m.header.first("Date") ?? "") == d)
    }

    static let bodies = [
        "plain ascii\r\nsecond line\r\n",
        "bare\nlf\nlines\n",
        "Grüße, mostly ASCII text with a few umlauts: äöü.\r\n",
        "日本語のテキストだけ。日本語のテキストだけ。\r\n",
        String(repeating: "long line without breaks ", count: 100) + "\r\n",
        "trailing spaces   \r\nand tab\t\r\n=equals= and --dashes\r\n",
        "--=_mox_1\r\n--=_mox_2\r\ncontent that looks like our boundaries\r\n",
    ]

    @Test(arguments: ComposeTests.bodies, [false, true])
    func mixedRoundTrip(text: String, allow8bit: Bool) throws {
        let attachment: [UInt8] = (0..<700).map { UInt8($0 % 256) }
        let body = ComposePart.mixed([
            .alternative(text: text, html: "<p>" + text + "</p>"),
            .attachment(
                attachment,
                type: ContentType(type: "application", subtype: "octet-stream"),
                filename: "data.bin"
            ),
            .attachment(
                Array(text.utf8),
                type: ContentType(type: "text", subtype: "plain"),
                filename: "Übersicht März 2024 — eine sehr lange Datei mit vielen Zeichen.txt"
            ),
        ])
        var c = MessageComposer(allow8bit: allow8bit)
        try c.add("Subject", text: "test")
        let out = try c.finish(body: body)
        #expect(checkLines(out))
        if !allow8bit {
            #expect(out.allSatisfy { $0 < 0x80 })
        }
        let m = Message(parsing: out)
        let root = m.root
        #expect(root.contentType.type == "multipart" && root.contentType.subtype == "mixed")
        #expect(root.parts.count == 3)
        #expect(root.hasClosingBoundary)
        let alt = root.parts[0]
        #expect(alt.contentType.subtype == "alternative")
        #expect(alt.parts.count == 2)
        let expected = text.replacingCRLF()
        #expect(alt.parts.first?.decodedText == expected)
        #expect(alt.parts.last?.decodedText == "<p>" + expected + "</p>")
        #expect(alt.parts.last?.contentType.subtype == "html")
        #expect(root.parts[1].decodedBody == attachment)
        #expect(root.parts[1].transferEncoding == "base64")
        #expect(root.parts[1].disposition?.parameter("filename") == "data.bin")
        #expect(
            root.parts[2].disposition?.parameter("filename")
                == "Übersicht März 2024 — eine sehr lange Datei mit vielen Zeichen.txt"
        )
        #expect(root.parts[2].decodedText == expected)
    }

    @Test func transferEncodingChoice() {
        #expect(BodyEncoder.encode(bytes("ascii\r\n"), text: true, allow8bit: false).0 == "7bit")
        #expect(BodyEncoder.encode(bytes("Grüße\r\n"), text: true, allow8bit: true).0 == "8bit")
        #expect(
            BodyEncoder.encode(bytes("Grüße aus Köln, mostly ASCII.\r\n"), text: true, allow8bit: false).0
                == "quoted-printable"
        )
        #expect(BodyEncoder.encode(bytes("日本語日本語\r\n"), text: true, allow8bit: false).0 == "base64")
        #expect(BodyEncoder.encode([0, 1, 2, 255], text: false, allow8bit: true).0 == "base64")
        let long = bytes(String(repeating: "a", count: 2000) + "\r\n")
        let (cte, enc) = BodyEncoder.encode(long, text: true, allow8bit: true)
        #expect(cte == "quoted-printable")
        #expect(checkLines(enc, max: 76))
        #expect(TransferEncoding.decodeQuotedPrintable(enc) == long)
    }

    @Test func embeddedMessage() throws {
        let inner = bytes("Subject: inner\r\nFrom: a@example.org\r\n\r\nGrüße\r\n")
        for allow8bit in [false, true] {
            var c = MessageComposer(allow8bit: allow8bit)
            try c.add("Subject", text: "outer")
            let out = try c.finish(body: .mixed([.text("see attached"), ComposePart(.message(inner))]))
            #expect(checkLines(out))
            let m = Message(parsing: out)
            let p = m.root.parts[1]
            if allow8bit {
                #expect(p.contentType.subtype == "rfc822")
                #expect(p.message?.header.first("Subject") == "inner")
            } else {
                #expect(out.allSatisfy { $0 < 0x80 })
                #expect(p.contentType.subtype == "global")
                #expect(p.decodedBody == inner)
            }
        }
    }

    @Test func noHeaderInjection() throws {
        var c = MessageComposer()
        #expect(throws: ComposeError.self) { try c.add("Bad Name", text: "x") }
        #expect(throws: ComposeError.self) { try c.add("", text: "x") }
        #expect(throws: ComposeError.self) { try c.add("Message-ID", structured: "<a@b>\r\nBcc: x@y") }
        #expect(throws: ComposeError.self) {
            try c.add("To", addresses: [MessageAddress(localpart: "a\r\nBcc: x", domain: "example.org")])
        }
        #expect(throws: ComposeError.self) {
            try c.add("To", addresses: [MessageAddress(localpart: "a", domain: "example.org>, <b@c")])
        }
        try c.add("Subject", text: "line\r\nBcc: x@example.org")
        try c.add("To", addresses: [MessageAddress(name: "a\r\nBcc: x", localpart: "a", domain: "example.org")])
        let m = Message(parsing: try c.finish(body: .text("x")))
        #expect(m.header.first("Bcc") == nil)
        #expect(m.header.decoded("Subject") == "line\r\nBcc: x@example.org")
        #expect(throws: ComposeError.self) {
            var c = MessageComposer()
            _ = try c.finish(body: ComposePart(.text("x", subtype: "plain"), extraHeaders: [("X Bad", "v")]))
        }
    }

    @Test func boundaryPrefixIsCleaned() throws {
        var c = MessageComposer(boundaryPrefix: "a b\"c\r\nd" + String(repeating: "x", count: 200))
        let out = try c.finish(body: .mixed([.text("one"), .text("two")]))
        let m = Message(parsing: out)
        let boundary = try #require(m.root.contentType.parameter("boundary"))
        #expect(boundary.utf8.count <= 70)
        #expect(!boundary.contains(" ") && !boundary.contains("\""))
        #expect(m.root.parts.map(\.decodedText) == ["one", "two"])
    }

    /// A structured value with one huge word still keeps lines under 998 octets.
    @Test func hugeToken() throws {
        var c = MessageComposer()
        try c.add("References", structured: "<" + String(repeating: "a", count: 3000) + "@example.org>")
        let out = try c.finish(body: .text("x"))
        #expect(checkLines(out))
    }

    @Test func invalidFieldName() {
        var c = MessageComposer()
        #expect(throws: ComposeError.self) { try c.add("Bad Name", text: "x") }
        #expect(throws: ComposeError.self) { try c.add("", text: "x") }
    }
}

extension String {
    /// Bare LF to CRLF, as the composer normalises text.
    func replacingCRLF() -> String {
        var out = ""
        var prevCR = false
        for s in self.unicodeScalars {
            if s == "\n" && !prevCR { out += "\r" }
            out.unicodeScalars.append(s)
            prevCR = s == "\r"
        }
        return out
    }
}
