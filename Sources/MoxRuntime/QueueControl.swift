// `mox queue ...` on the server side of the control socket: each command changes or lists the
// queue and answers with the text the command prints, in mox's formats.

import FoundationEssentials
import MailConfig
import MailDelivery
import MailQueue
import MailLog
import MailMetrics

#if canImport(Glibc)
import Glibc
#endif

/// A `mox queue` command as sent over the control socket.
public struct QueueControlRequest: Codable, Sendable {
    /// list, hold, unhold, schedule, transport, requiretls, fail, drop, dump, holdrules-list,
    /// holdrules-add, holdrules-remove, retired-list, retired-print, suppress-list,
    /// suppress-add, suppress-remove, suppress-lookup.
    public var command: String
    public var filter: QueueFilter
    public var args: [String]
    public var sortQueued: Bool
    public var ascending: Bool

    public init(command: String, filter: QueueFilter = QueueFilter(), args: [String] = [], sortQueued: Bool = false, ascending: Bool = false) {
        self.command = command
        self.filter = filter
        self.args = args
        self.sortQueued = sortQueued
        self.ascending = ascending
    }

    func json() -> String {
        (try? String(decoding: JSONEncoder().encode(self), as: UTF8.self)) ?? "{}"
    }
}

struct QueueControl {
    let runner: QueueRunner

    var queue: MailQueue { self.runner.queue }

    func handle(_ json: String) -> String {
        guard let request = try? JSONDecoder().decode(QueueControlRequest.self, from: Data(json.utf8)) else {
            return "error: malformed queue request\n"
        }
        do {
            let out = try self.run(request)
            return out
        } catch {
            return "error: \(error)\n"
        }
    }

    func run(_ r: QueueControlRequest) throws -> String {
        let now = QueueRunner.now()
        let args = r.args
        func arg(_ i: Int, _ name: String) throws -> String {
            guard i < args.count else { throw QueueError(.invalid, "missing \(name)") }
            return args[i]
        }
        switch r.command {
        case "list":
            let messages = try self.queue.list(r.filter, now: now, sortByQueued: r.sortQueued, ascending: r.ascending)
            var out = "messages:\n"
            for m in messages {
                let last = m.lastAttempt.map { Self.goDuration(now - $0) } ?? ""
                out += "\(Self.pad(m.id)) \(Self.rfc3339(m.queued)) from:\(m.sender) to:\(m.recipient) next \(Self.goDuration(m.nextAttempt - now)) last \(last) error \(LogFormat.quoted(m.lastError))\n"
            }
            if messages.isEmpty { out += "(none)\n" }
            return out
        case "hold", "unhold":
            let hold = r.command == "hold"
            let n = try self.queue.update(r.filter, now: now) { $0.hold = hold }
            self.changed()
            return "\(n) messages changed\n"
        case "schedule":
            // args: [fromNow "yes"/"", seconds]
            let fromNow = try arg(0, "mode") == "yes"
            guard let seconds = Int64(try arg(1, "duration")) else { throw QueueError(.invalid, "bad duration") }
            let n = try self.queue.update(r.filter, now: now) { m in
                m.nextAttempt = (fromNow ? now : m.nextAttempt) + seconds
            }
            self.changed()
            return "\(n) message(s) rescheduled\n"
        case "transport":
            let name = try arg(0, "transport")
            if !name.isEmpty && self.runner.config().staticConfig.transports[name] == nil {
                throw QueueError(.invalid, "unknown transport \(name)")
            }
            let n = try self.queue.update(r.filter, now: now) { $0.transport = name }
            self.changed()
            return "\(n) message(s) changed\n"
        case "requiretls":
            let value = try arg(0, "value")
            let setting: Bool? = value == "yes" ? true : value == "no" ? false : nil
            let n = try self.queue.update(r.filter, now: now) { $0.requireTLS = setting }
            self.changed()
            return "\(n) message(s) changed\n"
        case "fail", "drop":
            let messages = try self.queue.list(r.filter, now: now)
            let fail = r.command == "fail"
            let n = self.runner.cancel(messages, sendDSN: fail)
            self.changed()
            return fail ? "\(n) message(s) marked as failed\n" : "\(n) message(s) dropped\n"
        case "dump":
            guard let id = Int64(try arg(0, "id")), let m = try self.queue.message(id) else {
                throw QueueError(.notFound, "message not found")
            }
            let file = (try? Data(contentsOf: URL(fileURLWithPath: self.queue.path(for: m.id)))) ?? Data()
            return String(decoding: m.msgPrefix + [UInt8](file), as: UTF8.self)
        case "holdrules-list":
            let rules = try self.queue.holdRules()
            var out = "hold rules:\n"
            for rule in rules {
                var parts: [String] = []
                if !rule.account.isEmpty { parts.append("account \(LogFormat.quoted(rule.account))") }
                if !rule.senderDomain.isEmpty { parts.append("sender domain \(LogFormat.quoted(rule.senderDomain))") }
                if !rule.recipientDomain.isEmpty { parts.append("recipient domain \(LogFormat.quoted(rule.recipientDomain))") }
                out += "id \(rule.id): " + (parts.isEmpty ? "all messages" : parts.joined(separator: ", ")) + "\n"
            }
            if rules.isEmpty { out += "(none)\n" }
            return out
        case "holdrules-add":
            let rule = HoldRule(
                account: try arg(0, "account"), senderDomain: try arg(1, "sender domain"), recipientDomain: try arg(2, "recipient domain")
            )
            let (added, n) = try self.queue.addHoldRule(rule)
            self.changed()
            return "hold rule \(added.id) added, \(n) message(s) put on hold\n"
        case "holdrules-remove":
            guard let id = Int64(try arg(0, "rule id")) else { throw QueueError(.invalid, "bad rule id") }
            guard try self.queue.removeHoldRule(id) else { throw QueueError(.notFound, "hold rule not found") }
            return ""
        case "retired-list":
            var list = try self.queue.retiredList(account: r.filter.account)
            list = list.filter { r.filter.matches($0.message, now: now) }
            if r.filter.limit > 0 { list = Array(list.prefix(r.filter.limit)) }
            var out = "retired messages:\n"
            for x in list {
                let m = x.message
                let last = m.lastAttempt.map { Self.goDuration(now - $0) } ?? ""
                out += "\(Self.pad(m.id)) \(Self.rfc3339(m.queued)) \(x.success ? "success" : "failure") from:\(m.sender) to:\(m.recipient) last \(last) error \(LogFormat.quoted(m.lastError))\n"
            }
            if list.isEmpty { out += "(none)\n" }
            return out
        case "retired-print":
            guard let id = Int64(try arg(0, "id")), let x = try self.queue.retired(id) else {
                throw QueueError(.notFound, "retired message not found")
            }
            return Self.retiredJSON(x) + "\n"
        case "suppress-list":
            let list = try self.queue.suppressions(account: r.filter.account)
            var out = "suppressions (account, address, manual, time added, base address, reason):\n"
            for s in list {
                out += "\(LogFormat.quoted(s.account))\t\(LogFormat.quoted(s.originalAddress))\t\(s.manual ? "Yes" : "No")\t\(Self.rfc3339(s.created))\t\(LogFormat.quoted(s.baseAddress))\t\(LogFormat.quoted(s.reason))\n"
            }
            if list.isEmpty { out += "(none)\n" }
            return out
        case "suppress-add":
            let account = try arg(0, "account")
            guard self.runner.config().dynamicConfig.accounts[account] != nil else { throw QueueError(.notFound, "unknown account \(account)") }
            _ = try self.queue.addSuppression(account: account, address: try arg(1, "address"), manual: true, reason: "added through mox cli", now: now)
            return ""
        case "suppress-remove":
            guard try self.queue.removeSuppression(account: try arg(0, "account"), address: try arg(1, "address")) else {
                throw QueueError(.notFound, "address not on suppression list")
            }
            return ""
        case "suppress-lookup":
            let account = try arg(0, "account")
            let accounts = account.isEmpty ? Array(self.runner.config().dynamicConfig.accounts.keys.sorted()) : [account]
            for a in accounts {
                if let s = try self.queue.suppression(account: a, address: try arg(1, "address")) {
                    return "present\nadded: \(Self.rfc3339(s.created))\nmanual: \(s.manual ? "yes" : "no")\nbase address: \(s.baseAddress)\nreason: \(LogFormat.quoted(s.reason))\n"
                }
            }
            return "not present\n"
        default:
            throw QueueError(.invalid, "unknown queue command \(r.command)")
        }
    }

    func changed() {
        self.runner.updateHoldGauge()
        self.runner.outgoing.kick()
    }

    static func pad(_ id: Int64) -> String {
        let s = String(id)
        return String(repeating: " ", count: max(0, 5 - s.count)) + s
    }

    /// Go's time.Duration formatting, whole seconds: "1h2m3s", "7m30s", "-5s", "0s".
    static func goDuration(_ seconds: Int64) -> String {
        if seconds == 0 { return "0s" }
        var s = abs(seconds)
        var out = seconds < 0 ? "-" : ""
        let h = s / 3600
        s %= 3600
        let m = s / 60
        s %= 60
        if h > 0 { out += "\(h)h" }
        if h > 0 || m > 0 { out += "\(m)m" }
        out += "\(s)s"
        return out
    }

    /// RFC 3339 in UTC.
    static func rfc3339(_ t: Int64) -> String {
        var time = time_t(t)
        var parts = tm()
        gmtime_r(&time, &parts)
        func two(_ v: Int32) -> String { v < 10 ? "0\(v)" : "\(v)" }
        return "\(parts.tm_year + 1900)-\(two(parts.tm_mon + 1))-\(two(parts.tm_mday))T\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec))Z"
    }

    static func retiredJSON(_ x: RetiredMessage) -> String {
        let m = x.message
        var fields: [(String, String)] = [
            ("ID", "\(m.id)"), ("BaseID", "\(m.baseID)"), ("Queued", LogFormat.quoted(Self.rfc3339(m.queued))),
            ("SenderAccount", LogFormat.quoted(m.senderAccount)), ("SenderLocalpart", LogFormat.quoted(m.senderLocalpart)),
            ("SenderDomainStr", LogFormat.quoted(m.senderDomain)), ("FromID", LogFormat.quoted(m.fromID)),
            ("RecipientLocalpart", LogFormat.quoted(m.recipientLocalpart)), ("RecipientDomainStr", LogFormat.quoted(m.recipientDomain)),
            ("Attempts", "\(m.attempts)"), ("MaxAttempts", "\(m.maxAttempts)"),
            ("LastAttempt", m.lastAttempt.map { LogFormat.quoted(Self.rfc3339($0)) } ?? "null"),
        ]
        let results = m.results.map { r in
            "{\"Start\": \(LogFormat.quoted(Self.rfc3339(Int64(r.start)))), \"Duration\": \(Int64(r.duration * 1e9)), \"Success\": \(r.success), \"Code\": \(r.code), \"Secode\": \(LogFormat.quoted(r.secode)), \"Error\": \(LogFormat.quoted(r.error))}"
        }
        fields.append(("Results", "[" + results.joined(separator: ", ") + "]"))
        fields += [
            ("Has8bit", "\(m.has8bit)"), ("SMTPUTF8", "\(m.smtputf8)"), ("IsDMARCReport", "\(m.isDMARCReport)"),
            ("IsTLSReport", "\(m.isTLSReport)"), ("Size", "\(m.size)"), ("MessageID", LogFormat.quoted(m.messageID)),
            ("Subject", LogFormat.quoted(m.subject)), ("Transport", LogFormat.quoted(m.transport)),
            ("RequireTLS", m.requireTLS.map { "\($0)" } ?? "null"),
            ("FutureReleaseRequest", LogFormat.quoted(m.futureReleaseRequest)),
            ("Extra", "{" + m.extra.keys.sorted().map { "\(LogFormat.quoted($0)): \(LogFormat.quoted(m.extra[$0] ?? ""))" }.joined(separator: ", ") + "}"),
            ("LastActivity", LogFormat.quoted(Self.rfc3339(x.lastActivity))), ("RecipientAddress", LogFormat.quoted(m.recipient)),
            ("Success", "\(x.success)"), ("KeepUntil", LogFormat.quoted(Self.rfc3339(x.keepUntil))),
        ]
        return "{\n" + fields.map { "\t\(LogFormat.quoted($0.0)): \($0.1)" }.joined(separator: ",\n") + "\n}"
    }
}

extension QueueRunner {
    /// `mox queue fail|drop`: removed from the queue with "delivery canceled by admin"; fail
    /// also sends the sender a failure DSN.
    func cancel(_ messages: [QueuedMessage], sendDSN: Bool) -> Int {
        let config = self.config()
        let now = Self.now()
        let result = QueueAttemptResult(start: Double(now), success: false, code: 0, secode: "", error: "delivery canceled by admin")
        if sendDSN {
            for m in messages {
                var last = m
                last.lastAttempt = now
                self.deliverDSN(
                    last, failure: DeliveryFailure(code: 0, secode: "", message: "delivery canceled by admin", permanent: true),
                    permanent: true, config: config, log: self.log
                )
            }
        }
        let items = messages.map { (id: $0.id, result: result, completion: MailQueue.Completion.retire(success: false)) }
        return (try? self.queue.complete(items, now: now, keepSeconds: Self.keepSeconds(config)).count) ?? 0
    }
}
