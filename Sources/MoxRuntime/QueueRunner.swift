// The outgoing queue's runner: picks due messages (at most 10 deliveries at a time, one per
// recipient domain, as mox), delivers them (directly to the MX hosts, through a configured
// transport, or in localserve into the local account), and records what happened: delivered
// messages are retired, temporary failures retried on the backoff schedule with a delayed
// DSN after the 5th attempt, permanent failures get a failure DSN and may put the recipient
// on the sender's suppression list.

import Logging
import MailAddress
import MailConfig
import MailDNS
import MailDelivery
import MailMessage
import MailMetrics
import MailNetwork
import MailQueue
import MailSpool
import MailStore
import NIOCore
import NIOPosix
import SMTPClient
import SMTPProtocol
import ServiceLifecycle
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// A wake-up for a loop: `signal` from anywhere, `wait` with a timeout. A signal while
/// nobody waits is kept (one), so none is lost.
final class Wakeup: Sendable {
    private let state = Mutex<(pending: Bool, waiter: CheckedContinuation<Void, Never>?)>((false, nil))

    func signal() {
        let waiter = self.state.withLock { s -> CheckedContinuation<Void, Never>? in
            if let w = s.waiter {
                s.waiter = nil
                return w
            }
            s.pending = true
            return nil
        }
        waiter?.resume()
    }

    private let loop: any EventLoop

    init(loop: any EventLoop = MultiThreadedEventLoopGroup.singleton.next()) {
        self.loop = loop
    }

    func wait(seconds: Double) async {
        // The timeout is an event-loop timer, removed when cancelled. A cancelled Task.sleep
        // ends its task at once but leaves its dispatch timer (and the task's memory) behind
        // until the deadline: with a wait of up to an hour and a signal per submission, that
        // kept about 400 bytes per queued message for an hour. A timer that fires just as a
        // signal arrives leaves one signal pending: one extra loop pass, no spin.
        let timer = self.loop.scheduleTask(in: .milliseconds(Int64(max(seconds, 0.001) * 1000))) { self.signal() }
        defer { timer.cancel() }
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            let now = self.state.withLock { s -> Bool in
                if s.pending {
                    s.pending = false
                    return true
                }
                s.waiter = c
                return false
            }
            if now { c.resume() }
        }
    }
}

/// How one attempt for a batch ended, per message.
struct AttemptOutcome {
    /// nil: delivered.
    var failures: [Int64: DeliveryFailure]
    var transport: String
    var tlsMode: String
    var remoteHost = ""
    /// Delivered messages whose result is already committed (right after their transaction).
    var recorded: Set<Int64> = []
}

public final class QueueRunner: Service, Sendable {
    public static let maxConcurrent = 10
    /// Messages for one domain delivered over one connection, one transaction each, before the
    /// connection is closed and others get their turn.
    public static let messagesPerConnection = 100

    let outgoing: OutgoingQueue
    let config: @Sendable () -> Config
    let accounts: AccountRegistry
    let resolver: any MailDNS.Resolver
    let localserve: Bool
    let localserveAccount: String
    let log: Logger
    let wakeup = Wakeup()
    let busy = Mutex<Set<String>>([])
    let stopping = Atomic<Bool>(false)
    let active = Mutex<[UInt64: Task<Void, Never>]>([:])
    let taskCounter = Atomic<UInt64>(0)
    /// Settings tests change: where direct delivery connects (25), and the client's timeouts.
    let smtpPort: Int
    let timeouts: SMTPClientTimeouts

    public init(
        outgoing: OutgoingQueue, config: @escaping @Sendable () -> Config, accounts: AccountRegistry,
        resolver: any MailDNS.Resolver, localserve: Bool, localserveAccount: String, log: Logger, smtpPort: Int = 25,
        timeouts: SMTPClientTimeouts = SMTPClientTimeouts()
    ) {
        self.outgoing = outgoing
        self.config = config
        self.accounts = accounts
        self.resolver = resolver
        self.localserve = localserve
        self.localserveAccount = localserveAccount
        self.log = log
        self.smtpPort = smtpPort
        self.timeouts = timeouts
        let wakeup = self.wakeup
        outgoing.onKick { wakeup.signal() }
    }

    var queue: MailQueue { self.outgoing.queue }

    static func now() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Int64(ts.tv_sec)
    }

    public func run() async throws {
        self.updateHoldGauge()
        var lastClean: Int64 = 0
        await withGracefulShutdownHandler {
            while !self.stopping.load(ordering: .relaxed) && !Task.isCancelled {
                let now = Self.now()
                if now - lastClean >= 3600 {
                    lastClean = now
                    _ = try? self.queue.cleanRetired(now: now)
                }
                self.launch(now: now)
                let busy = self.busy.withLock { $0 }
                var wait: Double = 3600
                if busy.count < Self.maxConcurrent, let next = try? self.queue.nextAttempt(busy: busy) {
                    wait = Double(max(next - Self.now(), 0)) + 0.05
                }
                await self.wakeup.wait(seconds: min(wait, 3600))
            }
        } onGracefulShutdown: {
            self.stopping.store(true, ordering: .relaxed)
            self.wakeup.signal()
        }
        // Deliveries under way get a moment to finish; one cut off is retried after restart (its
        // attempt was recorded before it started).
        let deadline = ContinuousClock.now + .seconds(5)
        while !self.active.withLock({ $0.isEmpty }) && ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(50))
        }
    }

    func launch(now: Int64) {
        let busy = self.busy.withLock { $0 }
        guard busy.count < Self.maxConcurrent else { return }
        let due: [QueuedMessage]
        do {
            due = try self.queue.due(now: now, busy: busy, limit: Self.maxConcurrent - busy.count)
        } catch {
            self.log.error("listing due messages", metadata: ["error": "\(error)"])
            return
        }
        for m in due {
            let domain = m.recipientDomain.lowercased()
            guard self.busy.withLock({ $0.insert(domain).inserted }) else { continue }
            let id = self.taskCounter.add(1, ordering: .relaxed).newValue
            let task = Task {
                await self.deliver(m)
                self.busy.withLock { _ = $0.remove(domain) }
                _ = self.active.withLock { $0.removeValue(forKey: id) }
                self.wakeup.signal()
            }
            self.active.withLock { $0[id] = task }
        }
    }

    func updateHoldGauge() {
        if let n = try? self.queue.holdCount() { MoxMetrics.queueHold(n) }
    }

    // MARK: - One attempt

    func deliver(_ first: QueuedMessage) async {
        let start = ContinuousClock.now
        let groups: [[QueuedMessage]]
        do {
            groups = try self.queue.beginAttempts(first, now: Self.now(), limit: Self.messagesPerConnection)
        } catch {
            self.log.error("starting delivery attempt", metadata: ["msgid": "\(first.id)", "error": "\(error)"])
            return
        }
        let begun = groups.flatMap { $0 }
        guard let m0 = begun.first else { return }
        var log = self.log
        log[metadataKey: "cid"] = "\(String(ConnectionID.next(), radix: 16))"
        log[metadataKey: "from"] = "\(m0.sender)"
        log[metadataKey: "attempts"] = "\(m0.attempts)"
        if begun.count == 1 {
            log.debug("delivering to single recipient", metadata: ["msgid": "\(m0.id)", "recipient": "\(m0.recipient)"])
        } else {
            log.debug(
                "delivering to multiple recipients",
                metadata: ["msgids": "\(begun.map(\.id))", "recipients": "\(begun.map(\.recipient))"]
            )
        }
        let config = self.config()
        var outcome = AttemptOutcome(failures: [:], transport: "", tlsMode: "")
        // Suppressed since it was queued: permanent, without a DSN code (mox's behaviour).
        let suppressions = (try? self.queue.suppressions(account: m0.senderAccount)) ?? []
        let suppressed = Set(suppressions.map(\.baseAddress))
        var remaining: [[QueuedMessage]] = []
        for group in groups {
            var kept: [QueuedMessage] = []
            for m in group {
                let base = MailQueue.baseAddress(localpart: m.recipientLocalpart, domain: m.recipientDomain)
                if suppressed.contains(base) {
                    outcome.failures[m.id] = DeliveryFailure(
                        code: 0, secode: "",
                        message: "not delivering to recipient address \(m.recipient): address is on suppression list", permanent: true
                    )
                } else {
                    kept.append(m)
                }
            }
            if !kept.isEmpty { remaining.append(kept) }
        }
        if !remaining.isEmpty {
            let result: AttemptOutcome
            if self.localserve {
                result = await self.deliverLocalserve(remaining.flatMap { $0 }, log: log)
            } else {
                result = await self.deliverRouted(remaining, config: config, log: log)
            }
            outcome.failures.merge(result.failures) { a, _ in a }
            outcome.recorded = result.recorded
            outcome.transport = result.transport
            outcome.tlsMode = result.tlsMode
            outcome.remoteHost = result.remoteHost
        }
        let seconds = Double((ContinuousClock.now - start).components.seconds)
            + Double((ContinuousClock.now - start).components.attoseconds) / 1e18
        let delivered = begun.count - outcome.failures.count
        let resultLabel: String
        if outcome.failures.isEmpty {
            resultLabel = "ok"
        } else if delivered > 0 {
            resultLabel = "okpartial"
        } else {
            resultLabel = outcome.failures.values.contains(where: \.permanent) ? "permerror" : "temperror"
        }
        MoxMetrics.queueDelivery(
            attempt: m0.attempts, transport: outcome.transport, tlsMode: outcome.tlsMode, result: resultLabel, seconds: seconds
        )
        await self.record(begun, outcome, seconds: seconds, config: config, log: log)
    }

    /// Writes the attempt's results in one commit: retire the delivered, fail or reschedule the
    /// others; then the DSNs and suppression entries.
    func record(_ messages: [QueuedMessage], _ outcome: AttemptOutcome, seconds: Double, config: Config, log: Logger) async {
        let now = Self.now()
        let keep = Self.keepSeconds(config)
        var items: [(id: Int64, result: QueueAttemptResult, completion: MailQueue.Completion)] = []
        var after: [() -> Void] = []
        for m in messages {
            let start = m.results.last?.start ?? Double(now)
            guard let failure = outcome.failures[m.id] else {
                if outcome.recorded.contains(m.id) {
                    log.info(
                        outcome.transport.isEmpty ? "delivered from queue" : "delivered from queue with transport",
                        metadata: ["msgid": "\(m.id)", "recipient": "\(m.recipient)", "transport": "\(outcome.transport)"]
                    )
                    continue
                }
                items.append((m.id, QueueAttemptResult(start: start, duration: seconds, success: true, code: 250, secode: "", error: ""), .retire(success: true)))
                log.info(
                    outcome.transport.isEmpty ? "delivered from queue" : "delivered from queue with transport",
                    metadata: ["msgid": "\(m.id)", "recipient": "\(m.recipient)", "transport": "\(outcome.transport)"]
                )
                continue
            }
            let result = QueueAttemptResult(
                start: start, duration: seconds, success: false, code: failure.code, secode: failure.secode, error: failure.message
            )
            if failure.permanent || m.attempts >= m.attemptLimit {
                log.error(
                    "permanent failure delivering from queue",
                    metadata: [
                        "msgid": "\(m.id)", "recipient": "\(m.recipient)", "code": "\(failure.code)",
                        "secode": "\(failure.secode)", "err": "\(failure.message)", "permanent": "\(failure.permanent)",
                    ]
                )
                var last = m
                last.lastAttempt = now
                // The DSN reads the queued file: before the commit removes it.
                self.deliverDSN(last, failure: failure, permanent: true, config: config, log: log)
                if failure.code != 0 {
                    after.append { self.suppressAfterFailure(m, failure, now: now, log: log) }
                }
                items.append((m.id, result, .retire(success: false)))
                continue
            }
            items.append((m.id, result, .retry))
            if m.attempts == 5 {
                log.error(
                    "temporary failure delivering from queue, sending delayed dsn",
                    metadata: ["msgid": "\(m.id)", "recipient": "\(m.recipient)", "err": "\(failure.message)"]
                )
                if !m.isDMARCReport {
                    self.deliverDSN(m, failure: failure, permanent: false, config: config, log: log)
                }
            } else {
                log.error(
                    "temporary failure delivering from queue",
                    metadata: [
                        "msgid": "\(m.id)", "recipient": "\(m.recipient)", "err": "\(failure.message)",
                        "nextattempt": "\(m.nextAttempt)",
                    ]
                )
            }
        }
        do {
            try await self.queue.completeGrouped(items, now: now, keepSeconds: keep)
        } catch {
            log.error("recording delivery results", metadata: ["error": "\(error)"])
        }
        // Suppression looks at the retired history, which now includes these.
        for f in after { f() }
    }

    /// How long an account's retired messages are kept: its KeepRetiredMessagePeriod (0: not
    /// kept); 7 days for an account that is no longer configured, as mox does.
    static func keepSeconds(_ config: Config) -> @Sendable (String) -> Int64 {
        { account in
            guard let a = config.dynamicConfig.accounts[account] else { return 7 * 24 * 3600 }
            return Int64(a.keepRetiredMessagePeriod.seconds)
        }
    }

    /// Retires messages the remote server accepted, in one commit.
    func recordDelivered(_ messages: [QueuedMessage], log: Logger) async {
        guard !messages.isEmpty else { return }
        let config = self.config()
        let now = Self.now()
        let items = messages.map { m in
            (id: m.id,
             result: QueueAttemptResult(start: m.results.last?.start ?? Double(now), duration: Double(now) - (m.results.last?.start ?? Double(now)), success: true, code: 250, secode: "", error: ""),
             completion: MailQueue.Completion.retire(success: true))
        }
        do {
            try await self.queue.completeGrouped(items, now: now, keepSeconds: Self.keepSeconds(config))
        } catch {
            log.error("recording delivered messages", metadata: ["error": "\(error)"])
        }
    }

    func suppressAfterFailure(_ m: QueuedMessage, _ failure: DeliveryFailure, now: Int64, log: Logger) {
        do {
            if let reason = try self.queue.suppressAfterFailure(
                m, code: failure.code, secode: failure.secode, source: "queue", now: now
            ) {
                log.info("added recipient to suppression list", metadata: ["account": "\(m.senderAccount)", "address": "\(m.recipient)", "reason": "\(reason)"])
            }
        } catch {
            log.error("adding to suppression list", metadata: ["error": "\(error)"])
        }
    }

    // MARK: - DSNs

    /// Composes a DSN for the sender and stores it in the sender's Inbox (or the postmaster's
    /// mailbox when that account is gone). Never for the null sender.
    func deliverDSN(_ m: QueuedMessage, failure: DeliveryFailure, permanent: Bool, config: Config, log: Logger) {
        guard !m.sender.isEmpty else { return }
        let hostname = config.staticConfig.hostname
        let header = self.originalHeader(m)
        var rng = SystemRandomNumberGenerator()
        let random = (0..<16).map { _ in UInt8.random(in: 0...255, using: &rng) }
        let now = Self.now()
        let bytes: [UInt8]
        do {
            bytes = try QueueDSN.compose(
                m, originalHeader: header, failure: failure, permanent: permanent, hostname: hostname, now: now,
                random: random
            )
        } catch {
            log.error("queue dsn: composing dsn: sender will not be informed about dsn", metadata: ["error": "\(error)"])
            return
        }
        let prefix = "Return-Path: <postmaster@\(hostname)>\r\nDelivered-To: \(m.sender)\r\n"
        let message = Array(prefix.utf8) + bytes
        let postmaster = config.staticConfig.postmaster
        let (account, mailbox) =
            m.isDMARCReport
            ? (postmaster.account, postmaster.mailbox + "/dmarc")
            : (config.dynamicConfig.accounts[m.senderAccount] != nil || self.localserve ? m.senderAccount : postmaster.account,
                config.dynamicConfig.accounts[m.senderAccount] != nil || self.localserve ? "Inbox" : postmaster.mailbox)
        let accounts = self.accounts
        Task {
            do {
                _ = try await accounts.deliver(
                    message, account: account, mailbox: mailbox, received: now,
                    metadata: DeliveryMetadata(remoteIP: "", ehloDomain: "", mailFrom: "postmaster@\(hostname)")
                )
                log.info("delivered dsn", metadata: ["account": "\(account)", "kind": "\(permanent ? "failure" : "delayed delivery")"])
            } catch {
                log.error("queue dsn: delivering dsn to mailbox: sender will not be informed about dsn", metadata: ["error": "\(error)"])
            }
        }
    }

    /// The queued message's header (prefix and file up to the blank line), at most 256 KiB.
    func originalHeader(_ m: QueuedMessage) -> [UInt8] {
        var bytes = m.msgPrefix
        let fd = open(self.queue.path(for: m.id), O_RDONLY | O_CLOEXEC)
        if fd >= 0 {
            defer { close(fd) }
            var buffer = [UInt8](repeating: 0, count: 256 * 1024)
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n > 0 { bytes += buffer[0..<n] }
        }
        // The header fields, without the empty line that ends them (MailMessage's parser).
        guard let end = Header(parsing: bytes).fields.last?.end else { return bytes }
        return Array(bytes[0..<end])
    }

    // MARK: - localserve

    /// localserve: into the local account, unless the recipient's localpart asks for a failure
    /// ("temperror", "permerror", "timeout", or a code such as "user452").
    func deliverLocalserve(_ batch: [QueuedMessage], log: Logger) async -> AttemptOutcome {
        var outcome = AttemptOutcome(failures: [:], transport: "localserve", tlsMode: "skip", remoteHost: "localhost")
        for m in batch {
            if let reply = await Deliverer.simulatedFailure(m.recipientLocalpart, stage: "delivery") {
                outcome.failures[m.id] = DeliveryFailure(
                    code: reply.code, secode: reply.enhanced.map { "\($0.subject).\($0.detail)" } ?? "",
                    message: "\(reply.code) \(reply.enhanced.map { "\($0) " } ?? "")\(reply.text)",
                    smtpLines: ["\(reply.code) \(reply.enhanced.map { "\($0) " } ?? "")\(reply.text)"],
                    permanent: reply.isPermanentFailure, remoteHost: "localhost"
                )
                continue
            }
            do {
                let spooled = try self.spoolCopy(m)
                let prefix = "Delivered-To: \(m.recipient)\r\nReturn-Path: <\(m.sender)>\r\n"
                _ = try await self.accounts.deliver(
                    spooled, prefix: Array(prefix.utf8) + m.msgPrefix, account: self.localserveAccount, mailbox: "",
                    received: Self.now(), metadata: DeliveryMetadata(remoteIP: "127.0.0.1", ehloDomain: "localhost", mailFrom: m.sender)
                )
            } catch {
                outcome.failures[m.id] = DeliveryFailure(code: 0, secode: "", message: "delivering to local account: \(error)", permanent: false)
            }
        }
        return outcome
    }

    /// The queued file copied into a spool (bounded memory), for the store to link.
    func spoolCopy(_ m: QueuedMessage) throws -> SpooledMessage {
        let spool = try MessageSpool(directory: self.config().dataDirPath("tmp"))
        let path = self.queue.path(for: m.id)
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw QueueError(.io, "open \(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw QueueError(.io, "read \(path): \(String(cString: strerror(errno)))")
            }
            if n == 0 { break }
            spool.append(buffer[0..<n])
        }
        return try spool.finish()
    }
}
