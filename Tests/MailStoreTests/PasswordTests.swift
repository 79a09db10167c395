import Crypto
import MailSASL
import Testing

@testable import MailStore

@Suite struct PasswordTests {
    /// RFC 6070 test vectors for PBKDF2-HMAC-SHA1.
    @Test func pbkdf2MatchesRFC6070() {
        let one = pbkdf2(Insecure.SHA1.self, password: Array("password".utf8), salt: Array("salt".utf8), iterations: 1)
        #expect(hex(one) == "0c60c80f961f0e71f3a9b524af6012062fe037a6")
        let many = pbkdf2(
            Insecure.SHA1.self,
            password: Array("password".utf8),
            salt: Array("salt".utf8),
            iterations: 4096
        )
        #expect(hex(many) == "4b007901b765489abead49d926f721d065a429c1")
    }

    @Test(arguments: [SCRAMCredentials.Hash.sha1, .sha256])
    func scramVerifiesTheRightPasswordOnly(hash: SCRAMCredentials.Hash) async throws {
        let dir = try TemporaryDirectory()
        let account = try await makeAccount(dir)
        #expect(try await account.scramCredentials(hash) == nil)
        try await account.setPassword(
            "correct horse",
            parameters: PasswordParameters(scramIterations: 4096, plainIterations: 1000)
        )
        let credentials = try #require(try await account.scramCredentials(hash))
        #expect(credentials.iterations == 4096)
        #expect(credentials.salt.count == 16)
        // The keys are those a client derives from the right password (RFC 5802 3), not a wrong one.
        let right = SCRAMServerKeys(hash: hash, password: "correct horse", salt: credentials.salt, iterations: 4096)
        let wrong = SCRAMServerKeys(hash: hash, password: "wrong horse", salt: credentials.salt, iterations: 4096)
        #expect(credentials.serverKeys == right)
        #expect(credentials.serverKeys != wrong)
        #expect(credentials.serverKeys.storedKey.count == (hash == .sha1 ? 20 : 32))
    }

    @Test func plainPasswordHash() async throws {
        let dir = try TemporaryDirectory()
        let account = try await makeAccount(dir)
        #expect(try await !account.verifyPlainPassword("anything"))
        try await account.setPassword(
            "moxmoxmox",
            parameters: PasswordParameters(scramIterations: 16, plainIterations: 1000)
        )
        #expect(try await account.verifyPlainPassword("moxmoxmox"))
        // Verified once, the password is recognized from the cache; wrong ones never are.
        let record = try #require(try await account.passwordRecord())
        #expect(
            VerifiedPasswords.shared.contains(
                VerifiedPasswords.key(stored: record.plainSalt + record.plainHash, password: "moxmoxmox")
            )
        )
        #expect(
            !VerifiedPasswords.shared.contains(
                VerifiedPasswords.key(stored: record.plainSalt + record.plainHash, password: "moxmoxmo")
            )
        )
        #expect(try await account.verifyPlainPassword("moxmoxmox"))
        #expect(try await !account.verifyPlainPassword("moxmoxmo"))
        #expect(try await !account.verifyPlainPassword(""))
        // A new password replaces the old secrets.
        try await account.setPassword(
            "other",
            parameters: PasswordParameters(scramIterations: 16, plainIterations: 1000)
        )
        #expect(try await !account.verifyPlainPassword("moxmoxmox"))
        #expect(try await account.verifyPlainPassword("other"))
    }
}

func hex(_ bytes: [UInt8]) -> String {
    bytes.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
}

@Suite struct CRAMMD5Tests {
    /// RFC 1321 A.5 test suite.
    @Test(arguments: [
        ("", "d41d8cd98f00b204e9800998ecf8427e"),
        ("abc", "900150983cd24fb0d6963f7d28e17f72"),
        ("message digest", "f96b697d7cb7938d525a2f31aaf161d0"),
        (
            "12345678901234567890123456789012345678901234567890123456789012345678901234567890",
            "57edf4a22be3c955ac49da2e2107b67a"
        ),
    ])
    func md5(input: String, expected: String) {
        #expect(hex(MD5State.digest(Array(input.utf8))) == expected)
    }

    @Test(arguments: [0, 1, 55, 56, 63, 64, 65, 200])
    func storedStatesGiveTheSameHMACAsSwiftCrypto(length: Int) {
        for keyLength in [0, 5, 64, 65, 100] {
            let key = (0..<keyLength).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ 1) }
            let message = (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 13) }
            let expected = Array(HMAC<Insecure.MD5>.authenticationCode(for: message, using: SymmetricKey(data: key)))
            #expect(CRAMMD5Secret(password: key).hmac(message) == expected, "key \(keyLength)")
        }
    }

    /// RFC 2195 2: the example exchange.
    @Test func rfc2195Example() async throws {
        let dir = try TemporaryDirectory()
        let account = try await makeAccount(dir)
        let challenge = Array("<1896.697170952@postoffice.reston.mci.net>".utf8)
        let digest = try #require(unhex("b913a602c7eda7a495b4e6e7334d3890"))
        try await account.setPassword(
            "tanstaaftanstaaf",
            parameters: PasswordParameters(scramIterations: 16, plainIterations: 16)
        )
        // Without CRAM-MD5 enabled, nothing is stored and nothing verifies.
        #expect(try await !account.verifyCRAMMD5(challenge: challenge, digest: digest))
        try await account.setPassword(
            "tanstaaftanstaaf",
            parameters: PasswordParameters(scramIterations: 16, plainIterations: 16, cramMD5: true)
        )
        #expect(try await account.verifyCRAMMD5(challenge: challenge, digest: digest))
        #expect(try await !account.verifyCRAMMD5(challenge: challenge + [0x20], digest: digest))
    }
}

func unhex(_ text: String) -> [UInt8]? {
    let chars = Array(text.utf8)
    guard chars.count % 2 == 0 else { return nil }
    var out: [UInt8] = []
    var i = 0
    while i < chars.count {
        guard let byte = UInt8(String(decoding: chars[i..<(i + 2)], as: UTF8.self), radix: 16) else { return nil }
        out.append(byte)
        i += 2
    }
    return out
}
