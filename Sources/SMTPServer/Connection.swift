// One SMTP connection: reads commands, answers them, receives messages and hands them to the
// backend. The session is one async function per connection; the protocol rules (syntax,
// reply codes, data framing) come from SMTPProtocol, the policy from the backend.

import Logging
import MailAddress
import MailLog
import MailMetrics
import MailNetwork
import MailMessage
import MailSASL
import MailSpool
import MailTLS
import NIOCore
import NIOSSL
import SMTPProtocol

#if canImport(Glibc)
import Glibc
#endif

/// Settings of one listener's SMTP service.
public struct SMTPServerOptions: Sendable {
    public var hostname: String
    public var listener: SMTPListenerKind
    /// The listener's certificate; nil when it has no TLS.
    public var tls: ServerTLS?
    /// Offer STARTTLS (when `tls` is set and the connection is not already encrypted).
    public var offerSTARTTLS = true
    /// Submission: refuse AUTH and mail before STARTTLS (mox's default; NoRequireSTARTTLS turns it off).
    public var requireTLSForSubmission = true
    /// Port 25: refuse mail before STARTTLS (RequireSTARTTLS).
    public var requireSTARTTLSForMail = false
    /// Offer REQUIRETLS (RFC 8689) on TLS connections.
    public var offerREQUIRETLS = true
    /// The largest message accepted, in octets (RFC 1870 SIZE).
    public var maxMessageSize = 100 * 1024 * 1024
    public var maxRecipients = 1000
    /// RFC 5321 4.5.3.2.7: a server should wait at least 5 minutes for the next command.
    public var idleTimeout: TimeAmount = .minutes(5)
    /// Commands (other than NOOP-like ones) after which the connection is closed, against
    /// clients that loop.
    public var maxCommands = 10_000
    /// Offer CRAM-MD5: only where accounts keep CRAM-MD5 secrets (localserve); clients such as
    /// Python's smtplib pick it first when offered.
    public var offerCRAMMD5 = false
    /// Wrong passwords allowed per connection before it is closed.
    public var maxAuthFailures = 3
    /// Reject DATA with any bare LF, not only those around a lone dot.
    public var pedantic = false
    /// Connection rate and failed logins per network, shared with every other listener.
    public var clientLimits: ClientLimits
    /// Open connections in total and per address (mox allows 30 from one address).
    public var connectionLimits = ConnectionLimits()
    /// The mox.conf listener this service belongs to, for logs.
    public var listenerName = ""

    public init(hostname: String, listener: SMTPListenerKind, tls: ServerTLS?, clientLimits: ClientLimits) {
        self.hostname = hostname
        self.listener = listener
        self.tls = tls
        self.clientLimits = clientLimits
    }
}

/// Why a session stops reading.
enum SessionEnd: Error {
    case closed
}

final class SMTPConnection: @unchecked Sendable {
    // Used only by the connection's own task: no other synchronisation needed.
    let connection: MailConnection
    var channel: any Channel { self.connection.channel }
    let options: SMTPServerOptions
    let backend: any SMTPBackend
    var logger: Logger
    var lines = SMTPLineReader()
    var output: [UInt8] = []
    var client: SMTPClientInfo
    /// Command order, parameters and the transaction; this type adds I/O and policy.
    var session: SMTPSession

    var authFailures = 0
    /// The client's TLS certificate on a submission listener (RFC 4422 appendix A, EXTERNAL),
    /// and the user its public key logs in as (nil for a key nobody has).
    var clientCertificate: ClientCertificate?
    var certificateUser: SMTPAuthenticatedUser?
    var commands = 0
    /// The command being answered and when it came, for mox_smtpserver_command_duration_seconds
    /// (empty for the greeting).
    var metricCommand = ""
    /// The SASL mechanism of the AUTH under way, lowercased, for mox_authentication_total.
    var authVariant = ""
    var commandStarted = ContinuousClock.now
    /// The backend's routes of the accepted recipients, in the transaction's order.
    var routes: [any Sendable] = []
    /// The file the message being received goes into (DATA, or the BDAT chunks so far); nil
    /// between transactions, and when it could not be created (the transaction then fails with
    /// a 451 once the client's data has been read).
    var spool: MessageSpool?
    var spoolFailure: String?
    /// What the bytes read and written now are, for the protocol trace: message data during DATA
    /// and BDAT, credentials during an AUTH exchange.
    var traceKind = TraceKind.plain
    /// The server is stopping: the transaction under way may finish, then the connection closes.
    var stopping = false

    init(connection: MailConnection, options: SMTPServerOptions, backend: any SMTPBackend, logger: Logger) {
        self.connection = connection
        self.options = options
        self.backend = backend
        var logger = logger
        logger[metadataKey: "cid"] = "\(String(connection.id, radix: 16))"
        self.logger = logger
        let tls = options.listener == .submissions
        self.client = SMTPClientInfo(
            listener: options.listener,
            remoteIP: connection.remoteIP,
            localIP: connection.localIP,
            hello: "",
            tls: tls
        )
        self.client.connectionID = String(connection.id, radix: 16)
        self.client.listenerName = options.listenerName
        self.session = SMTPSession(
            config: SMTPSessionConfig(
                hostname: options.hostname,
                requireAuth: options.listener.isSubmission,
                parserOptions: SMTPParserOptions(pedantic: options.pedantic),
                rejectAllBareLF: options.pedantic
            ),
            tlsActive: tls
        )
        self.session.config.extensions = self.extensions
    }

    /// What EHLO offers on this listener in the connection's current state.
    var extensions: SMTPExtensions {
        var e = SMTPExtensions()
        e.size = self.options.maxMessageSize
        e.startTLS = self.options.tls != nil && self.options.offerSTARTTLS
        e.requireTLS = self.options.offerREQUIRETLS
        e.chunking = true
        e.rcptMax = self.options.maxRecipients
        if self.options.listener.isSubmission {
            e.dsn = true
            if self.authAllowed {
                // EXTERNAL only when the client presented a certificate, as mox does.
                e.authMechanisms = (self.clientCertificate != nil ? ["EXTERNAL"] : []) + self.mechanisms.map(\.rawValue)
            }
        }
        return e
    }

    /// RFC 4954 4 / RFC 8314: credentials only over TLS, unless configured otherwise.
    var authAllowed: Bool {
        self.client.tls || !self.options.requireTLSForSubmission
    }

    var mechanisms: [SASLMechanism] {
        var list: [SASLMechanism] = []
        if self.client.tls && self.options.tls != nil {
            list += [.scramSHA256Plus, .scramSHA1Plus]
        }
        list += [.scramSHA256, .scramSHA1]
        if self.options.offerCRAMMD5 {
            list.append(.cramMD5)
        }
        list += [.plain, .login]
        return list
    }

    // MARK: - Running

    func run(admission: Admission) async {
        self.logger.info(
            "new connection",
            metadata: [
                "remote": "\(self.connection.remoteIP):\(self.connection.remotePort)",
                "local": "\(self.connection.localIP):\(self.connection.localPort)",
                "submission": "\(self.options.listener.isSubmission)",
                "tls": "\(self.options.listener == .submissions)",
                "viahttps": "false",
                "listener": "\(self.options.listenerName)",
            ]
        )
        let kind = self.options.listener.isSubmission ? "submission" : "smtp"
        MoxMetrics.smtpConnection(kind: kind)
        MoxMetrics.connectionOpened(protocol: "smtp", listener: self.options.listenerName)
        await self.serve(admission: admission)
        MoxMetrics.connectionClosed(protocol: "smtp", listener: self.options.listenerName)
        if let failure = self.connection.failure {
            self.connection.failureLogged = true
            self.logger.info("connection closed", metadata: ["err": "\(failure)"])
        } else {
            self.logger.info("connection closed")
        }
    }

    func serve(admission: Admission) async {
        do {
            switch admission {
            case .admitted:
                break
            case .tooManyConnections, .tooManyFromAddress:
                // mox's reply when a network has too many connections open.
                self.reply(SMTPReply(421, EnhancedCode(class: 4, subject: 7, detail: 0), "too many open connections from your ip or network"))
                await self.flush()
                self.close()
                return
            }
            if self.options.listener == .submissions {
                try await self.waitForTLS()
                await self.readClientCertificate()
                self.session.config.extensions = self.extensions
            }
            if let refusal = self.connectionRefusal() {
                self.reply(refusal)
                await self.flush()
                self.close()
                return
            }
            // RFC 5321 4.2: the greeting names the server.
            self.reply(SMTPReply(code: 220, enhanced: nil, lines: ["\(self.options.hostname) ESMTP mox"]))
            while true {
                let line = try await self.nextLine()
                try await self.handle(line)
            }
        } catch {
            // Closed by the peer, a timeout or QUIT: the reply (if any) has been queued.
        }
        await self.flush()
        self.close()
    }

    func close() {
        self.channel.close(promise: nil)
    }

    /// mox's replies for a network that opens connections too fast, and on submission for one
    /// with too many failed logins (on any protocol).
    func connectionRefusal() -> SMTPReply? {
        let ip = self.client.remoteIP
        if !self.options.clientLimits.connections.add(ip) {
            // RFC 5321 3.8: 421 and close when the server cannot serve the client now.
            return SMTPReply(421, EnhancedCode(class: 4, subject: 7, detail: 0), "connection rate from your ip or network too high, slow down please")
        }
        if self.options.listener.isSubmission, !self.options.clientLimits.failedLogins.allowed(ip) {
            MoxMetrics.authenticationRateLimited(kind: "submission")
            return .tooManyAuthFailures
        }
        return nil
    }

    // MARK: - Input and output

    /// Queues a reply; replies are sent when the session waits for input, so pipelined commands
    /// get their replies in one write (RFC 2920 3.2).
    func reply(_ reply: SMTPReply) {
        self.output += reply.encoded()
        MoxMetrics.smtpCommand(
            kind: self.options.listener.isSubmission ? "submission" : "smtp",
            command: self.metricCommand,
            code: reply.code,
            enhancedCode: reply.enhanced.map { "\($0)" } ?? "",
            seconds: self.commandStarted.duration(to: .now).seconds
        )
    }

    static let metricCommands: Set<String> = [
        "helo", "ehlo", "starttls", "auth", "mail", "rcpt", "data", "bdat", "rset", "vrfy", "expn", "help", "noop",
        "quit",
    ]

    /// The command's lowercased name for metrics: a known one, or "(unknown)".
    static func metricName(_ line: [UInt8]) -> String {
        let word = line.prefix(while: { $0 != UInt8(ascii: " ") }).prefix(8)
        let name = String(decoding: word, as: UTF8.self).lowercased()
        return Self.metricCommands.contains(name) ? name : "(unknown)"
    }

    func flush() async {
        guard !self.output.isEmpty else { return }
        self.logger.traceProtocol("LS: ", self.output, kind: self.traceKind == .auth ? .auth : .plain)
        let buffer = self.channel.allocator.buffer(bytes: self.output)
        self.output.removeAll(keepingCapacity: true)
        await self.connection.write(buffer)
    }

    /// The next input bytes; flushes queued replies first.
    func nextBytes() async throws(SessionEnd) -> [UInt8] {
        await self.flush()
        if self.stopping && self.session.transaction == nil {
            self.reply(.shuttingDown(hostname: self.options.hostname))
            throw .closed
        }
        while true {
            guard let event = await self.connection.next() else {
                throw .closed
            }
            switch event {
            case .bytes(let buffer):
                return Array(buffer.readableBytesView)
            case .tlsReady, .wakeup:
                continue
            case .idleTimeout:
                // RFC 5321 4.5.3.2: the server may close after its timeout, with a 421.
                self.reply(SMTPReply(421, EnhancedCode(class: 4, subject: 4, detail: 2), "timeout, closing connection"))
                throw .closed
            case .shutdown:
                // RFC 5321 3.8: 421 when the service shuts down; a transaction under way may
                // finish first (its message is then stored and acknowledged, or refused).
                if self.session.transaction != nil {
                    self.stopping = true
                    continue
                }
                self.reply(.shuttingDown(hostname: self.options.hostname))
                throw .closed
            case .shutdownNow:
                // The grace period is over. A message being received is dropped whole: nothing
                // is stored before all of it has arrived.
                self.reply(.shuttingDown(hostname: self.options.hostname))
                throw .closed
            }
        }
    }

    func nextLine() async throws(SessionEnd) -> [UInt8] {
        while true {
            switch self.lines.next() {
            case .line(let line):
                // Traced per command line (and per piece of message data in the receivers), so
                // message data read together with a BDAT command is not shown as a command.
                if self.logger.logLevel <= .trace {
                    let kind = self.traceKind == .plain && Self.carriesCredentials(line) ? .auth : self.traceKind
                    self.logger.traceProtocol("RC: ", line + [13, 10], kind: kind)
                }
                return line
            case .tooLong:
                try self.perform(self.session.lineTooLong())
            case .needMoreData:
                self.lines.append(try await self.nextBytes())
            }
        }
    }

    func waitForTLS() async throws(SessionEnd) {
        while true {
            guard let event = await self.connection.next() else { throw .closed }
            switch event {
            case .tlsReady:
                return
            case .bytes, .wakeup:
                // Plaintext sent before the handshake (pipelined after STARTTLS) is dropped.
                continue
            case .idleTimeout, .shutdown, .shutdownNow:
                throw .closed
            }
        }
    }

    /// Carries out the replies of the session; throws when the connection must close.
    func perform(_ action: SMTPSessionAction) throws(SessionEnd) {
        switch action {
        case .reply(let reply):
            self.reply(reply)
        case .replyAndClose(let reply):
            self.reply(reply)
            throw .closed
        default:
            // Only replies reach here: the other actions are handled in `handle`.
            self.reply(SMTPReply(451, .systemOther, "internal error"))
            throw .closed
        }
    }

    // MARK: - Commands

    func handle(_ line: [UInt8]) async throws(SessionEnd) {
        self.commands += 1
        self.metricCommand = Self.metricName(line)
        self.commandStarted = .now
        if self.commands > self.options.maxCommands {
            self.reply(SMTPReply(421, EnhancedCode(class: 4, subject: 7, detail: 0), "too many commands, closing"))
            throw .closed
        }
        if self.options.listener.isSubmission && !self.authAllowed && Self.isAuthCommand(line) {
            // RFC 4954 4 / RFC 3207: credentials only after STARTTLS.
            self.reply(.authRequiresTLS)
            return
        }
        var action = self.session.receive(line: line)
        while true {
            switch action {
            case .reply, .replyAndClose:
                try self.perform(action)
                return
            case .checkSender(let path, let parameters):
                action = await self.checkSender(path, parameters)
            case .checkRecipient(let path, let parameters):
                action = await self.checkRecipient(path, parameters)
            case .receiveData(let reply):
                self.reply(reply)
                action = self.session.dataReceived(try await self.receiveData())
            case .receiveChunk(let size, _):
                if self.session.transaction?.chunkedSize == 0 {
                    self.startSpool()
                }
                try await self.receiveChunk(size: size, into: self.spool)
                action = self.session.chunkReceived()
            case .discardChunk(let size, let reply):
                try await self.receiveChunk(size: size, into: nil)
                self.spool = nil
                action = .reply(reply)
            case .startTLS(let reply):
                try await self.startTLS(reply)
                return
            case .authenticate(let mechanism, let initialResponse):
                action = try await self.authenticate(mechanism: mechanism, initialResponse: initialResponse)
            case .deliver(let transaction):
                await self.deliver(transaction)
                return
            }
        }
    }

    /// Whether a command line is AUTH with an initial response (RFC 4954 4), which a trace
    /// shows only at traceauth.
    static func carriesCredentials(_ line: [UInt8]) -> Bool {
        let words = line.split(separator: UInt8(ascii: " "), omittingEmptySubsequences: true)
        return words.count >= 3 && words[0].count == 4 && String(decoding: words[0], as: UTF8.self).uppercased() == "AUTH"
    }

    static func isAuthCommand(_ line: [UInt8]) -> Bool {
        line.count >= 4 && String(decoding: line.prefix(5), as: UTF8.self).uppercased().hasPrefix("AUTH")
            && (line.count == 4 || line[4] == UInt8(ascii: " "))
    }

    // MARK: STARTTLS (RFC 3207)

    func startTLS(_ reply: SMTPReply) async throws(SessionEnd) {
        guard let tls = self.options.tls else {
            self.reply(.badSequence("starttls not offered"))
            return
        }
        if !self.options.listener.isSubmission { MoxMetrics.smtpDeliverySTARTTLS() }
        // RFC 3207 4.2 / CVE-2011-0411: anything the client pipelined after STARTTLS was sent in
        // the clear and must not be taken as commands of the encrypted session.
        _ = self.lines.takeBuffered()
        await self.flush()
        // The 220 and the TLS handler go in one event-loop step: the client sends its ClientHello
        // as soon as it reads the 220, and that must find the TLS handler in place.
        let channel = self.channel
        let go = reply.encoded()
        do {
            try await channel.eventLoop.submit {
                channel.writeAndFlush(channel.allocator.buffer(bytes: go), promise: nil)
                try channel.pipeline.syncOperations.addHandler(
                    tls.makeHandler(),
                    position: .first
                )
            }.get()
        } catch {
            throw .closed
        }
        try await self.waitForTLS()
        _ = self.lines.takeBuffered()
        // RFC 3207 4.2: the session starts over; the client must send EHLO again.
        self.client.tls = true
        self.client.hello = ""
        if self.options.listener.isSubmission {
            await self.readClientCertificate()
        }
        self.session.tlsStarted()
        self.session.config.extensions = self.extensions
    }

    // MARK: MAIL, RCPT

    func checkSender(_ path: ReversePath, _ parameters: MailParameters) async -> SMTPSessionAction {
        self.client.hello = self.session.helloHost?.formatted ?? ""
        if self.options.listener == .smtp && self.options.requireSTARTTLSForMail && !self.client.tls {
            return self.session.senderRejected(SMTPReply(530, .policyOther, "STARTTLS required for mail delivery"))
        }
        if let refusal = await self.backend.checkMailFrom(self.client, path, parameters) {
            return self.session.senderRejected(refusal)
        }
        self.routes = []
        self.spool = nil
        return self.session.senderAccepted(
            SMTPReply(250, EnhancedCode(class: 2, subject: 1, detail: 0), "looking good")
        )
    }

    func checkRecipient(_ path: ForwardPath, _ parameters: RcptParameters) async -> SMTPSessionAction {
        guard let from = self.session.transaction?.reversePath else {
            return self.session.recipientRejected(.badSequence("missing MAIL FROM"))
        }
        switch await self.backend.checkRecipient(self.client, path, parameters, mailFrom: from) {
        case .accept(let route):
            self.routes.append(route)
            return self.session.recipientAccepted(
                SMTPReply(250, EnhancedCode(class: 2, subject: 1, detail: 5), "now on the list")
            )
        case .reject(let reply):
            if !self.options.listener.isSubmission, reply.enhanced == EnhancedCode(class: 5, subject: 1, detail: 1) {
                MoxMetrics.smtpDelivery(result: "unknownuser", reason: "")
            }
            return self.session.recipientRejected(reply)
        }
    }

    // MARK: DATA, BDAT

    /// A new temporary file for the message of this transaction.
    func startSpool() {
        self.spoolFailure = nil
        do {
            self.spool = try self.backend.makeSpool()
        } catch {
            self.spool = nil
            self.spoolFailure = "\(error)"
        }
    }

    /// Reads the message after DATA until the end marker into the transaction's file, as it
    /// arrives; pipelined input after it stays for the next commands.
    func receiveData() async throws(SessionEnd) -> DataReceiver.Outcome {
        self.traceKind = .data
        defer { self.traceKind = .plain }
        var receiver = self.session.makeDataReceiver()
        self.startSpool()
        var input = self.lines.takeBuffered()
        while true {
            let out = receiver.feed(input)
            self.logger.traceProtocol("RC: ", out.data, kind: .data)
            self.spool?.append(out.data)
            if out.isComplete {
                self.lines.append(out.leftover)
                break
            }
            input = try await self.nextBytes()
        }
        guard let outcome = receiver.outcome else {
            throw .closed
        }
        if outcome.rejection != nil {
            self.spool = nil
        }
        return outcome
    }

    /// Reads exactly `size` octets following a BDAT command (RFC 3030 2) into `spool`, or drops
    /// them when it is nil.
    func receiveChunk(size: Int, into spool: MessageSpool?) async throws(SessionEnd) {
        self.traceKind = .data
        defer { self.traceKind = .plain }
        var receiver = BDATReceiver(size: size)
        var input = self.lines.takeBuffered()
        while true {
            let out = receiver.feed(input)
            self.logger.traceProtocol("RC: ", out.data, kind: .data)
            spool?.append(out.data)
            if out.isComplete {
                self.lines.append(out.leftover)
                return
            }
            input = try await self.nextBytes()
        }
    }

    /// Lets the backend check and deliver the received message, and replies.
    func deliver(_ transaction: SMTPTransaction) async {
        let spool = self.spool
        self.spool = nil
        let recipients = zip(transaction.recipients, self.routes).map {
            SMTPAcceptedRecipient(path: $0.path, parameters: $0.parameters, route: $1)
        }
        self.routes = []
        let envelope = SMTPEnvelope(
            mailFrom: transaction.reversePath,
            mailParameters: transaction.parameters,
            recipients: recipients
        )
        let message: SpooledMessage
        do {
            guard let spool else {
                throw SpoolError(operation: "create", path: self.spoolFailure ?? "spool file", errno: 0)
            }
            message = try spool.finish()
        } catch {
            self.reply(SMTPReply(451, EnhancedCode(class: 4, subject: 3, detail: 0), "error storing message, try again later"))
            return
        }
        if let refusal = await self.backend.checkMessage(self.client, envelope, message: message) {
            self.reply(refusal)
            return
        }
        let trace = SMTPReceivedTrace(
            client: self.client,
            hostname: self.options.hostname,
            smtputf8: transaction.parameters.smtputf8,
            extended: self.session.isExtended
        )
        let results = await self.backend.deliver(self.client, envelope, message: message, received: trace)
        // Incoming deliveries are counted by the backend, which knows why a message was refused.
        if self.options.listener.isSubmission {
            MoxMetrics.smtpSubmission(result: results.allSatisfy { $0 == nil } ? "ok" : "queueerror")
        }
        self.reply(Self.transactionReply(recipients, results))
    }

    /// One reply for the whole message (SMTP has no per-recipient replies after DATA).
    static func transactionReply(_ recipients: [SMTPAcceptedRecipient], _ results: [SMTPDeliveryResult]) -> SMTPReply {
        let failures = results.compactMap { $0 }
        if failures.isEmpty {
            return SMTPReply(250, EnhancedCode(class: 2, subject: 0, detail: 0), "it is done")
        }
        if failures.count == results.count {
            // All recipients failed: their common reply when they agree, else each on a line.
            if failures.allSatisfy({ $0.code == failures[0].code && $0.enhanced == failures[0].enhanced }) {
                return SMTPReply(
                    code: failures[0].code,
                    enhanced: failures[0].enhanced,
                    lines: failures.flatMap(\.lines)
                )
            }
            let permanent = failures.contains { $0.code >= 500 }
            var lines = failures.map { "\($0.code) \($0.enhanced.map { "\($0) " } ?? "")\($0.text)" }
            lines.append("multiple errors")
            return SMTPReply(
                code: permanent ? 554 : 451,
                enhanced: EnhancedCode(class: permanent ? 5 : 4, subject: 3, detail: 0),
                lines: lines
            )
        }
        // Some recipients got the message: accept it, and say which ones failed.
        var lines = ["delivered to \(results.count - failures.count) of \(results.count) recipients"]
        for (recipient, result) in zip(recipients, results) {
            if let result {
                lines.append("not delivered to \(recipient.path): \(result.code) \(result.text)")
            }
        }
        return SMTPReply(code: 250, enhanced: EnhancedCode(class: 2, subject: 0, detail: 0), lines: lines)
    }
}

