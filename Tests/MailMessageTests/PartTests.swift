import MailMessage
import Testing

@Suite struct PartTests {
    @Test func simple() throws {
        let b = fixture("simple.eml")
        let m = Message(parsing: b)
        #expect(!m.root.isMultipart)
        #expect(m.root.contentType == ContentType.defaultType)
        #expect(m.root.headerStart == 0)
        #expect(m.root.bodyBytes.string == "This is a message just to say hello.\r\nSo, \"Hello\".\r\n")
        #expect(m.root.headerBytes.string.hasSuffix("<3456@example.net>\r\n\r\n"))
        #expect(m.root.bodyLines == 2)
        #expect(m.root.bodySize == 52)

        let env = m.envelope
        #expect(env.decodedSubject == "Hello world ✓ and more")
        #expect(env.subject == "=?UTF-8?B?SGVsbG8gd29y?= =?UTF-8?B?bGQg4pyT?= and more")
        #expect(env.date == "Fri, 21 Nov 1997 09:55:06 -0600")
        #expect(env.parsedDate?.unixTime == 880_127_706)
        #expect(env.from == [.mailbox(MessageAddress(name: "Doe, John", localpart: "john", domain: "example.org"))])
        #expect(env.to.count == 3)
        #expect(env.to.last == .mailbox(MessageAddress(name: "Who?", localpart: "one", domain: "y.test")))
        #expect(env.sender.isEmpty)
        #expect(env.messageID == "<1234@local.machine.example>")
        #expect(env.inReplyTo == "<3456@example.net>")
        #expect(MessageIDs.parse(m.header.first("references") ?? "") == ["1000@example.net", "3456@example.net"])
        #expect(m.root.subpart([1])?.bodyStart == m.root.bodyStart)
        #expect(m.root.subpart([2]) == nil)
        #expect(TextExtraction.text(of: m) == "This is a message just to say hello.\r\nSo, \"Hello\".\r\n")
    }

    @Test func nested() throws {
        let b = fixture("nested.eml")
        let m = Message(parsing: b)
        let root = m.root
        #expect(root.isMultipart)
        #expect(root.hasClosingBoundary)
        #expect(root.parts.count == 3)
        #expect(b[try #require(root.preamble)].string == "This is the preamble.")
        #expect(b[try #require(root.epilogue)].string == "This is the epilogue.\r\n")

        let alt = root.parts[0]
        #expect(alt.contentType.subtype == "alternative")
        #expect(alt.parts.count == 2)
        let plain = try #require(root.subpart([1, 1]))
        #expect(
            plain.headerBytes.string
                == "Content-Type: text/plain; charset=iso-8859-1\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n"
        )
        #expect(plain.bodyBytes.string == "Caf=E9 cr=E8me=20\r\nsoft=\r\nbreak")
        #expect(plain.decodedText == "Café crème \r\nsoftbreak")
        #expect(plain.bodyLines == 3)
        let html = try #require(root.subpart([1, 2]))
        #expect(html.transferEncoding == "base64")
        #expect(TextExtraction.stripHTML(html.decodedText) == "Hello & world")

        let att = try #require(root.subpart([2]))
        #expect(att.disposition?.type == "attachment")
        #expect(att.disposition?.parameter("filename") == "€ rates.txt")
        #expect(att.decodedBody == [0, 1, 2, 3])
        // Slicing by offsets gives exactly header and body.
        #expect(b[att.headerStart..<att.end].string.hasPrefix("Content-Type: application/octet-stream\r\n"))
        #expect(att.rawBytes.string.hasSuffix("\r\n\r\nAAECAw=="))

        let fwd = try #require(root.subpart([3]))
        #expect(fwd.contentType.type == "message")
        #expect(fwd.contentDescription == "forwarded")
        let inner = try #require(fwd.message)
        #expect(inner.headerStart == fwd.bodyStart)
        #expect(inner.end == fwd.end)
        #expect(inner.header.first("subject") == "inner subject")
        // IMAP numbering: 3.1 is the first part of the forwarded message.
        let innerText = try #require(root.subpart([3, 1]))
        #expect(innerText.bodyBytes.string == "inner text")
        #expect(root.subpart([3, 2]) == nil)
        #expect(root.subpart([4]) == nil)
        #expect(root.subpart([0]) == nil)

        let env = m.envelope
        #expect(env.to.count == 1)
        guard case .group(let name, let members) = env.to[0] else {
            Issue.record("expected a group")
            return
        }
        #expect(name == "A Group")
        #expect(members.count == 3)
        #expect(env.cc == [.group(name: "Undisclosed recipients", members: [])])

        let text = TextExtraction.text(of: m)
        #expect(text.contains("Café crème"))
        #expect(text.contains("Hello & world"))
        #expect(text.contains("inner text"))
        #expect(!text.contains("x=1"))
    }

    @Test func nestedBodyStructure() throws {
        let m = Message(parsing: fixture("nested.eml"))
        guard case .multipart(let mp) = m.bodyStructure else {
            Issue.record("expected multipart")
            return
        }
        #expect(mp.subtype == "mixed")
        #expect(mp.parameters == [BodyStructure.Parameter(name: "boundary", value: "outer")])
        #expect(mp.parts.count == 3)
        guard case .multipart(let alt) = mp.parts[0], case .single(let plain) = alt.parts[0] else {
            Issue.record("expected alternative with a single part")
            return
        }
        #expect(plain.type == "text")
        #expect(plain.subtype == "plain")
        #expect(plain.encoding == "quoted-printable")
        #expect(plain.size == 31)
        #expect(plain.lines == 3)
        guard case .single(let att) = mp.parts[1] else {
            Issue.record("expected attachment")
            return
        }
        #expect(att.lines == nil)
        #expect(att.size == 8)
        #expect(att.disposition?.type == "attachment")
        guard case .single(let fwd) = mp.parts[2] else {
            Issue.record("expected message/rfc822")
            return
        }
        #expect(fwd.envelope?.decodedSubject == "inner subject")
        #expect(fwd.lines == 9)
        guard case .multipart(let innerMP) = fwd.body else {
            Issue.record("expected inner multipart")
            return
        }
        #expect(innerMP.parts.count == 1)
    }

    @Test func missingCloseBoundary() throws {
        let b = fixture("missing-close.eml")
        let m = Message(parsing: b)
        #expect(!m.root.hasClosingBoundary)
        #expect(m.root.parts.count == 2)
        #expect(m.root.parts[0].bodyBytes.string == "first\r\n--xyzNOT a boundary")
        #expect(m.root.parts[1].bodyBytes.string == "second, never closed\r\n")
        #expect(m.root.parts[1].end == b.count)
        #expect(b[try #require(m.root.preamble)].string == "preamble")
        #expect(m.root.epilogue == nil)
    }

    @Test func eightBitHeaders() {
        let m = Message(parsing: fixture("eightbit-headers.eml"))
        #expect(m.envelope.from == [.mailbox(MessageAddress(name: "Jürgen", localpart: "j", domain: "example.de"))])
        #expect(m.envelope.decodedSubject == "café latin1")
        #expect(m.header.first("x-weird") == "obsolete space before colon")
        #expect(m.envelope.to.first?.mailboxes.first?.name == "André Pirard")
        #expect(TextExtraction.text(of: m) == "Body with 8bit é\r\n")
    }

    @Test func truncated() {
        let m = Message(parsing: fixture("truncated.eml"))
        #expect(m.root.parts.count == 1)
        #expect(m.root.parts[0].decodedText == "hello wor")
        #expect(!m.root.hasClosingBoundary)
    }

    @Test func base64Garbage() {
        let m = Message(parsing: fixture("base64-garbage.eml"))
        #expect(m.root.transferEncoding == "base64")
        #expect(m.root.decodedText == "hello world")
    }

    @Test func noHeader() {
        let b = fixture("no-header.eml")
        let m = Message(parsing: b)
        #expect(m.header.fields.isEmpty)
        #expect(m.root.bodyStart == 1)
        #expect(m.root.bodyBytes.string == "Just a body, no header.\n")
    }

    @Test func bareLF() throws {
        let m = Message(parsing: fixture("bare-lf.eml"))
        #expect(m.root.parts.count == 2)
        #expect(m.root.parts[0].bodyBytes.string == "plain lf")
        #expect(m.root.parts[1].bodyBytes.string == "<p>html&nbsp;lf</p>")
        #expect(TextExtraction.text(of: m) == "plain lf\nhtml lf")
    }

    @Test func digestDefaultsToMessage() throws {
        let m = Message(parsing: fixture("digest.eml"))
        let p = try #require(m.root.subpart([1]))
        #expect(!p.hasContentType)
        #expect(p.contentType.type == "message")
        #expect(p.message?.header.first("subject") == "one")
    }

    /// For every fixture, every part's offsets are ordered, within the message, and children nest
    /// inside their parents.
    @Test(arguments: fixtureNames)
    func offsetsAreConsistent(name: String) {
        let b = fixture(name)
        #expect(!b.isEmpty)
        let m = Message(parsing: b)
        func check(_ p: Part, in range: Range<Int>) {
            #expect(range.lowerBound <= p.headerStart)
            #expect(p.headerStart <= p.bodyStart)
            #expect(p.bodyStart <= p.end)
            #expect(p.end <= range.upperBound)
            for c in p.parts { check(c, in: p.bodyStart..<p.end) }
            if let inner = p.message { check(inner, in: p.bodyStart..<p.end) }
        }
        check(m.root, in: 0..<b.count)
        #expect(m.root.end == b.count)
    }

    @Test func depthLimit() {
        var text = ""
        for i in 0..<200 { text += "Content-Type: multipart/mixed; boundary=b\(i)\r\n\r\n--b\(i)\r\n" }
        text += "\r\nleaf\r\n"
        var limits = MessageLimits()
        limits.maxDepth = 50
        let m = Message(parsing: bytes(text), limits: limits)
        var depth = 0
        var p = m.root
        while let c = p.parts.first {
            p = c
            depth += 1
        }
        #expect(depth == 50)
        // The multipart at the limit is kept whole, as opaque data.
        #expect(p.contentType.type == "application")
        #expect(p.bodyBytes.string.hasPrefix("--b50\r\n"))
    }

    @Test func messageRFC822Chain() {
        // Deeply nested message/rfc822 parts stop at the depth limit.
        let text = String(repeating: "Content-Type: message/rfc822\r\n\r\n", count: 500) + "Subject: x\r\n\r\nbody"
        let m = Message(parsing: bytes(text))
        var depth = 0
        var p = m.root
        while let inner = p.message {
            p = inner
            depth += 1
        }
        #expect(depth == MessageLimits.default.maxDepth)
    }

    @Test func messageGlobal() throws {
        let text =
            "Content-Type: message/global\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
            + "Subject: =?utf-8?q?s?= \u{e9}\r\nFrom: \u{e9}l\u{e8}ve <\u{e9}l\u{e8}ve@\u{e9}cole.example>\r\n\r\nbody \u{e9}\r\n"
        let m = Message(parsing: bytes(text))
        let inner = try #require(m.root.message)
        #expect(inner.header.decoded("subject") == "s é")
        #expect(Envelope(header: inner.header).from.first?.mailboxes.first?.domain == "école.example")
        #expect(TextExtraction.text(of: m) == "body é\r\n")
        guard case .single(let single) = m.bodyStructure else {
            Issue.record("expected a single part")
            return
        }
        #expect(single.subtype == "global")
        #expect(single.envelope?.decodedSubject == "s é")
    }

    @Test func base64MessageRFC822IsALeaf() {
        // RFC 2046 5.2.1 forbids encoding message/rfc822; when it happens the part is not parsed in place.
        let m = Message(
            parsing: bytes(
                "Content-Type: message/rfc822\r\nContent-Transfer-Encoding: base64\r\n\r\nU3ViamVjdDogeA0KDQpi\r\n"
            )
        )
        #expect(m.root.message == nil)
    }

    @Test func partHeaderPairs() {
        let m = Message(parsing: fixture("simple.eml"))
        let pairs = m.header.pairs
        #expect(pairs.first?.name == "Return-Path")
        #expect(pairs.first?.value == "<bounce@example.org>")
        #expect(pairs.count == 8)
    }
}

@Suite struct ContentTypeFallbackTests {
    /// Message text, then the effective type/subtype of the root part and its number of subparts.
    @Test(
        arguments: [
            ("Subject: x\r\n\r\nbody", "text/plain", 0),
            ("Content-Type: garbage\r\n\r\nbody", "application/octet-stream", 0),
            ("Content-Type: multipart/mixed\r\n\r\n--x\r\n\r\nbody", "application/octet-stream", 0),
            ("Content-Type: multipart/mixed; boundary=x\r\n\r\nno delimiters", "application/octet-stream", 0),
            ("Content-Type: multipart/mixed; boundary=x\r\n\r\n--x--\r\n", "application/octet-stream", 0),
            ("Content-Type: multipart/mixed; boundary=x\r\n\r\n--x\r\n\r\na\r\n--x--", "multipart/mixed", 1),
            (
                "Content-Type: multipart/mixed; boundary=x\r\n\r\n--x\r\n\r\na\r\n--x\r\n\r\nb\r\n--x--",
                "multipart/mixed", 2
            ),
            ("Content-Type: multipart/mixed; boundary=x\r\n\r\n--x\r\n--x\r\n--x\r\n", "multipart/mixed", 3),
            ("Content-Type: multipart/mixed; boundary=x\r\n\r\n--x \t\r\n\r\na\r\n--x-- \r\n", "multipart/mixed", 1),
            ("Content-Type: multipart/mixed; boundary=x\r\n\r\n--xy\r\n\r\na\r\n", "application/octet-stream", 0),
        ] as [(String, String, Int)]
    )
    func effectiveType(text: String, type: String, parts: Int) {
        let m = Message(parsing: bytes(text))
        #expect(m.root.contentType.type + "/" + m.root.contentType.subtype == type)
        #expect(m.root.parts.count == parts)
        switch m.bodyStructure {
        case .multipart(let mp): #expect(mp.parts.count == parts)
        case .single(let s): #expect(s.type + "/" + s.subtype == type)
        }
    }
}

@Suite struct SectionOffsetTests {
    /// Fixture, IMAP part number, exact header bytes (BODY[n.MIME]) and body bytes (BODY[n]).
    @Test(
        arguments: [
            (
                "nested.eml", [1, 2],
                "Content-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n",
                "PGh0bWw+PGJvZHk+PHA+SGVsbG8gJmFtcDsgPGI+d29ybGQ8L2I+PC9wPjxzY3JpcHQ+eD0x\r\n"
                    + "PC9zY3JpcHQ+PC9ib2R5PjwvaHRtbD4="
            ),
            ("nested.eml", [3, 1], "Content-Type: text/plain\r\n\r\n", "inner text"),
            ("missing-close.eml", [2], "Content-Type: text/plain\r\n\r\n", "second, never closed\r\n"),
            (
                "truncated.eml", [1],
                "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n",
                "aGVsbG8gd29y"
            ),
            ("bare-lf.eml", [2], "Content-Type: text/html\n\n", "<p>html&nbsp;lf</p>"),
            (
                "digest.eml", [1], "\r\n",
                "From: a@example.org\r\nSubject: one\r\n\r\nfirst digest message"
            ),
        ] as [(String, [Int], String, String)]
    )
    func slices(name: String, path: [Int], header: String, body: String) throws {
        let b = fixture(name)
        let p = try #require(Message(parsing: b).root.subpart(path))
        #expect(b[p.headerStart..<p.bodyStart].string == header)
        #expect(b[p.bodyStart..<p.end].string == body)
        #expect(p.bodySize == body.utf8.count)
    }
}

@Suite struct SectionNumberTests {
    /// A top-level message/rfc822: part 1 is the whole encapsulated message, 1.1 its body.
    @Test func topLevelMessageRFC822() throws {
        let text = "Content-Type: message/rfc822\r\n\r\nSubject: inner\r\n\r\ninner body"
        let m = Message(parsing: bytes(text))
        let one = try #require(m.root.subpart([1]))
        #expect(one.bodyBytes.string == "Subject: inner\r\n\r\ninner body")
        let oneOne = try #require(m.root.subpart([1, 1]))
        #expect(oneOne.bodyBytes.string == "inner body")
        #expect(m.root.subpart([1, 2]) == nil)
        #expect(m.root.subpart([]).map { $0.headerStart } == 0)
    }
}

@Suite struct TextExtractionTests {
    static let message = """
        Content-Type: multipart/mixed; boundary=m\r
        \r
        --m\r
        Content-Type: text/plain; charset=windows-1252\r
        Content-Transfer-Encoding: quoted-printable\r
        \r
        Price: 5 =80\r
        --m\r
        Content-Type: text/plain\r
        Content-Disposition: attachment; filename=notes.txt\r
        \r
        attached notes\r
        --m\r
        Content-Type: image/png\r
        Content-Transfer-Encoding: base64\r
        \r
        iVBORw0KGgo=\r
        --m--\r

        """

    @Test func attachmentsOnlyWhenAsked() {
        let m = Message(parsing: bytes(Self.message))
        #expect(TextExtraction.text(of: m) == "Price: 5 €")
        #expect(TextExtraction.text(of: m, includeAttachments: true) == "Price: 5 €\nattached notes")
    }

    @Test(
        arguments: [
            ("<p>a</p><p>b</p>", "a\nb"),
            ("<style>p{}</style>x<script>y</script>z", "xz"),
            ("a<!-- hidden -->b", "ab"),
            ("&lt;tag&gt; &amp;&#65;&#x42;&unknown;", "<tag> &AB&unknown;"),
            ("<b>bold</b> text", "bold text"),
            ("unclosed <a href=", "unclosed"),
            ("<SCRIPT>x</SCRIPT>y", "y"),
            ("<table><tr><td>a</td><td>b</td></tr><tr><td>c</td></tr></table>", "a b\nc"),
            ("<h1>Title</h1>body", "Title\nbody"),
        ] as [(String, String)]
    )
    func stripHTML(html: String, text: String) {
        #expect(TextExtraction.stripHTML(html) == text)
    }
}
