import MailSASL
import Testing

/// The exchange driver: challenges through the protocol's closure, credentials through the verifier.
@Suite struct SASLExchangeTests {
    let verifier = SASLVerifier<String>(
        plain: { user, password in user == "mox@localhost" && password == "secret" ? "mox" : nil },
        cramMD5: { _, _, _ in nil },
        scram: { _, _ in nil }
    )

    @Test func plainWithoutInitialResponseGetsAChallengeThenSucceeds() async throws {
        var server = SASLServer(mechanism: .plain, hostname: "mail.test")
        var challenges = 0
        let outcome = await server.run(initialResponse: nil, verifier: self.verifier) { _ in
            challenges += 1
            return .success(Array("\u{0}mox@localhost\u{0}secret".utf8))
        }
        guard case .authenticated(let user, let username) = outcome else {
            Issue.record("not authenticated: \(outcome)")
            return
        }
        #expect(user == "mox" && username == "mox@localhost" && challenges == 1)
    }

    @Test func wrongPasswordAndUnreadableAnswerFail() async throws {
        var server = SASLServer(mechanism: .plain, hostname: "mail.test")
        let wrong = await server.run(initialResponse: Array("\u{0}mox@localhost\u{0}nope".utf8), verifier: self.verifier) {
            _ in .success([])
        }
        guard case .failed(let error) = wrong else {
            Issue.record("expected failure")
            return
        }
        #expect(error.kind == .authenticationFailed)
        var other = SASLServer(mechanism: .plain, hostname: "mail.test")
        let unreadable = await other.run(initialResponse: nil, verifier: self.verifier) { _ in
            .failure(SASLError(.malformed, "not base64"))
        }
        guard case .failed(let malformed) = unreadable else {
            Issue.record("expected failure")
            return
        }
        #expect(malformed.kind == .malformed)
    }
}

/// RFC 4422 appendix A: EXTERNAL's authorization identity.
@Suite struct SASLExternalTests {
    @Test func otherIdentity() {
        #expect(SASLExternal.otherIdentity([], certificateLogin: "mjl@example.org") == nil)
        #expect(SASLExternal.otherIdentity(Array("MJL@Example.org".utf8), certificateLogin: "mjl@example.org") == nil)
        #expect(
            SASLExternal.otherIdentity(Array("other@example.org".utf8), certificateLogin: "mjl@example.org")
                == "other@example.org"
        )
    }
}
