// The SMTP server's backend over the configuration and the store: logins, which recipients are
// accepted, and delivery into accounts. In localserve mode every recipient is accepted into the
// mox account, and special localparts simulate failures.

import MailAddress
import Logging
import MailConfig
import MailMessage
import MailSASL
import MailSpool
import MailStore
import SMTPProtocol
import SMTPServer
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

public final class StoreSMTPBackend: SMTPBackend {
    private let configuration: Mutex<Config>
    let accounts: AccountRegistry
    let localserve: Bool
    let log: Logger
    /// The credential check every protocol uses.
    public let authenticator: Authenticator

    public init(config: Config, accounts: AccountRegistry, localserve: Bool, log: Logger) {
        let configuration = Mutex(config)
        self.configuration = configuration
        self.accounts = accounts
        self.localserve = localserve
        self.log = log
        self.authenticator = Authenticator(accounts: accounts, log: log, config: config)
    }

    /// The current configuration (domains.conf is reloaded while running).
    public var config: Config {
        self.configuration.withLock { $0 }
    }

    public func replaceConfig(_ config: Config) {
        self.configuration.withLock { $0 = config }
        self.authenticator.replaceConfig(config)
    }

    // MARK: - Authentication (one check for every protocol: `Authenticator`)

    public func verifyPassword(username: String, password: String) async -> SMTPAuthenticatedUser? {
        await self.authenticator.verifyPassword(username: username, password: password)
    }

    public func scramKeys(username: String, hash: SCRAMHash) async -> (SMTPAuthenticatedUser, SCRAMServerKeys)? {
        await self.authenticator.scramKeys(username: username, hash: hash)
    }

    public func verifyCRAMMD5(username: String, challenge: [UInt8], digest: [UInt8]) async -> SMTPAuthenticatedUser? {
        await self.authenticator.verifyCRAMMD5(username: username, challenge: challenge, digest: digest)
    }

    public func tlsClientUser(fingerprint: String) async -> SMTPAuthenticatedUser? {
        self.authenticator.tlsPublicKey(fingerprint: fingerprint)?.user
    }

    public func user(address: String) async -> SMTPAuthenticatedUser? {
        self.authenticator.user(address: address)
    }

    // MARK: - MAIL FROM, RCPT TO

    public func checkMailFrom(
        _ client: SMTPClientInfo,
        _ path: ReversePath,
        _ parameters: MailParameters
    ) async
        -> SMTPReply?
    {
        if self.localserve, let mailbox = path.mailbox, mailbox.localpart.value.hasPrefix("mailfrom"),
            let failure = await Self.simulatedFailure(mailbox.localpart.value, stage: "command")
        {
            return failure
        }
        guard client.listener.isSubmission, let account = client.account else { return nil }
        // RFC 6409 4.1 / mox: the null reverse path is allowed; any other must be an address of the
        // authenticated account.
        guard let mailbox = path.mailbox else { return nil }
        guard let address = mailbox.address, self.config.dynamicConfig.accountMayUse(account, address) else {
            return SMTPReply(550, .deliveryNotAuthorized, "must match authenticated user")
        }
        return nil
    }

    public func checkRecipient(
        _ client: SMTPClientInfo,
        _ path: ForwardPath,
        _ parameters: RcptParameters,
        mailFrom: ReversePath
    ) async -> SMTPRecipientDecision {
        let config = self.config
        let address: Address
        switch path {
        case .postmaster:
            // RFC 5321 4.5.1: plain "postmaster" must be accepted.
            let postmaster = config.staticConfig.postmaster
            return .accept(route: Route(account: postmaster.account, mailbox: postmaster.mailbox).encoded)
        case .mailbox(let mailbox):
            guard let a = mailbox.address else {
                if self.localserve || client.listener.isSubmission {
                    return .accept(route: self.localserveRoute(for: nil))
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
            return .accept(route: Route(account: destination.account, mailbox: destination.mailbox).encoded)
        case .domainDisabled:
            return .reject(
                SMTPReply(450, EnhancedCode(class: 4, subject: 2, detail: 1), "recipient domain temporarily disabled")
            )
        case .unknownAddress where self.localserve, .unknownDomain where self.localserve:
            // localserve: everything lands in the mox account.
            return .accept(route: self.localserveRoute(for: address))
        case .unknownAddress:
            return .reject(SMTPReply(550, .badDestinationMailbox, "no such user"))
        case .unknownDomain:
            if client.listener.isSubmission {
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

    func localserveRoute(for address: Address?) -> String {
        Route(account: LocalserveSetup.accountName, mailbox: "", localpart: address?.localpart.value ?? "").encoded
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
    static func simulatedFailure(_ localpart: String, stage: String) async -> SMTPReply? {
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

    public func makeSpool() throws(SpoolError) -> MessageSpool {
        try MessageSpool(directory: self.config.dataDirPath("tmp"))
    }

    public func checkMessage(_ client: SMTPClientInfo, _ envelope: SMTPEnvelope, message: SpooledMessage) async -> SMTPReply? {
        guard client.listener.isSubmission, let account = client.account else { return nil }
        // mox: on submission the message's From must also be an address of the account.
        let header = message.scanned.header
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

    public func deliver(
        _ client: SMTPClientInfo,
        _ envelope: SMTPEnvelope,
        message: SpooledMessage,
        received trace: SMTPReceivedTrace
    ) async -> [SMTPDeliveryResult] {
        let received = Int64(WallClock.seconds())
        let metadata = DeliveryMetadata(
            remoteIP: client.remoteIP,
            ehloDomain: client.hello,
            mailFrom: envelope.mailFrom.mailbox?.formatted ?? ""
        )
        let added = client.listener.isSubmission
            ? Self.submissionHeaders(message.scanned.header, hostname: self.config.staticConfig.hostname)
            : ""
        return await withTaskGroup(of: (Int, SMTPDeliveryResult).self) { group in
            for (index, recipient) in envelope.recipients.enumerated() {
                // RFC 9228 4 (Delivered-To) and RFC 5321 4.4 (Return-Path) for the local delivery,
                // then the trace header naming this recipient, as mox orders them.
                let prefix =
                    "Delivered-To: \(recipient.path.mailbox?.formatted ?? "postmaster")\r\n"
                    + "Return-Path: \(envelope.mailFrom.formatted)\r\n"
                    + trace.header(for: recipient.path)
                    + added
                group.addTask {
                    (
                        index,
                        await self.deliverOne(
                            message,
                            prefix: Array(prefix.utf8),
                            recipient,
                            received: received,
                            metadata: metadata,
                            cid: client.connectionID
                        )
                    )
                }
            }
            var results = [SMTPDeliveryResult](repeating: nil, count: envelope.recipients.count)
            for await (index, result) in group {
                results[index] = result
            }
            return results
        }
    }

    /// RFC 6409 8.3, RFC 5322 3.6: a submitted message without Message-ID or Date gets them, as
    /// mox adds them (a random id at the host name; the date in the server's time zone).
    static func submissionHeaders(_ header: Header, hostname: String, now: Int64 = Int64(WallClock.seconds())) -> String {
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

    static func base64URL(_ bytes: [UInt8]) -> String {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)
        var out: [UInt8] = []
        var i = 0
        while i + 2 < bytes.count {
            let n = UInt32(bytes[i]) << 16 | UInt32(bytes[i + 1]) << 8 | UInt32(bytes[i + 2])
            out += [alphabet[Int(n >> 18 & 63)], alphabet[Int(n >> 12 & 63)], alphabet[Int(n >> 6 & 63)], alphabet[Int(n & 63)]]
            i += 3
        }
        let rest = bytes.count - i
        if rest == 1 {
            let n = UInt32(bytes[i]) << 16
            out += [alphabet[Int(n >> 18 & 63)], alphabet[Int(n >> 12 & 63)]]
        } else if rest == 2 {
            let n = UInt32(bytes[i]) << 16 | UInt32(bytes[i + 1]) << 8
            out += [alphabet[Int(n >> 18 & 63)], alphabet[Int(n >> 12 & 63)], alphabet[Int(n >> 6 & 63)]]
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

    func deliverOne(
        _ message: SpooledMessage,
        prefix: [UInt8],
        _ recipient: SMTPAcceptedRecipient,
        received: Int64,
        metadata: DeliveryMetadata,
        cid: String
    ) async -> SMTPDeliveryResult {
        let route = Route(decoding: recipient.route)
        if self.localserve, let localpart = recipient.path.mailbox?.localpart.value,
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
            return SMTPReply(
                451,
                EnhancedCode(class: 4, subject: 3, detail: 0),
                "error storing message, try again later"
            )
        }
    }
}

/// Where an accepted recipient's message goes, carried through the SMTP session as a string.
struct Route {
    var account: String
    var mailbox: String
    var localpart = ""

    var encoded: String { [self.account, self.mailbox, self.localpart].joined(separator: "\t") }

    init(account: String, mailbox: String, localpart: String = "") {
        self.account = account
        self.mailbox = mailbox
        self.localpart = localpart
    }

    init(decoding text: String) {
        let parts = text.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
        self.account = parts.first ?? ""
        self.mailbox = parts.count > 1 ? parts[1] : ""
        self.localpart = parts.count > 2 ? parts[2] : ""
    }
}

extension Config {
    /// The mailboxes the account's destinations and rulesets deliver to, mailing-list rules left
    /// out (they file list mail, not mail for the user), for NOTIFY's "inboxes".
    func deliveryMailboxes(account: String) -> Set<String> {
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
    func quota(account: String) -> Int64? {
        let own = self.dynamicConfig.accounts[account]?.quotaMessageSize ?? 0
        if own > 0 { return own }
        if own < 0 { return nil }
        let fallback = self.staticConfig.quotaMessageSize
        return fallback > 0 ? fallback : nil
    }
}
