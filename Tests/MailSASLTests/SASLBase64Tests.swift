import MailSASL
import Testing

@Suite struct SASLBase64Tests {
    /// RFC 4648 10 test vectors.
    @Test(
        arguments: [
            ("", ""), ("f", "Zg=="), ("fo", "Zm8="), ("foo", "Zm9v"), ("foob", "Zm9vYg=="), ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ]
    )
    func vectors(plain: String, encoded: String) {
        #expect(SASLBase64.encode(bytes(plain)) == encoded)
        #expect(SASLBase64.decode(encoded) == bytes(plain))
    }

    @Test func allBytes() {
        let all = (0...255).map { UInt8($0) }
        for n in 0..<8 {
            let input = Array(all.dropFirst(n))
            #expect(SASLBase64.decode(SASLBase64.encode(input)) == input)
        }
    }

    @Test(
        arguments: [
            "Zg", "Zg=", "Z===", "====", "Zm9v YmFy", "Zm9vYmFy\r\n", "Zh==", "Zm9=", "Zm=v", "Zg==Zg==", "Zm9v!mFy",
            "Zm9v-_Fy",
        ]
    )
    func invalid(encoded: String) {
        #expect(SASLBase64.decode(encoded) == nil)
    }

    /// RFC 4954 4 and RFC 9051 6.2.2: "*" cancels, "=" is an empty initial response.
    @Test func clientResponses() throws {
        #expect(throws: SASLError(.cancelled, "authentication cancelled by client")) {
            try SASLBase64.decodeClientResponse(bytes("*"), initial: false)
        }
        #expect(try SASLBase64.decodeClientResponse(bytes("="), initial: true) == [])
        #expect(try SASLBase64.decodeClientResponse(bytes(""), initial: false) == [])
        #expect(try SASLBase64.decodeClientResponse(bytes("AG1qbABzZWNyZXQ="), initial: true) == bytes("\0mjl\0secret"))
        #expect(throws: SASLError.self) { try SASLBase64.decodeClientResponse(bytes("="), initial: false) }
        #expect(throws: SASLError.self) { try SASLBase64.decodeClientResponse(bytes("AG1qbA="), initial: true) }
        let long = Array(repeating: UInt8(ascii: "A"), count: 20000)
        #expect(throws: SASLError.self) { try SASLBase64.decodeClientResponse(long, initial: false) }
    }
}
