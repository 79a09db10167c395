// STARTTLS, LOGIN, AUTHENTICATE (RFC 9051 6.2, RFC 4959 SASL-IR) and UNAUTHENTICATE (RFC 8437).

import IMAPProtocol
import MailNetwork
import MailMetrics
import MailLog
import MailSASL
import MailStore
import MailTLS
import NIOCore
import NIOSSL

extension IMAPConnection {
    /// RFC 9051 6.2.1: TLS negotiation starts after the tagged OK.
    func startTLS(tag: String) async throws(SessionEnd) -> Completion {
        guard let tls = self.options.tls, !self.tls else {
            return .bad("STARTTLS not available")
        }
        // RFC 9051 6.2.1 / CVE-2011-0411: anything pipelined after STARTTLS came in the clear and
        // must not be taken as a command of the encrypted session.
        _ = self.reader.takeBuffered()
        self.tagged(tag, .ok("begin TLS negotiation now"))
        try await self.sendThenInstall { pipeline in
            try pipeline.addHandler(tls.makeHandler(), position: .first)
        }
        try await self.waitForTLS()
        _ = self.reader.takeBuffered()
        self.tls = true
        await self.readClientCertificate()
        // The tagged OK went out already.
        return .alreadySent
    }

    /// Writes what is queued (a tagged OK) and changes the pipeline in the same event-loop step,
    /// so the client's next bytes, which may follow the OK at once (a TLS ClientHello, compressed
    /// data), find the new handler in place.
    func sendThenInstall(
        _ install: @escaping @Sendable (ChannelPipeline.SynchronousOperations) throws -> Void
    ) async throws(SessionEnd) {
        let go = self.out.bytes
        self.out.bytes = []
        let channel = self.channel
        do {
            try await channel.eventLoop.submit {
                channel.writeAndFlush(channel.allocator.buffer(bytes: go), promise: nil)
                try install(channel.pipeline.syncOperations)
            }.get()
        } catch {
            throw .closed
        }
    }

    /// RFC 4978 3: COMPRESS DEFLATE; from right after the tagged OK both directions are
    /// compressed.
    func compress(_ mechanism: String, tag: String) async throws(SessionEnd) -> Completion {
        guard mechanism.uppercased() == "DEFLATE" else { return .bad("unknown compression mechanism \(mechanism)") }
        if self.compressed { return .no("compression already active", code: "COMPRESSIONACTIVE") }
        guard let handler = DeflateHandler() else { return .no("compression unavailable", code: "SERVERBUG") }
        // RFC 4978 3: the client sends nothing more until it has the response; anything already
        // here was sent out of turn.
        if self.reader.bufferedCount > 0 {
            self.line("* BYE data sent before the COMPRESS response")
            throw .closed
        }
        self.tagged(tag, .ok("DEFLATE active"))
        // The OK goes out uncompressed, and the handler is in place before the next read.
        try await self.sendThenInstall { pipeline in
            let bridge = try pipeline.handler(type: ConnectionEventHandler.self)
            try pipeline.addHandler(handler, position: .before(bridge))
        }
        self.compressed = true
        return .alreadySent
    }

    /// RFC 9051 6.2.3
    func login(username: String, password: String) async throws(SessionEnd) -> Completion {
        guard self.authAllowed else {
            return .no("LOGIN is disabled before STARTTLS", code: "PRIVACYREQUIRED")
        }
        self.authVariant = "login"
        guard self.options.clientLimits.failedLogins.allowed(self.remoteIP) else {
            MoxMetrics.authenticationRateLimited(kind: "imap")
            return .no("too many failed logins from your address, try again later", code: "UNAVAILABLE")
        }
        guard let user = await self.backend.verifyPassword(username: username, password: password) else {
            return try self.loginFailed()
        }
        return await self.loggedIn(user)
    }

    func loginFailed() throws(SessionEnd) -> Completion {
        self.authFailures += 1
        MoxMetrics.authentication(kind: "imap", variant: self.authVariant, result: "badcreds")
        self.options.clientLimits.failedLogins.add(self.remoteIP)
        if self.authFailures >= self.options.maxAuthFailures {
            self.line("* BYE too many authentication failures")
            throw .closed
        }
        // RFC 5530 3: AUTHENTICATIONFAILED.
        return .no("invalid credentials", code: "AUTHENTICATIONFAILED")
    }

    func loggedIn(_ user: IMAPUser) async -> Completion {
        let account: Account
        do {
            account = try await self.backend.account(user.account)
        } catch {
            return .no("account unavailable", code: "UNAVAILABLE")
        }
        self.user = user
        self.account = account
        self.state = .authenticated
        // As mox: a good login forgets the address's failed logins.
        self.options.clientLimits.failedLogins.reset(self.remoteIP)
        MoxMetrics.authentication(kind: "imap", variant: self.authVariant, result: "ok")
        self.setIdleTimeout(self.options.idleTimeout)
        self.subscribeChanges(account)
        // RFC 9051 6.2.3: the capabilities may change after login; send them in the OK.
        return .ok("authenticated", code: "CAPABILITY " + self.capabilities.joined(separator: " "))
    }

    /// RFC 8437: back to the not-authenticated state on the same connection.
    func unauthenticate() async -> Completion {
        guard self.state != .notAuthenticated else { return .bad("not authenticated") }
        self.subscription?.cancel()
        self.subscription = nil
        self.selected = nil
        self.account = nil
        self.user = nil
        self.state = .notAuthenticated
        self.notify = nil
        self.certificateUser = nil
        self.dropPendingChanges()
        self.setIdleTimeout(self.options.preAuthTimeout)
        return .ok("unauthenticated")
    }

    /// The client's TLS certificate, after the handshake, and the user its public key logs in
    /// as (none for a key no account has).
    func readClientCertificate() async {
        guard let certificate = await ClientCertificate.presented(on: self.channel) else { return }
        self.clientCertificate = certificate
        self.certificateUser = await self.backend.tlsClientUser(fingerprint: certificate.fingerprint)
    }

    /// RFC 4422 appendix A, RFC 9051 6.2.2: EXTERNAL, the identity the TLS client certificate
    /// established. The authorization identity may be empty (the key's own address) or another
    /// address of the same account.
    func authenticateExternal(initialResponse: String?) async throws(SessionEnd) -> Completion {
        let response: [UInt8]
        let sent: [UInt8]
        if let initialResponse {
            sent = Array(initialResponse.utf8)
        } else {
            // RFC 9051 7.5: an empty challenge.
            self.line("+ ")
            sent = try await self.nextLine()
            if sent == Array("*".utf8) { return .bad("authentication cancelled") }
        }
        do {
            response = try SASLBase64.decodeClientResponse(sent, initial: initialResponse != nil)
        } catch {
            return .bad("malformed authentication data: \(error.reason)")
        }
        guard let (user, _) = self.certificateUser else {
            if self.clientCertificate == nil {
                return .no("no TLS client certificate", code: "AUTHENTICATIONFAILED")
            }
            return try self.loginFailed()
        }
        guard let authzid = SASLExternal.otherIdentity(response, certificateLogin: user.username) else {
            return await self.loggedIn(user)
        }
        guard let other = await self.backend.user(address: authzid), other.account == user.account else {
            return .no("the certificate's key belongs to another account", code: "AUTHENTICATIONFAILED")
        }
        return await self.loggedIn(other)
    }

    /// RFC 9051 6.2.2, RFC 4959 (initial response).
    func authenticate(mechanism name: String, initialResponse: String?) async throws(SessionEnd) -> Completion {
        guard self.authAllowed else {
            return .no("authentication is disabled before STARTTLS", code: "PRIVACYREQUIRED")
        }
        self.authVariant = name.lowercased()
        guard self.options.clientLimits.failedLogins.allowed(self.remoteIP) else {
            MoxMetrics.authenticationRateLimited(kind: "imap")
            return .no("too many failed logins from your address, try again later", code: "UNAVAILABLE")
        }
        if name.uppercased() == "EXTERNAL" && self.clientCertificate != nil {
            return try await self.authenticateExternal(initialResponse: initialResponse)
        }
        guard let mechanism = SASLMechanism(name: name), self.mechanisms.contains(mechanism) else {
            MoxMetrics.authentication(kind: "imap", variant: "(unrecognized)", result: "error")
            return .no("mechanism \(name) not supported", code: "CANNOT")
        }
        let binding: ChannelBinding? =
            self.tls ? self.options.tls.map { ChannelBinding.tlsServerEndPoint($0.serverEndPoint) } : nil
        var server = SASLServer(
            mechanism: mechanism,
            channelBinding: binding,
            plusAdvertised: self.mechanisms.contains { $0.isPlus },
            hostname: self.options.hostname
        )
        var initial: [UInt8]?
        if let initialResponse {
            do {
                initial = try SASLBase64.decodeClientResponse(Array(initialResponse.utf8), initial: true)
            } catch {
                return .bad("malformed authentication data: \(error.reason)")
            }
        }
        let backend = self.backend
        let verifier = SASLVerifier<IMAPUser>(
            plain: { await backend.verifyPassword(username: $0, password: $1) },
            cramMD5: { await backend.verifyCRAMMD5(username: $0, challenge: $1, digest: $2) },
            scram: { await backend.scramKeys(username: $0, hash: $1) }
        )
        let outcome = try await server.run(initialResponse: initial, verifier: verifier) {
            (challenge) throws(SessionEnd) -> Result<[UInt8], SASLError> in
            // RFC 9051 7.5: "+ " and the base64 challenge.
            self.line("+ " + SASLBase64.encode(challenge))
            let line = try await self.nextLine()
            return Result { () throws(SASLError) in try SASLBase64.decodeClientResponse(line, initial: false) }
        }
        switch outcome {
        case .authenticated(let user, _):
            return await self.loggedIn(user)
        case .failed(let error):
            switch error.kind {
            case .cancelled:
                // RFC 9051 6.2.2: "*" cancels, answered with BAD.
                MoxMetrics.authentication(kind: "imap", variant: self.authVariant, result: "aborted")
                return .bad("authentication cancelled")
            case .malformed:
                MoxMetrics.authentication(kind: "imap", variant: self.authVariant, result: "badprotocol")
                return .bad("malformed authentication data: \(error.reason)")
            case .authenticationFailed:
                return try self.loginFailed()
            }
        }
    }

    /// Replaces the inactivity timer: short before login, the RFC's 30 minutes after.
    func setIdleTimeout(_ timeout: TimeAmount) {
        self.currentTimeout = .nanoseconds(timeout.nanoseconds)
        let channel = self.channel
        channel.eventLoop.execute {
            let pipeline = channel.pipeline.syncOperations
            guard let old = try? pipeline.handler(type: IdleStateHandler.self) else { return }
            try? pipeline.addHandler(IdleStateHandler(readTimeout: timeout), name: "idle-auth", position: .after(old))
            pipeline.removeHandler(old, promise: nil)
        }
    }

    /// A line of SASL data (no literals), for AUTHENTICATE.
    func nextLine() async throws(SessionEnd) -> [UInt8] {
        while true {
            switch self.reader.next() {
            case .frame(let frame):
                self.logger.traceProtocol("C: ", (frame.lines.first ?? []) + [13, 10], kind: .auth)
                return frame.lines.first ?? []
            case .sendContinuation:
                self.line("+ ")
            case .literalStart, .literalData:
                // Not SASL data; read and dropped.
                continue
            case .needMoreData:
                if case .bytes(let buffer) = try await self.nextEvent() {
                    self.reader.append(buffer.readableBytesView)
                }
            case .error(let error):
                try self.refused(error)
                return Array("*".utf8)
            }
        }
    }
}
