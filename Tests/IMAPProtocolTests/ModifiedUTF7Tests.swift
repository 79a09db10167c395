import IMAPProtocol
import Testing

@Suite struct ModifiedUTF7Tests {
    static let pairs: [(String, String)] = [
        // RFC 3501 5.1.3 examples.
        ("~peter/mail/台北/日本語", "~peter/mail/&U,BTFw-/&ZeVnLIqe-"),
        ("&Jjo!", "&-Jjo!"),
        ("☺!", "&Jjo-!"),
        ("INBOX", "INBOX"),
        ("", ""),
        ("a&b&&", "a&-b&-&-"),
        ("Entwürfe", "Entw&APw-rfe"),
        // Outside the BMP: a surrogate pair.
        ("mail 😀", "mail &2D3eAA-"),
        ("tab\there", "tab&AAk-here"),
    ]

    @Test(arguments: pairs)
    func encodeDecode(plain: String, encoded: String) throws {
        #expect(ModifiedUTF7.encode(plain) == encoded)
        #expect(try ModifiedUTF7.decode(encoded) == plain)
    }

    @Test(arguments: ["Ünïcödé/日本/€", "x\u{7f}y", "&&&", "a-b&c-d", "ẞ😀ẞ"])
    func roundTrip(name: String) throws {
        #expect(try ModifiedUTF7.decode(ModifiedUTF7.encode(name)) == name)
    }

    static let bad: [(String, ModifiedUTF7.DecodeError)] = [
        ("&U,BTFw", .unterminatedShift),
        ("&", .unterminatedShift),
        ("&U/BTFw-", .invalidBase64(UInt8(ascii: "/"))),
        ("&U,BTF-", .badPadding),
        ("&U,BTFx-", .badPadding),
        // "a" encoded: must be sent as itself.
        ("&AGE-", .needlessEncoding),
        ("&Jjo-&Jjo-", .adjacentShifts),
        // A lone high surrogate.
        ("&2D0-", .invalidUTF16),
        ("tab\there", .invalidByte(9)),
        ("Entwürfe", .invalidByte(0xc3)),
    ]

    @Test(arguments: bad)
    func malformed(input: String, error: ModifiedUTF7.DecodeError) {
        #expect(throws: error) { try ModifiedUTF7.decode(input) }
    }
}
