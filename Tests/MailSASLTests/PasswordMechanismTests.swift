import Crypto
import MailSASL
import Testing

@Suite struct PlainTests {
    /// RFC 4616 2: [authzid] NUL authcid NUL passwd.
    @Test(
        arguments: [
            ("\0mjl\0secret", SASLStep.verifyPlain(authzid: nil, username: "mjl", password: "secret")),
            ("mjl\0mjl\0secret", .verifyPlain(authzid: "mjl", username: "mjl", password: "secret")),
            (
                "\0mjl@example.org\0pass word",
                .verifyPlain(authzid: nil, username: "mjl@example.org", password: "pass word")
            ),
            ("\0jörg\0sécret", .verifyPlain(authzid: nil, username: "jörg", password: "sécret")),
        ]
    )
    func valid(message: String, expected: SASLStep) {
        var server = SASLServer(mechanism: .plain, hostname: "h")
        #expect(server.start(initialResponse: bytes(message)) == expected)
        #expect(server.passwordVerified(true) == .success(username: expected.username ?? "", additionalData: nil))
    }

    @Test(
        arguments: [
            ("admin\0mjl\0secret", SASLError.Kind.authenticationFailed),  // RFC 4616 2: acting as another user
            ("mjl\0secret", .malformed),
            ("\0mjl\0secret\0", .malformed),
            ("\0mjl\0sec\0ret", .malformed),
            ("\0\0secret", .malformed),
            ("\0mjl\0", .malformed),
            ("", .malformed),
        ]
    )
    func invalid(message: String, kind: SASLError.Kind) {
        var server = SASLServer(mechanism: .plain, hostname: "h")
        #expect(server.start(initialResponse: bytes(message)).failureKind == kind)
    }

    @Test func notUTF8() {
        var server = SASLServer(mechanism: .plain, hostname: "h")
        #expect(server.start(initialResponse: [0] + bytes("mjl") + [0, 0xff]).failureKind == .malformed)
    }

    /// RFC 4422 5: without an initial response the server sends an empty challenge.
    @Test func withoutInitialResponse() {
        var server = SASLServer(mechanism: .plain, hostname: "h")
        #expect(server.start(initialResponse: nil) == .challenge([]))
        #expect(
            server.receive(SASLClient.plain(username: "mjl", password: "secret"))
                == .verifyPlain(authzid: nil, username: "mjl", password: "secret")
        )
        #expect(server.passwordVerified(false).failureKind == .authenticationFailed)
        #expect(server.isFinished)
        #expect(server.passwordVerified(true).failureKind == .malformed)
    }
}

@Suite struct LoginTests {
    @Test func exchange() {
        var server = SASLServer(mechanism: .login, hostname: "h")
        #expect(server.start(initialResponse: nil) == .challenge(bytes("Username:")))
        #expect(server.receive(bytes("mjl")) == .challenge(bytes("Password:")))
        #expect(server.receive(bytes("secret")) == .verifyPlain(authzid: nil, username: "mjl", password: "secret"))
        #expect(server.receive(bytes("more")).failureKind == .malformed)
    }

    @Test func initialResponseIsUsername() {
        var server = SASLServer(mechanism: .login, hostname: "h")
        #expect(server.start(initialResponse: bytes("mjl")) == .challenge(bytes("Password:")))
        #expect(server.receive(bytes("secret")) == .verifyPlain(authzid: nil, username: "mjl", password: "secret"))
        #expect(server.passwordVerified(true) == .success(username: "mjl", additionalData: nil))
    }

    @Test(arguments: [[UInt8](), [0xff], bytes("a\0b")])
    func badUsername(username: [UInt8]) {
        var server = SASLServer(mechanism: .login, hostname: "h")
        _ = server.start(initialResponse: nil)
        #expect(server.receive(username).failureKind == .malformed)
    }

    @Test func emptyPassword() {
        var server = SASLServer(mechanism: .login, hostname: "h")
        _ = server.start(initialResponse: bytes("mjl"))
        #expect(server.receive([]).failureKind == .malformed)
    }
}

@Suite struct CRAMMD5Tests {
    /// HMAC-MD5 straight from swift-crypto, as the caller's verification does it.
    func hmacMD5(password: String, challenge: [UInt8]) -> [UInt8] {
        Array(HMAC<Insecure.MD5>.authenticationCode(for: challenge, using: SymmetricKey(data: bytes(password))))
    }

    /// RFC 2195 2 example: user "tim", password "tanstaaftanstaaf".
    @Test func rfc2195Example() {
        var server = SASLServer(mechanism: .cramMD5, hostname: "postoffice.reston.mci.net", nonce: { "1896.697170952" })
        let challenge = bytes("<1896.697170952@postoffice.reston.mci.net>")
        #expect(server.start(initialResponse: nil) == .challenge(challenge))
        let step = server.receive(bytes("tim b913a602c7eda7a495b4e6e7334d3890"))
        guard case .verifyCRAMMD5("tim", challenge, let digest) = step else {
            Issue.record("expected verifyCRAMMD5, got \(step)")
            return
        }
        #expect(digest == self.hmacMD5(password: "tanstaaftanstaaf", challenge: challenge))
        #expect(
            SASLClient.cramMD5Response(username: "tim", password: "tanstaaftanstaaf", challenge: challenge)
                == bytes("tim b913a602c7eda7a495b4e6e7334d3890")
        )
        #expect(server.passwordVerified(true) == .success(username: "tim", additionalData: nil))
    }

    @Test func digestMismatch() {
        var server = SASLServer(mechanism: .cramMD5, hostname: "h")
        guard case .challenge(let challenge) = server.start(initialResponse: nil) else {
            Issue.record("expected a challenge")
            return
        }
        #expect(challenge.first == UInt8(ascii: "<"))
        #expect(challenge.last == UInt8(ascii: ">"))
        let response = SASLClient.cramMD5Response(username: "mjl", password: "wrong", challenge: challenge)
        guard case .verifyCRAMMD5("mjl", challenge, let digest) = server.receive(response) else {
            Issue.record("expected verifyCRAMMD5")
            return
        }
        let valid = digest == self.hmacMD5(password: "secret", challenge: challenge)
        #expect(!valid)
        #expect(server.passwordVerified(valid).failureKind == .authenticationFailed)
    }

    @Test(
        arguments: [
            "tim",
            "tim b913a602c7eda7a495b4e6e7334d389",
            "tim b913a602c7eda7a495b4e6e7334d38900",
            "tim b913a602c7eda7a495b4e6e7334d389g",
            " b913a602c7eda7a495b4e6e7334d3890",
            "",
        ]
    )
    func malformed(response: String) {
        var server = SASLServer(mechanism: .cramMD5, hostname: "h")
        _ = server.start(initialResponse: nil)
        #expect(server.receive(bytes(response)).failureKind == .malformed)
    }

    @Test func upperCaseHexAndSpaceInName() {
        var server = SASLServer(mechanism: .cramMD5, hostname: "h", nonce: { "1" })
        _ = server.start(initialResponse: nil)
        guard
            case .verifyCRAMMD5("tim smith", _, let digest) = server.receive(
                bytes("tim smith B913A602C7EDA7A495B4E6E7334D3890")
            )
        else {
            Issue.record("expected verifyCRAMMD5")
            return
        }
        #expect(digest.count == 16)
    }

    /// RFC 4422 5: CRAM-MD5 is server-first.
    @Test func initialResponseRejected() {
        var server = SASLServer(mechanism: .cramMD5, hostname: "h")
        #expect(server.start(initialResponse: []).failureKind == .malformed)
    }
}

@Suite struct MechanismTests {
    @Test func names() {
        #expect(SASLMechanism(name: "scram-sha-256-plus") == .scramSHA256Plus)
        #expect(SASLMechanism(name: "Plain") == .plain)
        #expect(SASLMechanism(name: "GSSAPI") == nil)
        #expect(SASLMechanism.allCases.filter(\.isPlus) == [.scramSHA1Plus, .scramSHA256Plus])
        #expect(SASLMechanism.cramMD5.scramHash == nil)
        #expect(SASLMechanism.scramSHA1Plus.scramHash == .sha1)
    }
}

extension SASLStep {
    fileprivate var username: String? {
        if case .verifyPlain(_, let username, _) = self { return username }
        return nil
    }
}

@Suite struct StepDescriptionTests {
    /// Steps end up in logs; the password must not.
    @Test func passwordRedacted() {
        let step = SASLStep.verifyPlain(authzid: nil, username: "mjl", password: "hunter2")
        #expect(!"\(step)".contains("hunter2"))
        #expect("\(step)".contains("mjl"))
    }
}
