// AUTH (RFC 4954) on the submission listeners, with the mechanisms of MailSASL.

import MailNetwork
import MailLog
import MailMetrics
import MailSASL
import MailTLS
import SMTPProtocol

extension SMTPConnection {
    /// Runs the SASL exchange after the session accepted the AUTH command; returns the session's
    /// next action (its reply to the outcome).
    func authenticate(
        mechanism name: String,
        initialResponse: String?
    ) async throws(SessionEnd)
        -> SMTPSessionAction
    {
        self.authVariant = name.lowercased()
        if !self.options.clientLimits.failedLogins.allowed(self.client.remoteIP) {
            MoxMetrics.authenticationRateLimited(kind: "submission")
            _ = self.session.authFailed(.tooManyAuthFailures)
            self.reply(.tooManyAuthFailures)
            throw .closed
        }
        if name.uppercased() == "EXTERNAL" && self.clientCertificate != nil {
            return try await self.authenticateExternal(initialResponse: initialResponse)
        }
        guard let mechanism = SASLMechanism(name: name), self.mechanisms.contains(mechanism) else {
            // RFC 4954 4: 504 for an unsupported mechanism.
            MoxMetrics.authentication(kind: "submission", variant: "(unrecognized)", result: "error")
            return self.session.authFailed(SMTPReply(504, .invalidArguments, "mechanism \(name) not supported"))
        }
        let binding: ChannelBinding? =
            self.client.tls ? self.options.tls.map { ChannelBinding.tlsServerEndPoint($0.serverEndPoint) } : nil
        var server = SASLServer(
            mechanism: mechanism,
            channelBinding: binding,
            plusAdvertised: self.mechanisms.contains { $0.isPlus },
            hostname: self.options.hostname
        )
        var initial: [UInt8]?
        var malformed: SASLError?
        if let initialResponse {
            do {
                initial = try SASLBase64.decodeClientResponse(Array(initialResponse.utf8), initial: true)
            } catch {
                malformed = error
            }
        }
        let backend = self.backend
        let verifier = SASLVerifier<SMTPAuthenticatedUser>(
            plain: { await backend.verifyPassword(username: $0, password: $1) },
            cramMD5: { await backend.verifyCRAMMD5(username: $0, challenge: $1, digest: $2) },
            scram: { await backend.scramKeys(username: $0, hash: $1) }
        )
        let outcome: SASLOutcome<SMTPAuthenticatedUser>
        if let malformed {
            outcome = .failed(malformed)
        } else {
            outcome = try await server.run(initialResponse: initial, verifier: verifier) {
                (challenge) throws(SessionEnd) -> Result<[UInt8], SASLError> in
                // RFC 4954 4: "334 " and the base64 challenge, possibly empty. Both directions
                // of the exchange are credentials in a trace.
                self.traceKind = .auth
                defer { self.traceKind = .plain }
                self.reply(.authChallenge(SASLBase64.encode(challenge)))
                let line = try await self.nextLine()
                return Result { () throws(SASLError) in try SASLBase64.decodeClientResponse(line, initial: false) }
            }
        }
        switch outcome {
        case .authenticated(let user, let username):
            return self.loggedIn(account: user.account, username: username)
        case .failed(let error):
            switch error.kind {
            case .cancelled:
                // RFC 4954 4: a cancelled exchange gets 501.
                MoxMetrics.authentication(kind: "submission", variant: self.authVariant, result: "aborted")
                return self.session.authFailed(.authCancelled)
            case .malformed:
                MoxMetrics.authentication(kind: "submission", variant: self.authVariant, result: "badprotocol")
                return self.session.authFailed(SMTPReply(501, .syntaxError, error.reason))
            case .authenticationFailed:
                return try self.credentialsRefused("bad user/pass")
            }
        }
    }

    /// RFC 4422 appendix A: EXTERNAL, the identity of the TLS client certificate's public key
    /// (`mox config tlspubkey`). The authorization identity may be empty (the key's own login
    /// address) or another address of the same account.
    func authenticateExternal(initialResponse: String?) async throws(SessionEnd) -> SMTPSessionAction {
        let sent: [UInt8]
        if let initialResponse {
            sent = Array(initialResponse.utf8)
        } else {
            // RFC 4954 4: an empty challenge.
            self.traceKind = .auth
            defer { self.traceKind = .plain }
            self.reply(.authChallenge(""))
            sent = try await self.nextLine()
        }
        if sent == Array("*".utf8) {
            MoxMetrics.authentication(kind: "submission", variant: "external", result: "aborted")
            return self.session.authFailed(.authCancelled)
        }
        let authzid: [UInt8]
        do {
            authzid = try SASLBase64.decodeClientResponse(sent, initial: initialResponse != nil)
        } catch {
            return self.session.authFailed(SMTPReply(501, .syntaxError, error.reason))
        }
        guard let user = self.certificateUser else {
            return try self.credentialsRefused("unknown tls public key")
        }
        guard let requested = SASLExternal.otherIdentity(authzid, certificateLogin: user.username) else {
            return self.loggedIn(account: user.account, username: user.username)
        }
        guard let other = await self.backend.user(address: requested), other.account == user.account else {
            return try self.credentialsRefused("the tls public key belongs to another account")
        }
        return self.loggedIn(account: other.account, username: other.username)
    }

    /// The client's TLS certificate, after the handshake, and the user its key logs in as.
    func readClientCertificate() async {
        guard let certificate = await ClientCertificate.presented(on: self.channel) else { return }
        self.clientCertificate = certificate
        self.certificateUser = await self.backend.tlsClientUser(fingerprint: certificate.fingerprint)
    }

    func loggedIn(account: String, username: String) -> SMTPSessionAction {
        // As mox: a good login forgets the address's failed logins.
        self.options.clientLimits.failedLogins.reset(self.client.remoteIP)
        MoxMetrics.authentication(kind: "submission", variant: self.authVariant, result: "ok")
        self.client.account = account
        self.client.username = username
        // RFC 4954 6: 235 2.7.0
        return self.session.authSucceeded(
            user: username,
            reply: SMTPReply(235, EnhancedCode(class: 2, subject: 7, detail: 0), "nice")
        )
    }

    /// RFC 4954 6: 535 5.7.8, counted against the connection and the address; too many close it.
    func credentialsRefused(_ text: String) throws(SessionEnd) -> SMTPSessionAction {
        self.authFailures += 1
        MoxMetrics.authentication(kind: "submission", variant: self.authVariant, result: "badcreds")
        self.options.clientLimits.failedLogins.add(self.client.remoteIP)
        let failed = self.session.authFailed(SMTPReply(535, .authCredentialsInvalid, text))
        if self.authFailures >= self.options.maxAuthFailures {
            try self.perform(failed)
            self.reply(
                SMTPReply(
                    421,
                    EnhancedCode(class: 4, subject: 7, detail: 0),
                    "too many authentication failures, closing"
                )
            )
            throw .closed
        }
        return failed
    }
}
