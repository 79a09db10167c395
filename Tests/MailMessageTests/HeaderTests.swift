import MailMessage
import Testing

@Suite struct HeaderTests {
    @Test func splitAndUnfold() {
        let text = "Subject: a\r\n  folded\r\n\tline\r\nX-A : obs\r\nx-a: second\r\n\r\nbody"
        let h = Header(parsing: bytes(text))
        #expect(h.fields.count == 3)
        #expect(h.first("SUBJECT") == "a  folded\tline")
        #expect(h.values("X-a") == ["obs", "second"])
        #expect(h.name(of: h.fields[1]) == "X-A")
        // Offsets slice exactly one field each.
        let f = h.fields[0]
        #expect(h.bytes[f.start..<f.end].string == "Subject: a\r\n  folded\r\n\tline\r\n")
        #expect(h.end == text.utf8.count - 4)
    }

    /// Header text, field name, expected value.
    @Test(
        arguments: [
            ("A: 1\nB: 2\n\n", "b", "2"),
            ("A:no-space\r\n\r\n", "a", "no-space"),
            ("A: x\r\n", "a", "x"),
            ("A: x", "a", "x"),
            ("A:\r\n\r\n", "a", ""),
            ("Subject: caf\u{e9}\r\n\r\n", "subject", "café"),
        ] as [(String, String, String)]
    )
    func lookup(text: String, name: String, value: String) {
        #expect(Header(parsing: bytes(text)).first(name) == value)
    }

    @Test func latin1FallbackForInvalidUTF8() {
        let h = Header(parsing: [UInt8]("Subject: caf".utf8) + [0xE9] + [UInt8]("\r\n\r\n".utf8))
        #expect(h.first("subject") == "café")
    }

    @Test func fieldLimitRespected() {
        var text = ""
        for i in 0..<50 { text += "X-\(i): v\r\n" }
        var limits = MessageLimits()
        limits.maxHeaderFields = 10
        let m = Message(parsing: bytes(text + "\r\nbody"), limits: limits)
        #expect(m.header.fields.count == 10)
        #expect(m.root.bodyBytes.string == "body")
    }

    @Test func hugeHeader() {
        // A 1 MB folded header and 9,000 fields must parse quickly and completely.
        var text = "Subject: start"
        for _ in 0..<20_000 { text += "\r\n continuation line of a very long subject" }
        text += "\r\n"
        for i in 0..<9_000 { text += "X-Field-\(i): value \(i)\r\n" }
        text += "\r\nbody\r\n"
        let m = Message(parsing: bytes(text))
        #expect(m.header.fields.count == 9_001)
        #expect(m.header.first("x-field-8999") == "value 8999")
        #expect(m.root.bodyBytes.string == "body\r\n")
        #expect(m.header.first("subject")?.hasSuffix("subject") == true)
    }
}

@Suite struct EncodedWordTests {
    @Test(
        arguments: [
            ("=?UTF-8?B?SGVsbG8=?=", "Hello"),
            ("=?iso-8859-1?q?Andr=E9?= Pirard", "André Pirard"),
            ("=?ISO-8859-1?Q?a?= b", "a b"),
            // RFC 2047 8: whitespace between adjacent encoded words is dropped.
            ("(=?ISO-8859-1?Q?a?= =?ISO-8859-1?Q?b?=)", "(ab)"),
            ("=?ISO-8859-1?Q?a?=\r\n   =?ISO-8859-1?Q?b?=", "ab"),
            ("=?ISO-8859-1?Q?a_b?=", "a b"),
            ("=?ISO-8859-1?Q?a?= =?ISO-8859-2?Q?_b?=", "a b"),
            // A UTF-8 character split over two words.
            ("=?UTF-8?B?4pw=?= =?UTF-8?B?kw==?=", "✓"),
            ("=?utf-8*en?q?lang?=", "lang"),
            ("=?windows-1252?Q?=80uro?=", "€uro"),
            ("=?koi8-r?B?8NLJ18XU?=", "Привет"),
            ("plain text", "plain text"),
            ("=?broken", "=?broken"),
            ("=?UTF-8?X?abc?=", "=?UTF-8?X?abc?="),
            ("a =?UTF-8?Q?x?= b", "a x b"),
            ("=?unknown-charset?Q?abc?=", "abc"),
        ] as [(String, String)]
    )
    func decode(input: String, expected: String) {
        #expect(EncodedWords.decode(input) == expected)
    }
}

@Suite struct CharsetTests {
    @Test(
        arguments: [
            ([0x63, 0x61, 0x66, 0xE9], "iso-8859-1", "café"),
            ([0xA4], "ISO-8859-15", "€"),
            ([0xB1], "iso-8859-2", "ą"),
            ([0xE0], "iso-8859-5", "р"),
            ([0x80, 0x93], "windows-1252", "€“"),
            ([0xB9], "windows-1250", "ą"),
            ([0xC0], "cp1251", "А"),
            ([0xE4, 0xBD, 0xA0], "utf-8", "你"),
            ([0xC4, 0xE3], "gb2312", "你"),
            ([0x61, 0xFF, 0x62], "utf-8", "a\u{FFFD}b"),
            ([0x61, 0x62], "no-such-charset", "ab"),
            ([0x61, 0x62], "../../etc", "ab"),
            ([0x82, 0xA0], "shift_jis", "あ"),
            ([0x81], "shift_jis", "\u{FFFD}"),
            ([0xE9], "latin-1", "é"),
            ([0xB0, 0xA1], "ks_c_5601-1987", "가"),
            ([0x82, 0xA0], "x-sjis", "あ"),
            ([0xF9], "iso-8859-8-i", "ש"),
            ([0x8E], "x-mac-roman", "é"),
            ([0xA1], "windows-874", "ก"),
            ([0x2B, 0x41, 0x4F, 0x6B, 0x2D], "utf-7", "é"),
        ] as [([UInt8], String, String)]
    )
    func decode(input: [UInt8], charset: String, expected: String) {
        #expect(Charset.decode(input, charset: charset) == expected)
    }

    @Test(arguments: [("UTF8", true), ("latin1", true), ("windows-1252", true), ("nonexistent-x", false), ("", true)])
    func known(name: String, known: Bool) {
        #expect(Charset.isKnown(name) == known)
    }

    @Test func everyByteInEverySingleByteCharset() {
        let all = (0...255).map { UInt8($0) }
        for n in 1...16 where n != 12 {
            #expect(Charset.decode(all, charset: "iso-8859-\(n)").unicodeScalars.count >= 128)
        }
        for n in 1250...1258 {
            #expect(Charset.decode(all, charset: "windows-\(n)").unicodeScalars.count >= 128)
        }
    }
}

@Suite struct TransferEncodingTests {
    @Test(
        arguments: [
            ("aGVsbG8=", "hello"),
            ("aGVs\r\nbG8=", "hello"),
            ("aGVs!!bG8", "hello"),
            ("aGVsbG8", "hello"),
            ("aGVsbA==bG8=", "helllo"),
            ("", ""),
            ("=", ""),
            ("a", ""),
        ] as [(String, String)]
    )
    func base64(input: String, expected: String) {
        #expect(String(decoding: TransferEncoding.decodeBase64(bytes(input)), as: UTF8.self) == expected)
    }

    @Test(
        arguments: [
            ("Caf=E9", [0x43, 0x61, 0x66, 0xE9]),
            ("a=\r\nb", Array("ab".utf8)),
            ("a=  \nb", Array("ab".utf8)),
            ("trailing   \r\nx", Array("trailing\r\nx".utf8)),
            ("bad=ZZ", Array("bad=ZZ".utf8)),
            ("end=", Array("end".utf8)),
            ("lower=e9", [0x6C, 0x6F, 0x77, 0x65, 0x72, 0xE9]),
            ("=3D", Array("=".utf8)),
        ] as [(String, [UInt8])]
    )
    func quotedPrintable(input: String, expected: [UInt8]) {
        #expect(TransferEncoding.decodeQuotedPrintable(bytes(input)) == expected)
    }
}

@Suite struct ContentTypeTests {
    @Test func basic() throws {
        let ct = try #require(ContentType(parsing: "Text/HTML; Charset=\"UTF-8\" (comment); format=flowed"))
        #expect(ct.type == "text")
        #expect(ct.subtype == "html")
        #expect(ct.parameter("charset") == "UTF-8")
        #expect(ct.parameter("FORMAT") == "flowed")
    }

    /// Header value, parameter name, expected value.
    @Test(
        arguments: [
            // RFC 2231 3: continuations.
            (
                "message/external-body; access-type=URL; URL*0=\"ftp://\"; URL*1=\"cs.utk.edu/pub\"", "url",
                "ftp://cs.utk.edu/pub"
            ),
            // RFC 2231 4: charset and language.
            (
                "application/x-stuff; title*=us-ascii'en-us'This%20is%20%2A%2A%2Afun%2A%2A%2A", "title",
                "This is ***fun***"
            ),
            // RFC 2231 4.1: mixed encoded and plain continuations, out of order.
            (
                "application/x-stuff; title*1*=%2A%2A%2Afun%2A%2A%2A%20; title*2=\"isn't it!\"; title*0*=us-ascii'en'This%20is%20even%20more%20",
                "title", "This is even more ***fun*** isn't it!"
            ),
            ("text/plain; name*=iso-8859-1''caf%E9.txt", "name", "café.txt"),
            ("text/plain; name=\"=?UTF-8?B?w6k=?=.txt\"", "name", "é.txt"),
            ("multipart/mixed; boundary=\"a;b\\\"c\"", "boundary", "a;b\"c"),
            ("multipart/mixed; garbage; boundary=x", "boundary", "x"),
            ("multipart/mixed;boundary=----=_Part_1", "boundary", "----=_Part_1"),
        ] as [(String, String, String)]
    )
    func parameters(value: String, name: String, expected: String) throws {
        let ct = try #require(ContentType(parsing: value))
        #expect(ct.parameter(name) == expected)
    }

    @Test(arguments: ["", "text", "/plain", ";charset=x", "text/"])
    func invalid(value: String) {
        #expect(ContentType(parsing: value) == nil)
    }

    @Test func disposition() throws {
        let d = try #require(ContentDisposition(parsing: "ATTACHMENT; filename=\"a b.pdf\"; size=10"))
        #expect(d.type == "attachment")
        #expect(d.parameter("filename") == "a b.pdf")
        #expect(d.parameter("size") == "10")
    }
}
