/// MailDelivery: where mail for a recipient goes and putting it there: recipient lookup in
/// domains.conf, the delivery decision (accept, refuse, localserve's simulated failures), the
/// header lines written in front of a received message (Delivered-To, Return-Path, Received, and
/// on submission Message-Id and Date), and the write into the accounts' stores. The SMTP server
/// hands it the spooled message and the transaction; authentication results and the junk verdict
/// (next issues) plug in here.
///
/// No NIO: it works on values, the store and files. Replies use SMTPProtocol's codes, which the
/// other ways in (webapi submission) report as well.

import Logging
import MailAddress
import MailAuth
import MailConfig
import MailMessage
import MailMetrics
import MailQueue
import MailSpool
import MailStore
import SMTPProtocol
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Where an accepted recipient's message goes.
public struct DeliveryRoute: Sendable, Equatable {
    public var account: String
    /// The mailbox; empty for the Inbox (or the destination's rules, later).
    public var mailbox: String
    /// localserve: the recipient's localpart, whose ending may ask for a failure at delivery.
    public var simulatedFailureLocalpart: String?
    /// Into the outgoing queue instead of an account (`account` and `mailbox` are empty).
    public var outgoing = false

    public init(account: String, mailbox: String, simulatedFailureLocalpart: String? = nil) {
        self.account = account
        self.mailbox = mailbox
        self.simulatedFailureLocalpart = simulatedFailureLocalpart
    }

    /// For the outgoing queue: another domain, or anything submitted in localserve.
    public static let queue: DeliveryRoute = {
        var route = DeliveryRoute(account: "", mailbox: "")
        route.outgoing = true
        return route
    }()
}

/// The decision for a recipient.
public enum RecipientDecision: Sendable, Equatable {
    case accept(DeliveryRoute)
    case reject(SMTPReply)
}

/// How a message came in, as far as delivery cares.
public struct DeliveryOrigin: Sendable {
    public var remoteIP: String
    public var ehloDomain: String
    public var mailFrom: ReversePath
    /// Submitted by an authenticated user (rather than received from another server).
    public var submission: Bool
    /// The connection's id, for log lines.
    public var connectionID: String
    /// The mox.conf listener it came in on (its SMTP.DNSBLs apply).
    public var listenerName: String
    /// The authenticated account, for submission.
    public var account: String?
    /// The address the client logged in with (for fromid).
    public var loginAddress: String?
    /// MAIL FROM's SMTPUTF8 (RFC 6531) and REQUIRETLS (RFC 8689) parameters.
    public var smtputf8 = false
    public var requireTLS = false

    public init(
        remoteIP: String, ehloDomain: String, mailFrom: ReversePath, submission: Bool, connectionID: String,
        listenerName: String = "", account: String? = nil
    ) {
        self.remoteIP = remoteIP
        self.ehloDomain = ehloDomain
        self.mailFrom = mailFrom
        self.submission = submission
        self.connectionID = connectionID
        self.listenerName = listenerName
        self.account = account
    }
}

/// A recipient accepted earlier in the transaction, with its route.
public struct AcceptedRecipient: Sendable {
    public var path: ForwardPath
    public var route: DeliveryRoute

    public init(path: ForwardPath, route: DeliveryRoute) {
        self.path = path
        self.route = route
    }
}

public final class Deliverer: Sendable {
    private let configuration: Mutex<Config>
    public let accounts: AccountRegistry
    /// localserve: every recipient is accepted into its account, special localparts fail.
    public let localserve: Bool
    /// The account localserve delivers everything to.
    public let localserveAccount: String
    let log: Logger

    /// The checks of mail from other servers; nil checks nothing (tests of delivery alone).
    public let authenticator: MessageAuthenticator?
    /// The DKIM keys submitted mail is signed with, replaced with the configuration.
    private let dkimKeys: Mutex<DKIMKeyring>
    /// Where mail for other domains (and in localserve all submitted mail) goes; nil: such
    /// recipients are refused with a temporary error.
    public let outgoing: OutgoingQueue?

    public init(
        config: Config, accounts: AccountRegistry, localserve: Bool, localserveAccount: String = "mox", log: Logger,
        authenticator: MessageAuthenticator? = nil, outgoing: OutgoingQueue? = nil
    ) {
        self.outgoing = outgoing
        self.configuration = Mutex(config)
        self.accounts = accounts
        self.localserve = localserve
        self.localserveAccount = localserveAccount
        self.log = log
        self.authenticator = authenticator
        let (ring, errors) = DKIMKeyring.load(config)
        for error in errors {
            log.error("dkim key not usable, not signing with it", metadata: ["problem": "\(error)"])
        }
        self.dkimKeys = Mutex(ring)
    }

    public var config: Config { self.configuration.withLock { $0 } }

    public var dkimKeyring: DKIMKeyring { self.dkimKeys.withLock { $0 } }

    public func replaceConfig(_ config: Config) {
        let (ring, errors) = DKIMKeyring.load(config)
        for error in errors {
            self.log.error("dkim key not usable, not signing with it", metadata: ["problem": "\(error)"])
        }
        self.configuration.withLock { $0 = config }
        self.dkimKeys.withLock { $0 = ring }
    }

    // MARK: - Sender and recipients

    /// MAIL FROM: nil accepts. On submission the path must be an address of the authenticated
    /// account (RFC 6409 4.1, mox); the null path is allowed.
    public func checkSender(_ path: ReversePath, submittedBy account: String?) async -> SMTPReply? {
        if self.localserve, let mailbox = path.mailbox, mailbox.localpart.value.hasPrefix("mailfrom"),
            let failure = await Self.simulatedFailure(mailbox.localpart.value, stage: "command")
        {
            return failure
        }
        guard let account, let mailbox = path.mailbox else { return nil }
        guard let address = mailbox.address, self.config.dynamicConfig.accountMayUse(account, address) else {
            return SMTPReply(550, .deliveryNotAuthorized, "must match authenticated user")
        }
        return nil
    }

    /// RCPT TO: where mail for `path` goes, or why it is refused. `account` is the submitting
    /// account (its suppression list applies).
    public func checkRecipient(_ path: ForwardPath, submission: Bool, account: String? = nil) async -> RecipientDecision {
        let config = self.config
        if submission, let outgoing = self.outgoing, let mailbox = path.mailbox {
            let queued: Bool
            if self.localserve {
                // As mox's localserve: everything submitted goes through the queue, which
                // delivers it to the one account (or fails it, as the localpart asks).
                if mailbox.localpart.value.hasPrefix("rcptto"),
                    let failure = await Self.simulatedFailure(mailbox.localpart.value, stage: "command")
                {
                    return .reject(failure)
                }
                queued = true
            } else if let address = mailbox.address {
                if case .unknownDomain = config.dynamicConfig.lookup(address, postmaster: config.staticConfig.postmaster) {
                    queued = true
                } else {
                    queued = false
                }
            } else {
                // RFC 5321 4.1.3: an address literal names the host to deliver to; submitted
                // mail for it is queued, as mox does.
                queued = true
            }
            if queued {
                if let account, let entry = try? outgoing.queue.suppression(account: account, address: mailbox.formatted) {
                    // Checked before queuing, so the sender learns at once (mox fails it at delivery).
                    return .reject(
                        SMTPReply(550, .badDestinationMailbox, "recipient address is on the suppression list of the account: \(entry.reason)")
                    )
                }
                return .accept(.queue)
            }
        }
        let address: Address
        switch path {
        case .postmaster:
            // RFC 5321 4.5.1: plain "postmaster" must be accepted.
            let postmaster = config.staticConfig.postmaster
            return .accept(DeliveryRoute(account: postmaster.account, mailbox: postmaster.mailbox))
        case .mailbox(let mailbox):
            guard let a = mailbox.address else {
                if self.localserve || submission {
                    return .accept(self.localserveRoute(for: nil))
                }
                return .reject(SMTPReply(550, .badDestinationMailbox, "not accepting email for ip"))
            }
            address = a
        }
        if self.localserve && address.localpart.value.hasPrefix("rcptto"),
            let failure = await Self.simulatedFailure(address.localpart.value, stage: "command")
        {
            return .reject(failure)
        }
        switch config.dynamicConfig.lookup(address, postmaster: config.staticConfig.postmaster) {
        case .local(let destination):
            if !destination.smtpError.isEmpty {
                return .reject(Self.configuredError(destination.smtpError))
            }
            return .accept(DeliveryRoute(account: destination.account, mailbox: destination.mailbox))
        case .domainDisabled:
            return .reject(
                SMTPReply(450, EnhancedCode(class: 4, subject: 2, detail: 1), "recipient domain temporarily disabled")
            )
        case .unknownAddress where self.localserve, .unknownDomain where self.localserve:
            // localserve: everything lands in the one account.
            return .accept(self.localserveRoute(for: address))
        case .unknownAddress:
            return .reject(SMTPReply(550, .badDestinationMailbox, "no such user"))
        case .unknownDomain:
            if submission {
                // Until the outgoing queue exists, mail for other domains is refused with a
                // temporary error, never accepted and dropped.
                return .reject(
                    SMTPReply(
                        451,
                        EnhancedCode(class: 4, subject: 3, detail: 0),
                        "delivery to other domains is not available yet (no outgoing queue)"
                    )
                )
            }
            return .reject(SMTPReply(550, .badDestinationMailbox, "not accepting email for domain"))
        }
    }

    func localserveRoute(for address: Address?) -> DeliveryRoute {
        DeliveryRoute(account: self.localserveAccount, mailbox: "", simulatedFailureLocalpart: address?.localpart.value ?? "")
    }

    /// A destination's SMTPError setting, "550 5.7.1 text" or a code and text.
    static func configuredError(_ setting: String) -> SMTPReply {
        let parts = setting.split(separator: " ", maxSplits: 2).map(String.init)
        let code = parts.first.flatMap { Int($0) }.flatMap { (400..<600).contains($0) ? $0 : nil } ?? 550
        var enhanced: EnhancedCode?
        var rest = parts.dropFirst()
        if let first = rest.first {
            let numbers = first.split(separator: ".").compactMap { Int($0) }
            if numbers.count == 3 {
                enhanced = EnhancedCode(class: numbers[0], subject: numbers[1], detail: numbers[2])
                rest = rest.dropFirst()
            }
        }
        return SMTPReply(
            code,
            enhanced ?? EnhancedCode(class: code / 100, subject: 0, detail: 0),
            rest.joined(separator: " ").isEmpty ? "rejected" : rest.joined(separator: " ")
        )
    }

    /// localserve: the failure a localpart asks for, by its ending: "temperror" 451,
    /// "permerror" 550, three digits 400 to 600 that code, "timeout" no reply for an hour.
    public static func simulatedFailure(_ localpart: String, stage: String) async -> SMTPReply? {
        let code: Int
        if localpart.hasSuffix("temperror") {
            code = 451
        } else if localpart.hasSuffix("permerror") {
            code = 550
        } else if localpart.hasSuffix("timeout") {
            try? await Task.sleep(for: .seconds(3600))
            return SMTPReply(
                451,
                EnhancedCode(class: 4, subject: 3, detail: 0),
                "timing out \(stage) due to special localpart"
            )
        } else if localpart.utf8.count >= 3, let value = Int(localpart.suffix(3)), (400...600).contains(value),
            localpart.suffix(3).allSatisfy(\.isASCII)
        {
            code = value
        } else {
            return nil
        }
        return SMTPReply(
            code,
            EnhancedCode(class: code / 100, subject: 0, detail: 0),
            "failure with code \(code) due to special localpart"
        )
    }

    // MARK: - The message

    /// A new temporary file in the data directory for a message being received.
    public func makeSpool() throws(SpoolError) -> MessageSpool {
        try MessageSpool(directory: self.config.dataDirPath("tmp"))
    }

    /// After the message is received: nil continues. On submission its From must be a single
    /// address of the authenticated account, as mox requires.
    public func checkMessage(_ header: Header, submittedBy account: String?) -> SMTPReply? {
        guard let account else { return nil }
        guard let from = header.first("From") else {
            return SMTPReply(550, EnhancedCode(class: 5, subject: 6, detail: 0), "message has no From header")
        }
        let addresses = AddressList.mailboxes(from)
        guard addresses.count == 1, let address = addresses[0].address else {
            return SMTPReply(550, EnhancedCode(class: 5, subject: 6, detail: 0), "cannot parse From address")
        }
        guard self.config.dynamicConfig.accountMayUse(account, address) else {
            return SMTPReply(550, .deliveryNotAuthorized, "message from address must belong to authenticated user")
        }
        return nil
    }

    /// Stores the message for every recipient, in parallel, each with its own header lines in
    /// front (`received` gives the Received field for a recipient, with the client's reverse
    /// name when iprev found one); one result per recipient, in order, nil when stored durably.
    /// Mail from other servers is checked first (iprev, SPF, DKIM, DMARC) and may be refused
    /// as a whole; submitted mail is signed with the From domain's DKIM keys.
    public func deliver(
        _ message: SpooledMessage,
        origin: DeliveryOrigin,
        recipients: [AcceptedRecipient],
        received: @escaping @Sendable (ForwardPath?, _ reverseName: String) -> String
    ) async -> [SMTPReply?] {
        let time = Int64(WallClockSeconds.now())
        let metadata = DeliveryMetadata(
            remoteIP: origin.remoteIP,
            ehloDomain: origin.ehloDomain,
            mailFrom: origin.mailFrom.mailbox?.formatted ?? ""
        )
        var authHeaders = ""
        var added = ""
        var reverseName = ""
        var quarantine = false
        var deliveredReason = ""
        var log = self.log
        log[metadataKey: "cid"] = "\(origin.connectionID)"
        if origin.submission {
            added = Self.submissionHeaders(message.scanned.header, hostname: self.config.staticConfig.hostname, now: time)
            added += self.dkimSignatures(message, added: added, now: Int(time), log: log)
            added += Self.submissionAuthResults(hostname: self.config.staticConfig.hostname, mailFrom: origin.mailFrom)
        } else if let authenticator = self.authenticator, let ip = IPAddress(origin.remoteIP) {
            let verdict = await authenticator.check(
                IncomingOrigin(remoteIP: ip, hello: origin.ehloDomain, mailFrom: origin.mailFrom), message: message,
                now: Int(time)
            )
            log.info(
                "message authentication",
                metadata: [
                    "iprev": "\(verdict.iprev.status.rawValue)", "spf": "\(verdict.spf.status.rawValue)",
                    "dkim": "\(verdict.dkim.map(\.status.rawValue).joined(separator: ","))",
                    "dmarc": "\(verdict.dmarc.status.rawValue)", "fromdomain": "\(verdict.fromDomain ?? "")",
                ]
            )
            if let refusal = verdict.refusal {
                log.info(
                    "incoming message rejected",
                    metadata: [
                        "reason": "\(verdict.refusalReason)", "reply": "\(refusal.code) \(refusal.text)",
                        "dmarcproblem": "\(verdict.dmarc.problem)",
                    ]
                )
                return Self.refuse(recipients, refusal, reason: verdict.refusalReason)
            }
            let zones = self.config.staticConfig.listeners[origin.listenerName]?.smtp.dnsbls ?? []
            if !verdict.quarantine, !zones.isEmpty,
                let listing = await authenticator.blocklisting(ip, zones: zones, log: log)
            {
                // As mox: a listing is answered like a local problem, so the sender retries later
                // (and a listing that was a mistake costs a delay, not a lost message).
                log.info(
                    "incoming message rejected",
                    metadata: ["reason": "dns-blocklisted", "zone": "\(listing.zone)", "explanation": "\(listing.explanation)"]
                )
                return Self.refuse(recipients, SMTPReply(451, EnhancedCode(class: 4, subject: 3, detail: 0), "error processing"), reason: "dns-blocklisted")
            }
            authHeaders = verdict.headers
            deliveredReason = verdict.quarantine ? "dmarc-policy" : "no-bad-signals"
            self.matchFromID(message, recipients: recipients, now: time, log: log)
            reverseName = verdict.iprev.displayName
            quarantine = verdict.quarantine
        }
        var queueResult: SMTPReply??
        var simulated: [Int: SMTPReply] = [:]
        if self.localserve && origin.submission {
            // As mox's localserve: a submission to a special localpart fails at DATA, and is not queued.
            for (index, recipient) in recipients.enumerated() where recipient.route.outgoing {
                let localpart = recipient.path.mailbox?.localpart.value ?? ""
                if !localpart.hasPrefix("mailfrom"), !localpart.hasPrefix("rcptto"),
                    let failure = await Self.simulatedFailure(localpart, stage: "submission")
                {
                    simulated[index] = failure
                }
            }
        }
        let outgoingRecipients = recipients.enumerated().filter { $0.element.route.outgoing && simulated[$0.offset] == nil }.map(\.element)
        if !outgoingRecipients.isEmpty {
            queueResult = await self.enqueue(
                message, origin: origin, recipients: outgoingRecipients.map(\.path), added: added,
                received: received(outgoingRecipients.count == 1 ? outgoingRecipients[0].path : nil, reverseName),
                now: time, log: log
            )
        }
        return await withTaskGroup(of: (Int, SMTPReply?).self) { group in
            for (index, recipient) in recipients.enumerated() where !recipient.route.outgoing {
                // RFC 9228 4 (Delivered-To) and RFC 5321 4.4 (Return-Path) for the local delivery,
                // the checks' results (RFC 8601, RFC 7208 9.1), then the trace header naming this
                // recipient, as mox orders them.
                let prefix =
                    "Delivered-To: \(recipient.path.mailbox?.formatted ?? "postmaster")\r\n"
                    + "Return-Path: \(origin.mailFrom.formatted)\r\n"
                    + authHeaders
                    + received(recipient.path, reverseName)
                    + added
                var recipient = recipient
                if quarantine {
                    // RFC 7489 6.3 p=quarantine: delivered, as suspicious: to Junk.
                    recipient.route.mailbox = "Junk"
                }
                group.addTask {
                    let result = await self.deliverOne(
                        message,
                        prefix: Array(prefix.utf8),
                        recipient,
                        received: time,
                        metadata: metadata,
                        cid: origin.connectionID
                    )
                    return (index, result)
                }
            }
            var results = [SMTPReply?](repeating: nil, count: recipients.count)
            for (index, recipient) in recipients.enumerated() where recipient.route.outgoing {
                results[index] = simulated[index] ?? queueResult ?? nil
            }
            for await (index, result) in group {
                results[index] = result
            }
            if !origin.submission {
                for result in results {
                    MoxMetrics.smtpDelivery(result: result == nil ? "delivered" : "delivererror", reason: deliveredReason)
                }
            }
            return results
        }
    }

    /// The same refusal for every recipient of an incoming message, counted under mox's reason.
    static func refuse(_ recipients: [AcceptedRecipient], _ reply: SMTPReply, reason: String) -> [SMTPReply?] {
        for _ in recipients {
            MoxMetrics.smtpDelivery(result: "reject", reason: reason)
        }
        return recipients.map { _ in reply }
    }

    /// DKIM-Signature fields for a submitted message whose From domain signs (RFC 6376 5),
    /// over the header fields `added` in front of it and the message. A failure is logged and
    /// the message goes out unsigned, as mox does.
    func dkimSignatures(_ message: SpooledMessage, added: String, now: Int, log: Logger) -> String {
        let ring = self.dkimKeyring
        guard !ring.signers.isEmpty else { return "" }
        let fields = message.scanned.header.values("From")
        guard fields.count == 1, let from = AddressList.mailboxes(fields[0]).first?.address else { return "" }
        guard ring.signers[from.domain.ascii] != nil else { return "" }
        let bodyStart = message.scanned.root.bodyStart
        do {
            let header = Array(added.utf8) + (try message.read(offset: 0, count: bodyStart))
            return try ring.sign(from: from, header: header, body: message.bodySource(from: bodyStart), now: now) ?? ""
        } catch {
            log.error("dkim signing failed, message not signed", metadata: ["domain": "\(from.domain.ascii)", "error": "\(error)"])
            return ""
        }
    }

    /// mox's record of an authenticated submission: "auth=pass smtp.mailfrom=<address>".
    static func submissionAuthResults(hostname: String, mailFrom: ReversePath) -> String {
        AuthResults(
            hostname: hostname,
            methods: [
                .init("auth", "pass", properties: [.init("smtp", "mailfrom", mailFrom.mailbox?.formatted ?? "", addressLike: true)])
            ]
        ).header
    }

    func deliverOne(
        _ message: SpooledMessage,
        prefix: [UInt8],
        _ recipient: AcceptedRecipient,
        received: Int64,
        metadata: DeliveryMetadata,
        cid: String
    ) async -> SMTPReply? {
        let route = recipient.route
        if self.localserve, let localpart = route.simulatedFailureLocalpart,
            !localpart.hasPrefix("mailfrom"), !localpart.hasPrefix("rcptto"),
            let failure = await Self.simulatedFailure(localpart, stage: "delivery")
        {
            return failure
        }
        let size = prefix.count + message.size
        var log = self.log
        log[metadataKey: "cid"] = "\(cid)"
        do {
            let delivered = try await self.accounts.deliver(
                message,
                prefix: prefix,
                account: route.account,
                mailbox: route.mailbox,
                received: received,
                metadata: metadata,
                quota: self.config.quota(account: route.account)
            )
            log.info(
                "delivered",
                metadata: [
                    "account": "\(route.account)", "rcpt": "\(recipient.path.formatted)", "uid": "\(delivered.uid)",
                    "size": "\(size)",
                ]
            )
            return nil
        } catch let error as StoreError where error.kind == .quotaExceeded {
            log.info("account over quota", metadata: ["account": "\(route.account)", "size": "\(size)"])
            // RFC 3463 X.2.2, mox's reply: a temporary failure, the account may be cleaned up.
            return SMTPReply(452, EnhancedCode(class: 4, subject: 2, detail: 2), "account storage full")
        } catch {
            log.error("delivery failed", metadata: ["account": "\(route.account)", "error": "\(error)"])
            return SMTPReply(451, EnhancedCode(class: 4, subject: 3, detail: 0), "error storing message, try again later")
        }
    }

    /// RFC 6409 8.3, RFC 5322 3.6: a submitted message without Message-ID or Date gets them, as
    /// mox adds them (a random id at the host name; the date in the server's time zone).
    static func submissionHeaders(_ header: Header, hostname: String, now: Int64) -> String {
        var out = ""
        if header.first("Message-ID") == nil {
            var rng = SystemRandomNumberGenerator()
            let random = (0..<16).map { _ in UInt8.random(in: 0...255, using: &rng) }
            out += "Message-Id: <\(Self.base64URL(random))@\(hostname)>\r\n"
        }
        if header.first("Date") == nil {
            out += "Date: \(MessageDate(unixTime: now, zoneMinutes: Self.localZoneMinutes(now)).formatted)\r\n"
        }
        return out
    }

    /// Unpadded base64url (RFC 4648 5).
    static func base64URL(_ bytes: [UInt8]) -> String {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)
        var out: [UInt8] = []
        var i = 0
        while i < bytes.count {
            let b0 = UInt32(bytes[i])
            let b1 = i + 1 < bytes.count ? UInt32(bytes[i + 1]) : 0
            let b2 = i + 2 < bytes.count ? UInt32(bytes[i + 2]) : 0
            let n = b0 << 16 | b1 << 8 | b2
            let chars = [n >> 18 & 63, n >> 12 & 63, n >> 6 & 63, n & 63].map { alphabet[Int($0)] }
            out += chars.prefix(min(4, (bytes.count - i) * 4 / 3 + 1))
            i += 3
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// The local time zone's offset from UTC at `time`, in minutes.
    static func localZoneMinutes(_ time: Int64) -> Int {
        var t = time_t(time)
        var parts = tm()
        guard localtime_r(&t, &parts) != nil else { return 0 }
        return Int(parts.tm_gmtoff) / 60
    }
}

extension Config {
    /// The mailboxes the account's destinations and rulesets deliver to, mailing-list rules left
    /// out (they file list mail, not mail for the user), for NOTIFY's "inboxes".
    public func deliveryMailboxes(account: String) -> Set<String> {
        var out = Set<String>()
        for destination in (self.dynamicConfig.accounts[account]?.destinations ?? [:]).values {
            if !destination.mailbox.isEmpty { out.insert(destination.mailbox) }
            for rule in destination.rulesets where rule.listAllowDomain.isEmpty && !rule.mailbox.isEmpty {
                out.insert(rule.mailbox)
            }
        }
        return out
    }

    /// The account's limit on the total size of its messages: its own QuotaMessageSize when not
    /// 0 (negative: no limit), else mox.conf's default when above 0; nil for no limit.
    public func quota(account: String) -> Int64? {
        let own = self.dynamicConfig.accounts[account]?.quotaMessageSize ?? 0
        if own > 0 { return own }
        if own < 0 { return nil }
        let fallback = self.staticConfig.quotaMessageSize
        return fallback > 0 ? fallback : nil
    }
}

/// Wall-clock seconds since 1970.
enum WallClockSeconds {
    static func now() -> Int {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return ts.tv_sec
    }
}
