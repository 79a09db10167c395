import Testing

@testable import SMTPClient

@Suite struct DotStufferTests {
    static let cases: [(String, String)] = [
        ("a\r\nb\r\n", "a\r\nb\r\n.\r\n"),
        (".start\r\n", "..start\r\n.\r\n"),
        ("x\r\n.\r\ny\r\n", "x\r\n..\r\ny\r\n.\r\n"),
        ("no end", "no end\r\n.\r\n"),
        ("", ".\r\n"),
        // Only a dot at a line start is doubled; a bare LF does not start a line.
        ("a.b\n.c\r\n", "a.b\n.c\r\n.\r\n"),
    ]

    @Test(arguments: 0..<cases.count) func stuffs(_ i: Int) {
        let (input, want) = Self.cases[i]
        // Whole and in one-byte pieces: the same output (the state carries across blocks).
        for size in [max(input.utf8.count, 1), 1] {
            var stuffer = DotStuffer()
            var out: [UInt8] = []
            let bytes = Array(input.utf8)
            var i = 0
            while i < bytes.count {
                stuffer.stuff(bytes[i..<min(bytes.count, i + size)], into: &out)
                i += size
            }
            stuffer.finish(into: &out)
            #expect(String(decoding: out, as: UTF8.self) == want)
        }
    }
}
