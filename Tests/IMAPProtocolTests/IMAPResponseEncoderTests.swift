import IMAPProtocol
import Testing

@Suite struct IMAPResponseEncoderTests {
    func encode(utf8: Bool = false, _ body: (inout IMAPResponseEncoder) -> Void) -> String {
        var e = IMAPResponseEncoder(utf8Accept: utf8, maxQuotedLength: 16)
        body(&e)
        return String(decoding: e.bytes, as: UTF8.self)
    }

    static let stringCases: [(String, Bool, String)] = [
        ("hello", false, "\"hello\""),
        ("", false, "\"\""),
        ("a \"b\" \\c", false, "\"a \\\"b\\\" \\\\c\""),
        ("line\r\nbreak", false, "{11}\r\nline\r\nbreak"),
        ("Grüße", false, "{7}\r\nGrüße"),
        ("Grüße", true, "\"Grüße\""),
        // Longer than maxQuotedLength (16).
        ("12345678901234567", false, "{17}\r\n12345678901234567"),
    ]

    @Test(arguments: stringCases)
    func strings(input: String, utf8: Bool, expected: String) {
        #expect(self.encode(utf8: utf8) { $0.writeString(input) } == expected)
    }

    @Test func literal8AndInvalidUTF8() {
        #expect(self.encode(utf8: true) { $0.writeString([UInt8(ascii: "a"), 0]) } == "~{2}\r\na\0")
        var e = IMAPResponseEncoder(utf8Accept: true)
        #expect(!e.canQuote([0xff]))
        e.writeString([0xc3])
        #expect(e.bytes == Array("{1}\r\n".utf8) + [0xc3])
    }

    @Test func astringNstringMailbox() {
        #expect(self.encode { $0.writeAstring("INBOX") } == "INBOX")
        #expect(self.encode { $0.writeAstring("a]b") } == "a]b")
        #expect(self.encode { $0.writeAstring("a b") } == "\"a b\"")
        #expect(self.encode { $0.writeAstring("") } == "\"\"")
        #expect(self.encode { $0.writeAstring("50%") } == "\"50%\"")
        #expect(self.encode { $0.writeNstring(nil) } == "NIL")
        #expect(self.encode { $0.writeNstring("NIL") } == "\"NIL\"")
        #expect(self.encode { $0.writeMailbox("台北") } == "&U,BTFw-")
        #expect(self.encode { $0.writeMailbox("a b&") } == "\"a b&-\"")
        #expect(self.encode(utf8: true) { $0.writeMailbox("台北") } == "\"台北\"")
    }

    @Test func listsAndDates() {
        #expect(self.encode { $0.writeFlagList(["\\Seen", "$Junk"]) } == "(\\Seen $Junk)")
        #expect(self.encode { $0.writeFlagList([]) } == "()")
        #expect(self.encode { $0.writeSequenceSet(seq("1:3,*")) } == "1:3,*")
        let d = IMAPDateTime(
            date: IMAPDate(year: 2024, month: 7, day: 5),
            hour: 2,
            minute: 4,
            second: 9,
            zoneMinutes: -90
        )
        #expect(self.encode { $0.writeDateTime(d) } == "\"05-Jul-2024 02:04:09 -0130\"")
    }

    /// What the encoder writes, the parser reads back.
    @Test(arguments: ["simple", "with space", "quote\"back\\slash", "multi\r\nline", "日本語", "", "NIL", "a]"])
    func roundTrip(value: String) throws {
        for utf8 in [false, true] {
            var e = IMAPResponseEncoder(utf8Accept: utf8)
            e.write("a LOGIN ")
            e.writeAstring(value)
            e.write(" ")
            e.writeString(value)
            let cmd = try #require(frame(String(decoding: e.bytes, as: UTF8.self)))
            let parsed = try IMAPCommandParser.parse(cmd, options: IMAPParserOptions(utf8Accept: utf8))
            #expect(parsed == IMAPCommand(tag: "a", .login(username: value, password: value)))
        }
    }

    @Test func mailboxRoundTrip() throws {
        for name in ["台北/日本語", "a&b", "INBOX", "Entwürfe"] {
            for utf8 in [false, true] {
                var e = IMAPResponseEncoder(utf8Accept: utf8)
                e.write("a SELECT ")
                e.writeMailbox(name)
                let cmd = try #require(frame(String(decoding: e.bytes, as: UTF8.self)))
                let parsed = try IMAPCommandParser.parse(cmd, options: IMAPParserOptions(utf8Accept: utf8))
                #expect(parsed == IMAPCommand(tag: "a", .select(mailbox: name, parameters: [])))
            }
        }
    }
}
