// One IMAP connection: reads command frames, parses them, carries them out over the store and
// answers. The session is one async function per connection; the grammar comes from
// IMAPProtocol. Responses queue in an encoder and are written when the session waits for input
// (or sooner, for large FETCH results), so pipelined commands share writes.

import IMAPProtocol
import Logging
import MailLog
import MailMetrics
import MailNetwork
import MailSASL
import MailSpool
import MailStore
import MailTLS
import NIOCore
import NIOSSL
import Synchronization

/// Why a session stops.
enum SessionEnd: Error {
    case closed
}

/// The result of a command: the tagged response.
struct Completion: Error {
    enum Status: String {
        case ok = "OK"
        case no = "NO"
        case bad = "BAD"
    }

    var status: Status
    /// A response code without brackets, e.g. "TRYCREATE" or "APPENDUID 1 5".
    var code: String?
    var text: String
    /// The command sent its tagged response itself (STARTTLS, before the handshake).
    var alreadySent = false

    static let alreadySent = Completion(status: .ok, code: nil, text: "", alreadySent: true)

    static func ok(_ text: String, code: String? = nil) -> Completion { Completion(status: .ok, code: code, text: text) }
    static func no(_ text: String, code: String? = nil) -> Completion { Completion(status: .no, code: code, text: text) }
    static func bad(_ text: String, code: String? = nil) -> Completion {
        Completion(status: .bad, code: code, text: text)
    }
}

/// Changes published by the store, waiting to be shown to the client. The account's change
/// stream is forwarded here by a task; the session takes them when IMAP allows it.
final class ChangeQueue: Sendable {
    private struct State {
        var events: [ChangeEvent] = []
        var wakeupPending = false
    }
    private let state = Mutex(State())

    /// Adds events; returns whether the session should be woken (no wakeup is pending).
    @discardableResult
    func append(_ events: [ChangeEvent]) -> Bool {
        self.state.withLock { state in
            state.events += events
            defer { state.wakeupPending = true }
            return !state.wakeupPending
        }
    }

    func take() -> [ChangeEvent] {
        self.state.withLock { state in
            defer {
                state.events = []
                state.wakeupPending = false
            }
            return state.events
        }
    }
}

final class IMAPConnection: @unchecked Sendable {
    enum State {
        case notAuthenticated
        case authenticated
        case selected
    }

    // Used only by the connection's own task.
    let connection: MailConnection
    var channel: any Channel { self.connection.channel }
    let options: IMAPServerOptions
    let backend: any IMAPBackend
    var logger: Logger
    let remoteIP: String
    var reader: IMAPFrameReader
    var out: IMAPResponseEncoder
    /// The buffer output is sent in, kept between flushes: once a write completes NIO holds no
    /// reference to it, and its room is used again instead of allocating one per chunk of a
    /// large FETCH.
    var sendBuffer: ByteBuffer?
    var tls: Bool
    var state = State.notAuthenticated
    var user: IMAPUser?
    var account: Account?
    var subscription: ChangeSubscription?
    let changes = ChangeQueue()
    var selected: SelectedMailbox?
    /// Changes of the selected mailbox that could not be shown yet (expunges during FETCH,
    /// STORE and SEARCH, RFC 9051 7.5.1), in order, ahead of newer ones.
    var heldChanges: [ChangeEvent] = []
    /// NOTIFY's settings (RFC 5465); nil before the first NOTIFY command.
    var notify: NotifySettings?
    /// Changes taken by SELECT before NOTIFY told the client about other mailboxes' ones.
    var pendingForOthers: [ChangeEvent] = []
    /// The changes the running command made itself, which NOTIFY does not report back
    /// (RFC 5465 5); cleared when the command's changes have been shown.
    var ownChanges: [(ChangeEvent) -> Bool] = []
    /// Files the large message literals of the command being read streamed into, in order
    /// (see `IMAPFrameReader.Next.literalStart`); emptied after each command.
    var streamedLiterals: [MessageSpool] = []
    /// Set when a streamed literal's file could not be made: its data is read and dropped.
    var spoolFailed = false
    /// The command being carried out writes message data (FETCH bodies): its output is traced at
    /// tracedata. Cleared when the command completes.
    var outputHasMessageData = false
    /// The input being read is SASL data (AUTHENTICATE): traced at traceauth.
    var readingCredentials = false
    /// ENABLEd extensions (RFC 5161), upper case.
    var enabled: Set<String> = []
    /// CONDSTORE is on for this connection: MODSEQ goes into FETCH responses (RFC 7162 3.1).
    var condstore = false
    var authFailures = 0
    /// The SASL mechanism (or "login") of the login under way, for mox_authentication_total.
    var authVariant = ""
    /// The UIDs saved by SEARCH RETURN (SAVE), for "$" (RFC 5182).
    var savedResult: [UInt32] = []
    /// COMPRESS=DEFLATE is active (RFC 4978).
    var compressed = false
    /// The client's TLS certificate (RFC 4422 appendix A, EXTERNAL), and the user its public key
    /// logs in as, with whether the connection may start authenticated (PREAUTH).
    var clientCertificate: ClientCertificate?
    var certificateUser: (user: IMAPUser, preauth: Bool)?
    /// Flag list texts of keyword-less messages, by flag bits (see `flagNames`).
    var flagTexts: [Int64: String] = [:]
    /// When input last arrived, and the inactivity limit in force (see `setIdleTimeout`).
    var lastInput = ContinuousClock.now
    var currentTimeout: Duration

    init(connection: MailConnection, options: IMAPServerOptions, backend: any IMAPBackend, logger: Logger) {
        self.connection = connection
        self.options = options
        self.backend = backend
        var logger = logger
        logger[metadataKey: "cid"] = "\(String(connection.id, radix: 16))"
        self.logger = logger
        self.remoteIP = connection.remoteIP
        self.reader = IMAPFrameReader(limits: options.limits)
        self.out = IMAPResponseEncoder()
        self.tls = options.implicitTLS
        self.currentTimeout = .nanoseconds(options.preAuthTimeout.nanoseconds)
    }

    var utf8Accept: Bool { self.enabled.contains("UTF8=ACCEPT") }
    /// RFC 7162 3.2: QRESYNC is enabled (VANISHED instead of EXPUNGE).
    var qresync: Bool { self.enabled.contains("QRESYNC") }
    /// RFC 9586: UIDONLY is enabled: no sequence numbers in commands or responses.
    var uidOnly: Bool { self.enabled.contains("UIDONLY") }
    var rev2: Bool { self.enabled.contains("IMAP4REV2") }

    // MARK: - Capabilities

    /// RFC 9051 7.2.2: what the server supports in the connection's current state.
    var capabilities: [String] {
        var caps = ["IMAP4rev2", "IMAP4rev1"]
        let beforeTLS = !self.tls && self.options.tls != nil
        if self.state == .notAuthenticated {
            if beforeTLS {
                caps.append("STARTTLS")
            }
            if self.authAllowed {
                caps += self.mechanisms.map { "AUTH=\($0.rawValue)" }
                // RFC 4422 appendix A: with a client certificate, as mox offers it.
                if self.tls && self.clientCertificate != nil { caps.append("AUTH=EXTERNAL") }
            } else {
                // RFC 9051 6.2.3: LOGIN (and AUTHENTICATE) refused until TLS is active.
                caps.append("LOGINDISABLED")
            }
        }
        caps += [
            "ENABLE", "IDLE", "NAMESPACE", "ID", "UIDPLUS", "MOVE", "UNSELECT", "LITERAL+", "SASL-IR", "CHILDREN",
            "SPECIAL-USE", "CREATE-SPECIAL-USE", "LIST-EXTENDED", "LIST-STATUS", "STATUS=SIZE", "ESEARCH",
            "SEARCHRES", "CONDSTORE", "QRESYNC", "BINARY", "UTF8=ACCEPT", "APPENDLIMIT=\(self.options.limits.maxAppendLiteralSize)",
            "MULTIAPPEND", "PREVIEW", "UNAUTHENTICATE", "QUOTA", "QUOTA=RES-STORAGE", "REPLACE", "METADATA", "SAVEDATE", "UIDONLY",
            "NOTIFY",
        ]
        if !self.compressed {
            caps.append("COMPRESS=DEFLATE")
        }
        return caps
    }

    /// RFC 8314, RFC 9051 6.2.3: credentials only over TLS, unless configured otherwise.
    var authAllowed: Bool {
        self.tls || !self.options.requireTLSForAuth
    }

    var mechanisms: [SASLMechanism] {
        var list: [SASLMechanism] = []
        if self.tls && self.options.tls != nil {
            list += [.scramSHA256Plus, .scramSHA1Plus]
        }
        list += [.scramSHA256, .scramSHA1]
        if self.options.offerCRAMMD5 {
            list.append(.cramMD5)
        }
        list.append(.plain)
        return list
    }

    // MARK: - Running

    func run(admission: Admission) async {
        self.logger.info(
            "new connection",
            metadata: [
                "remote": "\(self.connection.remoteIP):\(self.connection.remotePort)",
                "local": "\(self.connection.localIP):\(self.connection.localPort)",
                "tls": "\(self.options.implicitTLS)",
                "viahttps": "false",
                "listener": "\(self.options.listenerName)",
            ]
        )
        MoxMetrics.imapConnection(service: self.options.implicitTLS ? "imaps" : "imap")
        MoxMetrics.connectionOpened(protocol: "imap", listener: self.options.listenerName)
        await self.serve(admission: admission)
        MoxMetrics.connectionClosed(protocol: "imap", listener: self.options.listenerName)
        if let failure = self.connection.failure {
            self.connection.failureLogged = true
            self.logger.info("connection closed", metadata: ["err": "\(failure)"])
        } else {
            self.logger.info("connection closed")
        }
    }

    func serve(admission: Admission) async {
        do {
            if admission != .admitted {
                // mox's text when a network has too many connections open.
                self.line("* BYE too many open connections from your ip or network")
                await self.flush()
                self.close()
                return
            }
            if self.options.implicitTLS {
                try await self.waitForTLS()
                await self.readClientCertificate()
            }
            if !self.options.clientLimits.connections.add(self.remoteIP) {
                self.line("* BYE connection rate from your ip or network too high, slow down please")
                await self.flush()
                self.close()
                return
            }
            if !self.options.clientLimits.failedLogins.allowed(self.remoteIP) {
                // mox's answer to a network with too many failed logins, on any protocol.
                self.line("* BYE too many auth failures")
                await self.flush()
                self.close()
                return
            }
            if let (user, preauth) = self.certificateUser, preauth,
                case .ok = await self.loggedIn(user).status
            {
                // RFC 9051 7.1.4: the TLS client certificate logged the connection in already.
                self.line("* PREAUTH [CAPABILITY \(self.capabilities.joined(separator: " "))] mox imap, authenticated as \(user.username)")
            } else {
                // RFC 9051 7.1.1: the greeting, with the capabilities to save a round trip.
                self.line("* OK [CAPABILITY \(self.capabilities.joined(separator: " "))] mox imap")
            }
            while true {
                let frame = try await self.nextFrame()
                if self.overBufferLimit {
                    self.line("* BYE too many commands sent without reading the responses")
                    throw SessionEnd.closed
                }
                if self.spoolFailed {
                    self.spoolFailed = false
                    self.streamedLiterals = []
                    self.tagged(IMAPFrameReader.tag(of: frame) ?? "*", .no("cannot store message now", code: "SERVERBUG"))
                    continue
                }
                try await self.execute(frame)
                self.streamedLiterals = []
            }
        } catch {
            // Closed by the peer, a timeout, a shutdown or LOGOUT: what had to be said is queued.
        }
        await self.flush()
        self.close()
    }

    func close() {
        self.subscription?.cancel()
        self.subscription = nil
        self.channel.close(promise: nil)
    }

    // MARK: - Output

    /// Queues one response line; `text` gets its CRLF.
    func line(_ text: String) {
        self.out.write(text)
        self.out.writeCRLF()
    }

    func flush() async {
        guard !self.out.bytes.isEmpty else { return }
        self.logger.traceProtocol("S: ", self.out.bytes, kind: self.outputHasMessageData ? .data : .plain)
        var buffer = self.sendBuffer.take() ?? self.channel.allocator.buffer(capacity: self.out.bytes.count)
        buffer.clear()
        buffer.writeBytes(self.out.bytes)
        // The bytes keep their room up to a few MB, so a large FETCH does not grow them anew
        // after every flush.
        self.out.bytes.removeAll(keepingCapacity: self.out.bytes.count <= 4 * 1024 * 1024)
        await self.connection.write(buffer)
        // Kept for the next flush while modest; a buffer grown by an unusually large response
        // goes back to the system.
        if buffer.capacity <= 4 * 1024 * 1024 { self.sendBuffer = buffer }
    }

    /// Writes what is queued when it has grown large, so a big FETCH streams. The chunk stays
    /// below the allocator's threshold for separate mappings (128 KiB), so its buffers come from
    /// the heap and are used again instead of being mapped and faulted in for every chunk.
    func flushIfLarge() async {
        if self.out.bytes.count >= 96 * 1024 {
            await self.flush()
        }
    }

    func tagged(_ tag: String, _ c: Completion) {
        var text = "\(tag) \(c.status.rawValue) "
        if let code = c.code {
            text += "[\(code)] "
        }
        text += c.text
        self.line(text)
    }

    // MARK: - Input

    /// The next event; queued output is written first. Store changes are kept for later.
    func nextEvent() async throws(SessionEnd) -> ConnectionEvent {
        await self.flush()
        guard let event = await self.connection.next() else { throw .closed }
        if case .bytes = event { self.lastInput = ContinuousClock.now }
        switch event {
        case .idleTimeout:
            // A timer that fired before its replacement at login, or while a slow command ran
            // after the client's last input, is not inactivity.
            if ContinuousClock.now - self.lastInput < self.currentTimeout {
                return .wakeup
            }
            // RFC 9051 5.4: the server may close an inactive connection, with BYE.
            self.line("* BYE autologout, inactivity timeout")
            throw .closed
        case .shutdown, .shutdownNow:
            self.line("* BYE server shutting down")
            throw .closed
        default:
            return event
        }
    }

    /// The next complete command frame, answering continuation requests and refused literals.
    func nextFrame() async throws(SessionEnd) -> IMAPFrame {
        while true {
            switch self.reader.next() {
            case .frame(let frame):
                if self.logger.logLevel <= .trace {
                    self.logger.traceProtocol("C: ", Self.wireForm(frame), kind: Self.traceKind(of: frame))
                }
                return frame
            case .sendContinuation:
                // RFC 9051 7.5: the client waits for this before sending a synchronizing literal.
                self.line("+ ")
            case .literalStart:
                do {
                    self.streamedLiterals.append(try self.backend.makeSpool())
                } catch {
                    self.spoolFailed = true
                }
            case .literalData(let piece):
                if !self.spoolFailed { self.streamedLiterals.last?.append(piece) }
            case .needMoreData:
                switch try await self.nextEvent() {
                case .bytes(let buffer):
                    self.reader.append(buffer.readableBytesView)
                case .wakeup:
                    // RFC 5465 3.1: with NOTIFY the client listens between commands too.
                    await self.pushChangesBetweenCommands()
                default:
                    continue
                }
            case .error(let error):
                try self.refused(error)
            }
        }
    }

    /// A frame as the client sent it, for the protocol trace (streamed literals left out).
    static func wireForm(_ frame: IMAPFrame) -> [UInt8] {
        var out: [UInt8] = []
        for (i, line) in frame.lines.enumerated() {
            out += line + [13, 10]
            if i < frame.literals.count { out += frame.literals[i] }
        }
        return out
    }

    /// LOGIN and AUTHENTICATE with an initial response carry credentials; APPEND and REPLACE
    /// carry a message.
    static func traceKind(of frame: IMAPFrame) -> TraceKind {
        let words = (frame.lines.first ?? []).split(separator: UInt8(ascii: " "), maxSplits: 3).map {
            String(decoding: $0, as: UTF8.self).uppercased()
        }
        guard words.count >= 2 else { return .plain }
        let command = words[1] == "UID" && words.count >= 3 ? words[2] : words[1]
        switch command {
        case "LOGIN": return .auth
        case "AUTHENTICATE": return words.count >= 4 ? .auth : .plain
        case "APPEND", "REPLACE": return .data
        default: return .plain
        }
    }

    /// Whether the buffered input is over the limit: more than a maximal command plus the
    /// pipelining allowance. Checked before each command is carried out.
    var overBufferLimit: Bool {
        self.reader.bufferedCount > self.options.limits.maxAppendLiteralSize + self.options.limits.maxLineLength
            + self.options.maxPipelinedBytes
    }

    /// Answers input the frame reader refused; throws when the connection must close.
    func refused(_ error: IMAPFrameError) throws(SessionEnd) {
        let tag = error.tag ?? "*"
        switch error {
        case .lineTooLong:
            self.line("* BYE command line too long")
            throw .closed
        case .literalTooLarge(_, let size, _):
            // RFC 9051 7.1: TOOBIG for a literal over the limit; RFC 7889 for APPENDLIMIT.
            self.tagged(tag, .no("literal of \(size) octets is too large", code: "TOOBIG"))
        case .tooManyLiterals:
            self.tagged(tag, .bad("too many literals in one command"))
        case .literalMinusTooLarge:
            // RFC 7888 5: a LITERAL- non-synchronizing literal over 4096 octets.
            self.tagged(tag, .bad("non-synchronizing literal over 4096 octets", code: "TOOBIG"))
        }
        if error.isFatal {
            self.line("* BYE cannot continue after this command")
            throw .closed
        }
    }

    func waitForTLS() async throws(SessionEnd) {
        while true {
            guard let event = await self.connection.next() else { throw .closed }
            switch event {
            case .tlsReady: return
            case .bytes, .wakeup: continue
            case .idleTimeout, .shutdown, .shutdownNow: throw .closed
            }
        }
    }

    // MARK: - Commands

    var parserOptions: IMAPParserOptions {
        IMAPParserOptions(utf8Accept: self.utf8Accept, decodeModifiedUTF7: !self.utf8Accept, limits: self.options.limits)
    }

    func execute(_ frame: IMAPFrame) async throws(SessionEnd) {
        let started = ContinuousClock.now
        var metricResult = "ok"
        var metricName = "(unrecognized)"
        defer {
            let (seconds, attoseconds) = started.duration(to: .now).components
            MoxMetrics.imapCommand(
                command: metricName,
                result: metricResult,
                seconds: Double(seconds) + Double(attoseconds) / 1e18
            )
        }
        let command: IMAPCommand
        do {
            command = try IMAPCommandParser.parse(frame, options: self.parserOptions)
        } catch {
            metricResult = "badsyntax"
            if error.invalidMailboxName, let tag = error.tag {
                self.tagged(tag, .no(error.reason, code: "CANNOT"))
                return
            }
            // RFC 9051 7.1.5: BAD for a syntax error; the connection stays usable.
            self.tagged(error.tag ?? "*", .bad("syntax error: \(error.reason)"))
            return
        }
        let tag = command.tag
        if let refusal = self.stateRefusal(command.kind) {
            self.tagged(tag, refusal)
            return
        }
        if self.uidOnly && Self.usesSequenceNumbers(command.kind) {
            // RFC 9586 3: sequence numbers are not allowed once UIDONLY is enabled.
            self.tagged(tag, .bad("message sequence numbers are not allowed with UIDONLY", code: "UIDREQUIRED"))
            return
        }
        if self.state == .selected || self.notify != nil {
            // Pending changes first, so the command sees the mailbox as the client will.
            await self.pushChanges(allowExpunge: self.allowsExpunge(command.kind))
        }
        metricName = Self.metricName(frame)
        let completion: Completion
        do {
            completion = try await self.dispatch(command)
        } catch {
            metricResult = "ioerror"
            throw error
        }
        switch completion.status {
        case .ok: break
        case .bad: metricResult = "badsyntax"
        case .no: metricResult = completion.code == "SERVERBUG" || completion.code == "UNAVAILABLE" ? "servererror" : "usererror"
        }
        if self.state == .selected || self.notify != nil {
            // RFC 9051 7.4.1: no EXPUNGE during FETCH, STORE or SEARCH (sequence numbers must
            // stay valid for the client); other updates may go out with any command.
            await self.pushChanges(allowExpunge: self.allowsExpunge(command.kind))
        }
        self.ownChanges = []
        if !completion.alreadySent {
            self.tagged(tag, completion)
        }
        if self.outputHasMessageData {
            // The rest of the command's data goes out marked as data; what follows is not.
            await self.flush()
            self.outputHasMessageData = false
        }
    }

    /// The command's name for metrics, lowercased, with "uid" kept: "fetch", "uid fetch".
    static func metricName(_ frame: IMAPFrame) -> String {
        guard let line = frame.lines.first else { return "(unrecognized)" }
        let words = line.split(separator: UInt8(ascii: " "), maxSplits: 3, omittingEmptySubsequences: true)
        guard words.count >= 2 else { return "(unrecognized)" }
        let name = String(decoding: words[1].prefix(24), as: UTF8.self).lowercased()
        if name == "uid", words.count >= 3 {
            return "uid " + String(decoding: words[2].prefix(24), as: UTF8.self).lowercased()
        }
        return name
    }

    /// RFC 9051 3: which commands each state allows.
    func stateRefusal(_ kind: IMAPCommandKind) -> Completion? {
        switch kind {
        case .capability, .noop, .logout, .id, .unknown:
            return nil
        case .starttls, .authenticate, .login:
            return self.state == .notAuthenticated ? nil : .bad("already authenticated")
        case .enable, .select, .examine, .create, .delete, .rename, .subscribe, .unsubscribe, .list, .lsub,
            .namespace, .status, .append, .idle, .getMetadata, .setMetadata, .getQuota, .getQuotaRoot, .compress,
            .notify, .esearch:
            return self.state == .notAuthenticated ? .bad("not authenticated") : nil
        case .check, .close, .unselect, .expunge, .uidExpunge, .search, .fetch, .store, .copy, .move, .replace:
            switch self.state {
            case .notAuthenticated: return .bad("not authenticated")
            case .authenticated: return .bad("no mailbox selected")
            case .selected: return nil
            }
        }
    }

    /// Whether a command takes or returns message sequence numbers (RFC 9586 3).
    static func usesSequenceNumbers(_ kind: IMAPCommandKind) -> Bool {
        switch kind {
        case .fetch(let f): return !f.uid
        case .store(let s): return !s.uid
        case .copy(let uid, _, _), .move(let uid, _, _), .replace(let uid, _, _, _): return !uid
        case .search(let s): return !s.uid || Self.hasSequenceKey(s.key)
        default: return false
        }
    }

    static func hasSequenceKey(_ key: IMAPSearchKey) -> Bool {
        switch key {
        case .sequenceSet(let set):
            if case .searchResult = set { return false }
            return true
        case .not(let k): return Self.hasSequenceKey(k)
        case .or(let a, let b): return Self.hasSequenceKey(a) || Self.hasSequenceKey(b)
        case .and(let keys): return keys.contains(where: Self.hasSequenceKey)
        default: return false
        }
    }

    func allowsExpunge(_ kind: IMAPCommandKind) -> Bool {
        switch kind {
        case .fetch(let f): return f.uid
        case .store(let s): return s.uid
        case .search(let s): return s.uid
        case .copy(let uid, _, _), .move(let uid, _, _): return uid
        default: return true
        }
    }

    func dispatch(_ command: IMAPCommand) async throws(SessionEnd) -> Completion {
        switch command.kind {
        case .capability:
            self.line("* CAPABILITY " + self.capabilities.joined(separator: " "))
            return .ok("capability completed")
        case .noop, .check:
            return .ok("noop completed")
        case .logout:
            // RFC 9051 6.1.3: BYE, then the tagged OK, then close.
            self.line("* BYE logging out")
            self.tagged(command.tag, .ok("logout completed"))
            throw .closed
        case .id:
            // RFC 2971 3.1: the server's own ID, NIL fields left out.
            self.line("* ID (\"name\" \"mox\")")
            return .ok("id completed")
        case .unknown(let name):
            if name == "UNAUTHENTICATE" {
                return await self.unauthenticate()
            }
            return .bad("unknown command \(name)")
        case .starttls:
            return try await self.startTLS(tag: command.tag)
        case .login(let username, let password):
            return try await self.login(username: username, password: password)
        case .authenticate(let mechanism, let initialResponse):
            return try await self.authenticate(mechanism: mechanism, initialResponse: initialResponse)
        case .enable(let names):
            return self.enable(names)
        case .namespace:
            // RFC 2342 5: one personal namespace, no prefix, "/" as separator.
            self.line("* NAMESPACE ((\"\" \"/\")) NIL NIL")
            return .ok("namespace completed")
        case .select(let mailbox, let parameters):
            return await self.select(mailbox, parameters: parameters, readOnly: false)
        case .examine(let mailbox, let parameters):
            return await self.select(mailbox, parameters: parameters, readOnly: true)
        case .create(let mailbox, let specialUse):
            return await self.create(mailbox, specialUse: specialUse)
        case .delete(let mailbox):
            return await self.delete(mailbox)
        case .rename(let from, let to):
            return await self.rename(from, to)
        case .subscribe(let mailbox):
            return await self.subscribe(mailbox, true)
        case .unsubscribe(let mailbox):
            return await self.subscribe(mailbox, false)
        case .list(let list):
            return await self.list(list)
        case .lsub(let reference, let pattern):
            return await self.lsub(reference: reference, pattern: pattern)
        case .status(let mailbox, let attributes):
            return await self.status(mailbox, attributes)
        case .append(let mailbox, let messages):
            return await self.append(mailbox, messages)
        case .idle:
            return try await self.idle(tag: command.tag)
        case .close:
            return await self.closeMailbox(expunge: true)
        case .unselect:
            return await self.closeMailbox(expunge: false)
        case .expunge:
            return await self.expunge(uids: nil)
        case .uidExpunge(let set):
            return await self.expunge(uids: set)
        case .fetch(let fetch):
            return await self.fetch(fetch)
        case .store(let store):
            return await self.store(store)
        case .search(let search):
            return await self.search(search, tag: command.tag)
        case .copy(let uid, let set, let mailbox):
            return await self.copyOrMove(uid: uid, set: set, to: mailbox, move: false)
        case .move(let uid, let set, let mailbox):
            return await self.copyOrMove(uid: uid, set: set, to: mailbox, move: true)
        case .getQuota(let root):
            return await self.getQuota(root: root)
        case .getQuotaRoot(let mailbox):
            return await self.getQuotaRoot(mailbox: mailbox)
        case .replace(let uid, let number, let mailbox, let message):
            return await self.replace(uid: uid, number: number, mailbox: mailbox, message: message)
        case .getMetadata(let mailbox, let options, let entries):
            return await self.getMetadata(mailbox: mailbox, options: options, entries: entries)
        case .setMetadata(let mailbox, let entries):
            return await self.setMetadata(mailbox: mailbox, entries: entries)
        case .compress(let mechanism):
            return try await self.compress(mechanism, tag: command.tag)
        case .notify(let notify):
            return await self.notifyCommand(notify)
        case .esearch:
            return .bad("command not supported")
        }
    }

    // MARK: - ENABLE

    /// RFC 5161 3.1: ENABLE, and the ENABLED response with what was enabled now.
    func enable(_ names: [String]) -> Completion {
        var now: [String] = []
        for name in names {
            let upper = name.uppercased()
            let known: Set<String> = ["CONDSTORE", "QRESYNC", "UTF8=ACCEPT", "IMAP4REV2", "UIDONLY"]
            guard known.contains(upper), !self.enabled.contains(upper) else { continue }
            self.enabled.insert(upper)
            // RFC 7162 3.2.3: QRESYNC implies CONDSTORE.
            if upper == "CONDSTORE" || upper == "QRESYNC" { self.condstore = true }
            // RFC 6855 3: from now on, UTF-8 in strings and mailbox names.
            if upper == "UTF8=ACCEPT" { self.out.utf8Accept = true }
            now.append(upper == "IMAP4REV2" ? "IMAP4rev2" : upper)
        }
        self.line("* ENABLED" + now.map { " " + $0 }.joined())
        return .ok("enabled")
    }

    // MARK: - Errors

    /// A store failure as a NO with the RFC 5530 response code that fits.
    func storeFailure(_ error: StoreError, _ what: String) -> Completion {
        switch error.kind {
        case .notFound: return .no("\(what): no such mailbox or message", code: "NONEXISTENT")
        case .alreadyExists: return .no("\(what): mailbox exists", code: "ALREADYEXISTS")
        case .invalidName: return .no("\(what): \(error.message)", code: "CANNOT")
        case .notAllowed: return .no("\(what): \(error.message)", code: "CANNOT")
        case .quotaExceeded: return .no("\(what): account storage full", code: "OVERQUOTA")
        case .io, .database: return .no("\(what): internal error", code: "SERVERBUG")
        }
    }

    // MARK: - Account changes

    /// Starts taking the account's changes into this session's queue, as they commit.
    func subscribeChanges(_ account: Account) {
        let queue = self.changes
        let connection = self.connection
        self.subscription = account.subscribeChanges { batch in
            // Wakes a session in IDLE (ignored otherwise), once until it takes the changes.
            if queue.append(batch) {
                connection.signal(.wakeup)
            }
        }
    }
}

// MARK: - Mailbox names

enum MailboxNames {
    /// The store's "Inbox" is IMAP's "INBOX" (RFC 9051 5.1: case-insensitive).
    /// An IMAP name as the store spells it: INBOX in any case is "Inbox".
    static func store(_ imapName: String) -> String {
        if imapName.uppercased() == "INBOX" { return "Inbox" }
        if imapName.count > 6, imapName.prefix(6).uppercased() == "INBOX/" { return "Inbox/" + imapName.dropFirst(6) }
        return imapName
    }

    static func imap(_ storeName: String) -> String {
        if storeName == "Inbox" { return "INBOX" }
        if storeName.hasPrefix("Inbox/") { return "INBOX" + storeName.dropFirst(5) }
        return storeName
    }
}
