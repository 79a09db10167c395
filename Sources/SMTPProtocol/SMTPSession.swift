/// What the network glue must do after a command or callback. The glue carries it out and, for
/// the actions that say so, calls back into the session with the result.
public enum SMTPSessionAction: Hashable, Sendable {
    /// Send the reply and read the next command.
    case reply(SMTPReply)
    /// Send the reply and close the connection.
    case replyAndClose(SMTPReply)
    /// Decide whether to accept the sender (DNS checks, submission rights...), then call
    /// `senderAccepted` or `senderRejected`.
    case checkSender(ReversePath, MailParameters)
    /// Decide whether to accept the recipient, then call `recipientAccepted` or
    /// `recipientRejected`.
    case checkRecipient(ForwardPath, RcptParameters)
    /// Send the 354 reply, feed the following input to `makeDataReceiver()`'s receiver, then call
    /// `dataReceived` with its outcome.
    case receiveData(SMTPReply)
    /// Read exactly `size` octets (`BDATReceiver`), append them to the message, then call
    /// `chunkReceived`.
    case receiveChunk(size: Int, last: Bool)
    /// Read and drop exactly `size` octets, then send the reply. RFC 3030 2: a rejected BDAT's
    /// chunk is still consumed, or the data would be taken as commands.
    case discardChunk(size: Int, reply: SMTPReply)
    /// Send the reply (220), drop any buffered plaintext input, do the TLS handshake, then call
    /// `tlsStarted`.
    case startTLS(SMTPReply)
    /// Run the SASL exchange for the (offered) mechanism, then call `authSucceeded` or
    /// `authFailed`.
    case authenticate(mechanism: String, initialResponse: String?)
    /// The message is complete: deliver or queue it and send the resulting reply. The session has
    /// already ended the transaction.
    case deliver(SMTPTransaction)
}

/// One accepted recipient.
public struct SMTPRecipient: Hashable, Sendable {
    public var path: ForwardPath
    public var parameters: RcptParameters

    public init(path: ForwardPath, parameters: RcptParameters) {
        self.path = path
        self.parameters = parameters
    }
}

/// The mail transaction: from an accepted MAIL to the end of the message, RSET or EHLO.
/// - SeeAlso: RFC 5321 3.3
public struct SMTPTransaction: Hashable, Sendable {
    public var reversePath: ReversePath
    public var parameters: MailParameters
    public var recipients: [SMTPRecipient] = []
    /// Whether BDAT was used; DATA is then no longer allowed (RFC 3030 2).
    public var usesBDAT = false
    /// Octets received in BDAT chunks so far.
    public var chunkedSize = 0

    public init(reversePath: ReversePath, parameters: MailParameters) {
        self.reversePath = reversePath
        self.parameters = parameters
    }
}

/// Configuration of a session; the policy decisions are made by the glue through actions.
public struct SMTPSessionConfig: Hashable, Sendable {
    /// This server's host name, ASCII, for the greeting and the EHLO reply.
    public var hostname: String
    public var extensions: SMTPExtensions
    /// Submission: MAIL, RCPT, DATA and BDAT need a successful AUTH first (RFC 4954 6, mox).
    public var requireAuth: Bool
    /// Pedantic parsing and lenient EHLO (the `smtputf8` field is set by the session).
    public var parserOptions: SMTPParserOptions
    /// Passed to the `DataReceiver`s the session makes.
    public var rejectAllBareLF: Bool

    public init(
        hostname: String,
        extensions: SMTPExtensions = SMTPExtensions(),
        requireAuth: Bool = false,
        parserOptions: SMTPParserOptions = SMTPParserOptions(),
        rejectAllBareLF: Bool = false
    ) {
        self.hostname = hostname
        self.extensions = extensions
        self.requireAuth = requireAuth
        self.parserOptions = parserOptions
        self.rejectAllBareLF = rejectAllBareLF
    }
}

/// The SMTP server session as a state machine: it checks command order and parameters, keeps
/// the transaction, and returns what to do. No I/O.
/// - SeeAlso: RFC 5321 3.3, 4.1.4 (order of commands)
public struct SMTPSession: Sendable {
    public enum Phase: Hashable, Sendable {
        /// Before EHLO/HELO (again after STARTTLS).
        case initial
        /// After EHLO/HELO, no transaction.
        case greeted
        /// MAIL accepted, no recipient yet.
        case mail
        /// At least one recipient accepted.
        case rcpt
        /// Receiving DATA.
        case data
        /// In the middle of a BDAT sequence (after a chunk without LAST).
        case bdat
        /// After QUIT, or after a reply that closes the connection.
        case closed
    }

    /// A callback the session is waiting for.
    private enum Pending: Hashable, Sendable {
        case sender(ReversePath, MailParameters)
        case recipient(ForwardPath, RcptParameters)
        case data
        case chunk(size: Int, last: Bool)
        case tls
        case auth
    }

    public var config: SMTPSessionConfig
    public private(set) var phase = Phase.initial
    public private(set) var tlsActive: Bool
    /// The EHLO/HELO argument (nil before it, or when lenient parsing could not parse it).
    public private(set) var helloHost: SMTPHost?
    /// Whether the client greeted with EHLO rather than HELO.
    public private(set) var isExtended = false
    /// The identity from a successful AUTH.
    public private(set) var authenticatedUser: String?
    public private(set) var transaction: SMTPTransaction?
    private var pending: Pending?
    /// Commands recognized so far; an unknown first command means the client does not speak SMTP.
    private var commandCount = 0

    public init(config: SMTPSessionConfig, tlsActive: Bool = false) {
        self.config = config
        self.tlsActive = tlsActive
    }

    /// The 220 greeting to send when the connection opens. RFC 5321 4.2, 3.1.
    public func greeting() -> SMTPReply {
        .greeting(hostname: self.config.hostname, text: "ESMTP")
    }

    /// The extensions as announced now: STARTTLS only without TLS, REQUIRETLS only with it
    /// (RFC 3207 4.2, RFC 8689 4.1).
    public var effectiveExtensions: SMTPExtensions {
        var e = self.config.extensions
        if self.tlsActive { e.startTLS = false } else { e.requireTLS = false }
        if !e.chunking { e.binaryMIME = false }
        return e
    }

    /// A receiver for the DATA that follows `.receiveData`.
    public func makeDataReceiver() -> DataReceiver {
        DataReceiver(maxSize: self.config.extensions.size, rejectAllBareLF: self.config.rejectAllBareLF)
    }

    private var greeted: Bool { self.phase != .initial }

    private static let internalError = SMTPReply(
        451,
        .systemOther,
        "internal error: command while waiting for a result"
    )

    // MARK: - Input

    /// Handles one command line (without line ending).
    public mutating func receive(line: ArraySlice<UInt8>) -> SMTPSessionAction {
        self.receive(line: Array(line))
    }

    /// Handles one command line (without line ending).
    public mutating func receive(line: [UInt8]) -> SMTPSessionAction {
        var options = self.config.parserOptions
        options.smtputf8 = self.transaction?.parameters.smtputf8 ?? false
        do {
            return self.receive(try SMTPCommandParser.parse(line: line, options: options))
        } catch {
            if self.pending != nil { return self.close(Self.internalError) }
            self.commandCount += 1
            // RFC 3030 2: without a valid size, the chunk cannot be skipped; the only way to
            // stay in sync is to close.
            if line.prefix(5).map(asciiUpper).elementsEqual("BDAT ".utf8)
                || line.map(asciiUpper).elementsEqual("BDAT".utf8)
            {
                return self.close(error.reply)
            }
            return .reply(error.reply)
        }
    }

    /// The line reader reported a line that is too long; the connection must close.
    public mutating func lineTooLong() -> SMTPSessionAction {
        self.close(.lineTooLong)
    }

    /// Handles one parsed command.
    public mutating func receive(_ command: SMTPCommand) -> SMTPSessionAction {
        if self.pending != nil || self.phase == .data {
            return self.close(Self.internalError)
        }
        if case .unknown = command {
            if self.commandCount == 0 {
                // Like mox: the peer probably speaks another protocol and more lines follow.
                return self.close(SMTPReply(500, .syntaxError, "please try again speaking SMTP"))
            }
            self.commandCount += 1
            // RFC 5321 4.2.4: 500 for an unrecognized command.
            return .reply(.unknownCommand())
        }
        self.commandCount += 1
        switch command {
        case .ehlo(let host): return self.hello(host, extended: true)
        case .helo(let host): return self.hello(host, extended: false)
        case .mail(let path, let params): return self.mail(path, params)
        case .rcpt(let path, let params): return self.rcpt(path, params)
        case .data: return self.data()
        case .bdat(let size, let last): return self.bdat(size: size, last: last)
        case .rset:
            // RFC 5321 4.1.1.5: clears the transaction; the greeting stays.
            self.endTransaction()
            return .reply(.ok("all clear"))
        case .noop:
            // RFC 5321 4.1.1.9
            return .reply(.ok("nothing done"))
        case .quit:
            // RFC 5321 4.1.1.10
            return self.close(.closing("bye"))
        case .vrfy, .expn:
            // RFC 5321 3.5.3, 7.3: 252 when not verifying; no EHLO needed (RFC 5321 4.1.4).
            return .reply(SMTPReply(252, .policyOther, "cannot verify, but will attempt delivery"))
        case .help:
            // RFC 5321 4.1.1.8
            return .reply(SMTPReply(214, .other, "see RFC 5321 (SMTP)"))
        case .starttls: return self.startTLS()
        case .auth(let mechanism, let initialResponse): return self.auth(mechanism, initialResponse)
        case .unknown: return .reply(.unknownCommand())
        }
    }

    private mutating func close(_ reply: SMTPReply) -> SMTPSessionAction {
        self.phase = .closed
        self.pending = nil
        return .replyAndClose(reply)
    }

    private mutating func endTransaction() {
        self.transaction = nil
        if self.phase != .initial, self.phase != .closed {
            self.phase = .greeted
        }
    }

    /// The common checks for commands of a mail transaction, in mox's order.
    private func transactionPrecondition() -> SMTPReply? {
        // RFC 5321 4.1.4: a transaction needs EHLO or HELO first.
        guard self.greeted else { return .badSequence("send EHLO or HELO first") }
        // RFC 4954 6: 530 5.7.0 when authentication is required.
        if self.config.requireAuth, self.authenticatedUser == nil {
            return SMTPReply(530, .policyOther, "authentication required")
        }
        return nil
    }

    // MARK: - Commands

    // RFC 5321 4.1.4: EHLO/HELO may be sent again; it ends any transaction like RSET.
    private mutating func hello(_ host: SMTPHost?, extended: Bool) -> SMTPSessionAction {
        self.transaction = nil
        self.helloHost = host
        self.isExtended = extended
        self.phase = .greeted
        if extended {
            return .reply(self.effectiveExtensions.ehloReply(hostname: self.config.hostname))
        }
        // RFC 5321 4.1.1.1: the HELO reply is just the domain.
        return .reply(SMTPReply(code: 250, enhanced: nil, lines: [self.config.hostname]))
    }

    private mutating func mail(_ path: ReversePath, _ params: MailParameters) -> SMTPSessionAction {
        if let r = self.transactionPrecondition() { return .reply(r) }
        // RFC 5321 4.1.1.2: MAIL inside a transaction is a sequence error, not an implicit RSET.
        guard self.transaction == nil else { return .reply(.badSequence("already have MAIL, send RSET first")) }
        let ext = self.effectiveExtensions
        if let size = params.size, let max = ext.size, size > max {
            // RFC 1870 6.1: 552 when the declared size is above the limit.
            return .reply(.messageTooBig("message too large: \(size) octets, at most \(max) allowed"))
        }
        switch params.body {
        case .eightBitMIME? where !ext.eightBitMIME,
            .binaryMIME? where !ext.binaryMIME:
            return .reply(SMTPReply(555, .invalidArguments, "BODY=\(params.body?.rawValue ?? "") not supported"))
        default: break
        }
        if params.smtputf8, !ext.smtputf8 { return .reply(.unrecognizedParameter("SMTPUTF8")) }
        if params.auth != nil, ext.authMechanisms.isEmpty { return .reply(.unrecognizedParameter("AUTH")) }
        if params.ret != nil, !ext.dsn { return .reply(.unrecognizedParameter("RET")) }
        if params.envid != nil, !ext.dsn { return .reply(.unrecognizedParameter("ENVID")) }
        if params.requireTLS {
            // RFC 8689 4.1: only on TLS connections; mox answers 523 5.7.10.
            guard self.tlsActive else {
                return .reply(SMTPReply(523, .encryptionNeeded, "REQUIRETLS only allowed on TLS connections"))
            }
            guard ext.requireTLS else { return .reply(.unrecognizedParameter("REQUIRETLS")) }
        }
        self.pending = .sender(path, params)
        return .checkSender(path, params)
    }

    private mutating func rcpt(_ path: ForwardPath, _ params: RcptParameters) -> SMTPSessionAction {
        if let r = self.transactionPrecondition() { return .reply(r) }
        // RFC 5321 4.1.4: RCPT needs MAIL first.
        guard let tx = self.transaction else { return .reply(.badSequence("missing MAIL FROM")) }
        // RFC 3030 2: recipients cannot be added once chunks are being sent.
        guard !tx.usesBDAT else { return .reply(.badSequence("no RCPT after BDAT")) }
        if params.notify != nil, !self.config.extensions.dsn { return .reply(.unrecognizedParameter("NOTIFY")) }
        if params.orcpt != nil, !self.config.extensions.dsn { return .reply(.unrecognizedParameter("ORCPT")) }
        // RFC 5321 4.5.3.1.10: 452 4.5.3 for too many recipients; the client sends the rest later.
        let max = self.config.extensions.maxRecipients
        guard tx.recipients.count < max else {
            return .reply(SMTPReply(452, .tooManyRecipients, "max of \(max) recipients reached"))
        }
        self.pending = .recipient(path, params)
        return .checkRecipient(path, params)
    }

    private mutating func data() -> SMTPSessionAction {
        if let r = self.transactionPrecondition() { return .reply(r) }
        // RFC 5321 4.1.4: DATA needs MAIL and at least one accepted RCPT (else 503 or 554).
        guard let tx = self.transaction else { return .reply(.badSequence("missing MAIL FROM")) }
        guard !tx.recipients.isEmpty else { return .reply(.badSequence("missing RCPT TO")) }
        // RFC 3030 2: DATA and BDAT cannot be mixed in one transaction.
        guard !tx.usesBDAT else { return .reply(.badSequence("DATA not allowed after BDAT")) }
        // RFC 3030 3: BODY=BINARYMIME messages must be sent with BDAT.
        guard tx.parameters.body != .binaryMIME else {
            return .reply(.badSequence("BODY=BINARYMIME requires BDAT"))
        }
        self.phase = .data
        self.pending = .data
        return .receiveData(.startMailInput())
    }

    private mutating func bdat(size: Int, last: Bool) -> SMTPSessionAction {
        // RFC 3030 2: whatever the answer, the chunk is read, so the stream stays in sync.
        guard self.config.extensions.chunking else {
            return .discardChunk(size: size, reply: .unknownCommand("BDAT not supported"))
        }
        if let r = self.transactionPrecondition() { return .discardChunk(size: size, reply: r) }
        guard let tx = self.transaction else {
            return .discardChunk(size: size, reply: .badSequence("missing MAIL FROM"))
        }
        guard !tx.recipients.isEmpty else {
            return .discardChunk(size: size, reply: .badSequence("missing RCPT TO"))
        }
        let (total, overflow) = tx.chunkedSize.addingReportingOverflow(size)
        if overflow || total > (self.config.extensions.size ?? Int.max) {
            // RFC 1870 6.3, RFC 3030 2: the transaction fails; later chunks of it find no MAIL
            // and are discarded with 503.
            self.endTransaction()
            return .discardChunk(size: size, reply: .messageTooBig())
        }
        self.transaction?.usesBDAT = true
        self.phase = .bdat
        self.pending = .chunk(size: size, last: last)
        return .receiveChunk(size: size, last: last)
    }

    // RFC 3207 4: STARTTLS.
    private mutating func startTLS() -> SMTPSessionAction {
        guard self.greeted else { return .reply(.badSequence("send EHLO or HELO first")) }
        // RFC 3207 4.2: not again once TLS is active.
        guard !self.tlsActive else { return .reply(.badSequence("already speaking TLS")) }
        guard self.config.extensions.startTLS else { return .reply(.badSequence("STARTTLS not offered")) }
        guard self.authenticatedUser == nil else { return .reply(.badSequence("cannot STARTTLS after AUTH")) }
        self.pending = .tls
        return .startTLS(SMTPReply(220, .other, "go ahead with TLS"))
    }

    // RFC 4954 4: AUTH.
    private mutating func auth(_ mechanism: String, _ initialResponse: String?) -> SMTPSessionAction {
        guard self.greeted else { return .reply(.badSequence("send EHLO or HELO first")) }
        let mechanisms = self.config.extensions.authMechanisms
        guard !mechanisms.isEmpty else { return .reply(.badSequence("authentication not offered")) }
        // RFC 4954 4: at most one successful AUTH, and not during a transaction.
        guard self.authenticatedUser == nil else { return .reply(.badSequence("already authenticated")) }
        guard self.transaction == nil else {
            return .reply(.badSequence("authentication not allowed during mail transaction"))
        }
        // RFC 4954 4: 504 for an unsupported mechanism.
        guard mechanisms.contains(where: { $0.uppercased() == mechanism }) else {
            return .reply(SMTPReply(504, .invalidArguments, "mechanism \(mechanism) not supported"))
        }
        self.pending = .auth
        return .authenticate(mechanism: mechanism, initialResponse: initialResponse)
    }

    // MARK: - Callbacks from the glue

    /// The sender is acceptable: the transaction starts.
    public mutating func senderAccepted(
        _ reply: SMTPReply = SMTPReply(250, .addressOther, "sender ok")
    ) -> SMTPSessionAction {
        guard case .sender(let path, let params) = self.pending else { return self.close(Self.internalError) }
        self.pending = nil
        self.transaction = SMTPTransaction(reversePath: path, parameters: params)
        self.phase = .mail
        return .reply(reply)
    }

    public mutating func senderRejected(_ reply: SMTPReply) -> SMTPSessionAction {
        guard case .sender = self.pending else { return self.close(Self.internalError) }
        self.pending = nil
        return .reply(reply)
    }

    public mutating func recipientAccepted(
        _ reply: SMTPReply = SMTPReply(250, EnhancedCode(class: 2, subject: 1, detail: 5), "recipient ok")
    ) -> SMTPSessionAction {
        guard case .recipient(let path, let params) = self.pending else { return self.close(Self.internalError) }
        self.pending = nil
        self.transaction?.recipients.append(SMTPRecipient(path: path, parameters: params))
        self.phase = .rcpt
        return .reply(reply)
    }

    public mutating func recipientRejected(_ reply: SMTPReply) -> SMTPSessionAction {
        guard case .recipient = self.pending else { return self.close(Self.internalError) }
        self.pending = nil
        return .reply(reply)
    }

    /// The `DataReceiver` found the end of the data. A rejected message ends the transaction
    /// with its reply; an accepted one is handed over for delivery.
    public mutating func dataReceived(_ outcome: DataReceiver.Outcome) -> SMTPSessionAction {
        guard self.pending == .data, let tx = self.transaction else { return self.close(Self.internalError) }
        self.pending = nil
        self.endTransaction()
        if let rejection = outcome.rejection {
            return .reply(rejection)
        }
        return .deliver(tx)
    }

    /// The chunk of the last `.receiveChunk` was read.
    public mutating func chunkReceived() -> SMTPSessionAction {
        guard case .chunk(let size, let last) = self.pending, var tx = self.transaction else {
            return self.close(Self.internalError)
        }
        self.pending = nil
        tx.chunkedSize += size
        if last {
            self.endTransaction()
            return .deliver(tx)
        }
        self.transaction = tx
        return .reply(.ok("\(size) octets received"))
    }

    /// The TLS handshake after `.startTLS` succeeded. RFC 3207 4.2: all knowledge from before is
    /// discarded; the client must send EHLO again.
    public mutating func tlsStarted() {
        self.pending = nil
        self.tlsActive = true
        self.helloHost = nil
        self.isExtended = false
        self.authenticatedUser = nil
        self.transaction = nil
        self.phase = .initial
    }

    /// The SASL exchange succeeded.
    public mutating func authSucceeded(
        user: String,
        reply: SMTPReply = SMTPReply(235, .policyOther, "authentication successful")
    ) -> SMTPSessionAction {
        guard self.pending == .auth else { return self.close(Self.internalError) }
        self.pending = nil
        self.authenticatedUser = user
        return .reply(reply)
    }

    /// The SASL exchange failed or was aborted; RFC 4954 6: 535 5.7.8 for bad credentials.
    public mutating func authFailed(
        _ reply: SMTPReply = SMTPReply(535, .authCredentialsInvalid, "authentication failed")
    ) -> SMTPSessionAction {
        guard self.pending == .auth else { return self.close(Self.internalError) }
        self.pending = nil
        return .reply(reply)
    }
}
