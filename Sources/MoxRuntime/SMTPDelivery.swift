// The SMTP server's backend over the configuration and the store: logins, which recipients are
// accepted, and delivery into accounts. In localserve mode every recipient is accepted into the
// mox account, and special localparts simulate failures.

import MailAddress
import MailConfig
import MailMessage
import MailSASL
import MailStore
import SMTPProtocol
import SMTPServer
import Synchronization

public final class StoreSMTPBackend: SMTPBackend {
    private let configuration: Mutex<Config>
    let accounts: AccountRegistry
    let localserve: Bool
    let log: Logger
    /// auth.db, opened at the first connection with a client certificate and kept open: the
    /// command line's changes to it are seen through SQLite.
    let tlsKeys = TLSKeysOnce()

    public init(config: Config, accounts: AccountRegistry, localserve: Bool, log: Logger) {
        self.configuration = Mutex(config)
        self.accounts = accounts
        self.localserve = localserve
        self.log = log
    }

    /// The current configuration (domains.conf is reloaded while running).
    public var config: Config {
        self.configuration.withLock { $0 }
    }

    public func replaceConfig(_ config: Config) {
        self.configuration.withLock { $0 = config }
    }

    // MARK: - Authentication

    /// The account a login name belongs to: an email address configured as a destination of an
    /// account (not a catchall), as mox requires for logins.
    func accountForLogin(_ username: String) -> String? {
        guard let address = Address.parse(username) else { return nil }
        let config = self.config
        guard case .local(let destination) = config.dynamicConfig.lookup(address, postmaster: Postmaster()),
            !destination.canonicalAddress.hasPrefix("@")
        else {
            return nil
        }
        guard let account = config.dynamicConfig.accounts[destination.account], account.loginDisabled.isEmpty else {
            return nil
        }
        return destination.account
    }

    public func verifyPassword(username: String, password: String) async -> SMTPAuthenticatedUser? {
        guard let name = self.accountForLogin(username) else { return nil }
        do {
            let account = try await self.accounts.account(name)
            guard try await account.verifyPlainPassword(password) else { return nil }
            return SMTPAuthenticatedUser(account: name, username: username)
        } catch {
            self.log.error("verifying password", ["account": name, "error": "\(error)"])
            return nil
        }
    }

    public func scramKeys(username: String, hash: SCRAMHash) async -> (SMTPAuthenticatedUser, SCRAMServerKeys)? {
        guard let name = self.accountForLogin(username) else { return nil }
        do {
            let account = try await self.accounts.account(name)
            guard let credentials = try await account.scramCredentials(hash) else {
                return nil
            }
            return (SMTPAuthenticatedUser(account: name, username: username), credentials.serverKeys)
        } catch {
            self.log.error("reading scram credentials", ["account": name, "error": "\(error)"])
            return nil
        }
    }

    public func verifyCRAMMD5(username: String, challenge: [UInt8], digest: [UInt8]) async -> SMTPAuthenticatedUser? {
        guard let name = self.accountForLogin(username) else { return nil }
        do {
            let account = try await self.accounts.account(name)
            guard try await account.verifyCRAMMD5(challenge: challenge, digest: digest) else { return nil }
            return SMTPAuthenticatedUser(account: name, username: username)
        } catch {
            self.log.error("verifying cram-md5", ["account": name, "error": "\(error)"])
            return nil
        }
    }

    /// The key registered with `mox config tlspubkey add` under this fingerprint, with its login
    /// address still belonging to the key's account, and whether IMAP may log it in at once.
    func tlsPublicKey(fingerprint: String) -> (user: SMTPAuthenticatedUser, imapPreauth: Bool)? {
        let dataDir = self.config.dataDirPath(".")
        do {
            let keys = try self.tlsKeys.store.withLock { open throws(StoreError) in
                if let open { return open }
                let keys = try TLSPublicKeyStore.open(dataDir: dataDir)
                open = keys
                return keys
            }
            guard let key = try keys.key(fingerprint: fingerprint), self.accountForLogin(key.loginAddress) == key.account
            else {
                return nil
            }
            return (SMTPAuthenticatedUser(account: key.account, username: key.loginAddress), !key.noIMAPPreauth)
        } catch {
            self.log.error("looking up tls public key", ["error": "\(error)"])
            return nil
        }
    }

    public func tlsClientUser(fingerprint: String) async -> SMTPAuthenticatedUser? {
        self.tlsPublicKey(fingerprint: fingerprint)?.user
    }

    public func user(address: String) async -> SMTPAuthenticatedUser? {
        self.accountForLogin(address).map { SMTPAuthenticatedUser(account: $0, username: address) }
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

    public func checkMessage(_ client: SMTPClientInfo, _ envelope: SMTPEnvelope, message: [UInt8]) async -> SMTPReply? {
        guard client.listener.isSubmission, let account = client.account else { return nil }
        // mox: on submission the message's From must also be an address of the account.
        let header = Message(parsing: message).header
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
        message: [UInt8]
    ) async -> [SMTPDeliveryResult] {
        let received = Int64(WallClock.seconds())
        let metadata = DeliveryMetadata(
            remoteIP: client.remoteIP,
            ehloDomain: client.hello,
            mailFrom: envelope.mailFrom.mailbox?.formatted ?? ""
        )
        return await withTaskGroup(of: (Int, SMTPDeliveryResult).self) { group in
            for (index, recipient) in envelope.recipients.enumerated() {
                group.addTask {
                    (index, await self.deliverOne(message, recipient, received: received, metadata: metadata))
                }
            }
            var results = [SMTPDeliveryResult](repeating: nil, count: envelope.recipients.count)
            for await (index, result) in group {
                results[index] = result
            }
            return results
        }
    }

    func deliverOne(
        _ message: [UInt8],
        _ recipient: SMTPAcceptedRecipient,
        received: Int64,
        metadata: DeliveryMetadata
    ) async -> SMTPDeliveryResult {
        let route = Route(decoding: recipient.route)
        if self.localserve, let localpart = recipient.path.mailbox?.localpart.value,
            !localpart.hasPrefix("mailfrom"), !localpart.hasPrefix("rcptto"),
            let failure = await Self.simulatedFailure(localpart, stage: "delivery")
        {
            return failure
        }
        do {
            let delivered = try await self.accounts.deliver(
                message,
                account: route.account,
                mailbox: route.mailbox,
                received: received,
                metadata: metadata,
                quota: self.config.quota(account: route.account)
            )
            self.log.info(
                "delivered",
                [
                    "account": route.account, "rcpt": recipient.path.formatted, "uid": "\(delivered.uid)",
                    "size": "\(message.count)",
                ]
            )
            return nil
        } catch let error as StoreError where error.kind == .quotaExceeded {
            self.log.info("account over quota", ["account": route.account, "size": "\(message.count)"])
            // RFC 3463 X.2.2, mox's reply: a temporary failure, the account may be cleaned up.
            return SMTPReply(452, EnhancedCode(class: 4, subject: 2, detail: 2), "account storage full")
        } catch {
            self.log.error("delivery failed", ["account": route.account, "error": "\(error)"])
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
