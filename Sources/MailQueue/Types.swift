/// MailQueue: the outgoing queue. Messages waiting for delivery to other servers, one row per
/// recipient (as mox keeps them), each with its own state, schedule and attempt results; the
/// message file in the data directory (hard-linked once per recipient); retired history of
/// delivered and failed messages; hold rules; suppression lists. On SQLite (GRDB), with no NIO:
/// the runner in MoxRuntime does the network part and reports back here.

/// The result of one delivery attempt (mox's MsgResult).
public struct QueueAttemptResult: Codable, Sendable, Equatable {
    /// Unix time in seconds (fractional) when the attempt started.
    public var start: Double
    /// Seconds it took.
    public var duration: Double
    public var success: Bool
    /// SMTP reply code; 0 when no server answered.
    public var code: Int
    /// Enhanced status code without its class ("1.1"), as mox records it.
    public var secode: String
    public var error: String

    public init(start: Double, duration: Double = 0, success: Bool, code: Int, secode: String, error: String) {
        self.start = start
        self.duration = duration
        self.success = success
        self.code = code
        self.secode = secode
        self.error = error
    }

    /// Written while an attempt is under way, replaced when it ends (as mox does).
    public static let delivering = "delivering..."
}

/// A message in the queue, for one recipient (mox's Msg).
public struct QueuedMessage: Sendable, Equatable, Codable {
    public var id: Int64
    /// The id of the first recipient's row of a message sent to several; 0 for one recipient.
    /// Rows with the same base id share the message file's contents and prefix.
    public var baseID: Int64
    /// Unix seconds.
    public var queued: Int64
    public var hold: Bool
    /// Failures are delivered back to this local account, which also chooses routes.
    public var senderAccount: String
    public var senderLocalpart: String
    /// ASCII (IDNA) form; empty with the null sender.
    public var senderDomain: String
    /// The random id added to the sender localpart (fromid), to match DSNs later.
    public var fromID: String
    public var recipientLocalpart: String
    public var recipientDomain: String
    public var attempts: Int
    /// 0: the default of 8.
    public var maxAttempts: Int
    public var nextAttempt: Int64
    public var lastAttempt: Int64?
    public var results: [QueueAttemptResult]
    public var has8bit: Bool
    public var smtputf8: Bool
    public var isDMARCReport: Bool
    public var isTLSReport: Bool
    /// Prefix plus file, in octets.
    public var size: Int64
    /// With its angle brackets; for the DSN's References.
    public var messageID: String
    /// Header lines sent before the file's contents (DKIM-Signature and the like).
    public var msgPrefix: [UInt8]
    public var subject: String
    /// The transport to use instead of the routes; empty: routes decide.
    public var transport: String
    /// nil: the recipient domain's policy; true: REQUIRETLS (RFC 8689); false: "TLS-Required: No".
    public var requireTLS: Bool?
    /// RFC 4865 FUTURERELEASE, "for;SECONDS" or "until;DATE", for the DSN.
    public var futureReleaseRequest: String
    /// x-mox-extra-* headers or the webapi's Extra.
    public var extra: [String: String]

    public init(
        id: Int64 = 0, baseID: Int64 = 0, queued: Int64 = 0, hold: Bool = false, senderAccount: String,
        senderLocalpart: String, senderDomain: String, fromID: String = "", recipientLocalpart: String,
        recipientDomain: String, attempts: Int = 0, maxAttempts: Int = 0, nextAttempt: Int64 = 0,
        lastAttempt: Int64? = nil, results: [QueueAttemptResult] = [], has8bit: Bool = false, smtputf8: Bool = false,
        isDMARCReport: Bool = false, isTLSReport: Bool = false, size: Int64 = 0, messageID: String = "",
        msgPrefix: [UInt8] = [], subject: String = "", transport: String = "", requireTLS: Bool? = nil,
        futureReleaseRequest: String = "", extra: [String: String] = [:]
    ) {
        self.id = id
        self.baseID = baseID
        self.queued = queued
        self.hold = hold
        self.senderAccount = senderAccount
        self.senderLocalpart = senderLocalpart
        self.senderDomain = senderDomain
        self.fromID = fromID
        self.recipientLocalpart = recipientLocalpart
        self.recipientDomain = recipientDomain
        self.attempts = attempts
        self.maxAttempts = maxAttempts
        self.nextAttempt = nextAttempt
        self.lastAttempt = lastAttempt
        self.results = results
        self.has8bit = has8bit
        self.smtputf8 = smtputf8
        self.isDMARCReport = isDMARCReport
        self.isTLSReport = isTLSReport
        self.size = size
        self.messageID = messageID
        self.msgPrefix = msgPrefix
        self.subject = subject
        self.transport = transport
        self.requireTLS = requireTLS
        self.futureReleaseRequest = futureReleaseRequest
        self.extra = extra
    }

    /// "localpart@domain"; the null sender is "".
    public var sender: String {
        self.senderDomain.isEmpty ? "" : "\(self.senderLocalpart)@\(self.senderDomain)"
    }

    public var recipient: String { "\(self.recipientLocalpart)@\(self.recipientDomain)" }

    /// The attempts after which the message fails.
    public var attemptLimit: Int { self.maxAttempts > 0 ? self.maxAttempts : 8 }

    /// The last result's error, for listings.
    public var lastError: String { self.results.last?.error ?? "" }
}

/// A delivered, failed or dropped message kept for its account's KeepRetiredMessagePeriod
/// (mox's MsgRetired).
public struct RetiredMessage: Sendable, Equatable {
    public var message: QueuedMessage
    /// Unix seconds of the last attempt or the removal.
    public var lastActivity: Int64
    public var success: Bool
    /// Unix seconds; removed after.
    public var keepUntil: Int64
}

/// New messages on hold when they match (mox's HoldRule): empty fields match anything, all
/// empty matches every message.
public struct HoldRule: Sendable, Equatable {
    public var id: Int64
    public var account: String
    /// ASCII domain names.
    public var senderDomain: String
    public var recipientDomain: String

    public init(id: Int64 = 0, account: String = "", senderDomain: String = "", recipientDomain: String = "") {
        self.id = id
        self.account = account
        self.senderDomain = senderDomain.lowercased()
        self.recipientDomain = recipientDomain.lowercased()
    }

    public func matches(_ m: QueuedMessage) -> Bool {
        (self.account.isEmpty || self.account == m.senderAccount)
            && (self.senderDomain.isEmpty || self.senderDomain == m.senderDomain.lowercased())
            && (self.recipientDomain.isEmpty || self.recipientDomain == m.recipientDomain.lowercased())
    }
}

/// An address the account does not send to (mox's webapi.Suppression).
public struct Suppression: Sendable, Equatable {
    public var id: Int64
    /// Unix seconds.
    public var created: Int64
    public var account: String
    /// The address without a catchall separator's tail and with dots kept, lower-cased: what
    /// lookups compare.
    public var baseAddress: String
    /// As it was given or seen.
    public var originalAddress: String
    /// Added by hand (command, webapi) rather than from a delivery failure.
    public var manual: Bool
    public var reason: String

    public init(
        id: Int64 = 0, created: Int64 = 0, account: String, baseAddress: String, originalAddress: String,
        manual: Bool, reason: String
    ) {
        self.id = id
        self.created = created
        self.account = account
        self.baseAddress = baseAddress
        self.originalAddress = originalAddress
        self.manual = manual
        self.reason = reason
    }
}

/// Why the queue could not do what was asked.
public struct QueueError: Error, Sendable, CustomStringConvertible {
    public enum Kind: Sendable { case io, database, notFound, invalid }
    public var kind: Kind
    public var message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { self.message }
}

/// Which messages a command applies to (mox's queue Filter). Empty fields match everything.
public struct QueueFilter: Sendable, Equatable, Codable {
    public var ids: [Int64] = []
    public var account = ""
    /// Substring of "localpart@domain" of the sender.
    public var from = ""
    public var to = ""
    public var hold: Bool?
    /// A comparison with now: "<-1h" (due more than an hour ago) or ">30m".
    public var nextAttempt = ""
    public var transport: String?
    public var limit = 0

    public init() {}

    public func matches(_ m: QueuedMessage, now: Int64) -> Bool {
        if !self.ids.isEmpty && !self.ids.contains(m.id) { return false }
        if !self.account.isEmpty && m.senderAccount != self.account { return false }
        if !self.from.isEmpty && !m.sender.lowercased().contains(self.from.lowercased()) { return false }
        if !self.to.isEmpty && !m.recipient.lowercased().contains(self.to.lowercased()) { return false }
        if let hold = self.hold, m.hold != hold { return false }
        if let transport = self.transport, m.transport != transport { return false }
        if !self.nextAttempt.isEmpty {
            guard let (less, seconds) = Self.relative(self.nextAttempt) else { return false }
            let point = now + seconds
            if less ? !(m.nextAttempt < point) : !(m.nextAttempt > point) { return false }
        }
        return true
    }

    /// "<-1h", ">30m", "<0s": direction and seconds relative to now.
    public static func relative(_ s: String) -> (less: Bool, seconds: Int64)? {
        guard let first = s.first, first == "<" || first == ">" else { return nil }
        var rest = Substring(s.dropFirst())
        var sign: Int64 = 1
        if rest.first == "-" {
            sign = -1
            rest = rest.dropFirst()
        } else if rest.first == "+" {
            rest = rest.dropFirst()
        }
        guard let seconds = Self.durationSeconds(rest) else { return nil }
        return (first == "<", sign * seconds)
    }

    /// A signed duration such as "-1h30m", "0s" or "45m", in seconds.
    public static func signedDuration(_ s: String) -> Int64? {
        var rest = Substring(s)
        var sign: Int64 = 1
        if rest.first == "-" {
            sign = -1
            rest = rest.dropFirst()
        } else if rest.first == "+" {
            rest = rest.dropFirst()
        }
        return Self.durationSeconds(rest).map { $0 * sign }
    }

    /// "1h30m", "45s", "2d": seconds.
    static func durationSeconds(_ s: Substring) -> Int64? {
        var total: Int64 = 0
        var number: Int64 = -1
        for c in s {
            if let d = c.wholeNumberValue, c.isASCII {
                number = max(number, 0) &* 10 &+ Int64(d)
                if number > 1 << 40 { return nil }
            } else {
                let unit: Int64
                switch c {
                case "s": unit = 1
                case "m": unit = 60
                case "h": unit = 3600
                case "d": unit = 86400
                default: return nil
                }
                guard number >= 0 else { return nil }
                total += number * unit
                number = -1
            }
        }
        guard number < 0, !s.isEmpty else { return nil }
        return total
    }
}
