// The SMTP server's backend: the protocol's view of MailDelivery (sender and recipient checks,
// delivery of the spooled message) and of the Authenticator (logins). In localserve mode every
// recipient is accepted into the mox account, and special localparts simulate failures.

import Logging
import MailConfig
import MailDelivery
import MailMessage
import MailSASL
import MailSpool
import SMTPProtocol
import SMTPServer

public final class StoreSMTPBackend: SMTPBackend {
    /// Recipient lookup, the delivery decision and the write into the accounts.
    public let delivery: Deliverer
    /// The credential check every protocol uses.
    public let authenticator: Authenticator
    let log: Logger

    public init(
        config: Config, accounts: AccountRegistry, localserve: Bool, log: Logger, authenticator: MessageAuthenticator? = nil,
        outgoing: OutgoingQueue? = nil
    ) {
        self.delivery = Deliverer(
            config: config,
            accounts: accounts,
            localserve: localserve,
            localserveAccount: LocalserveSetup.accountName,
            log: log,
            authenticator: authenticator,
            outgoing: outgoing
        )
        self.authenticator = Authenticator(accounts: accounts, log: log, config: config)
        self.log = log
    }

    public var accounts: AccountRegistry { self.delivery.accounts }

    /// The current configuration (domains.conf is reloaded while running).
    public var config: Config { self.delivery.config }

    public func replaceConfig(_ config: Config) {
        self.delivery.replaceConfig(config)
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

    // MARK: - Transaction (MailDelivery decides)

    public func checkMailFrom(_ client: SMTPClientInfo, _ path: ReversePath, _ parameters: MailParameters) async -> SMTPReply? {
        await self.delivery.checkSender(path, submittedBy: client.listener.isSubmission ? client.account : nil)
    }

    public func checkRecipient(
        _ client: SMTPClientInfo,
        _ path: ForwardPath,
        _ parameters: RcptParameters,
        mailFrom: ReversePath
    ) async -> SMTPRecipientDecision {
        switch await self.delivery.checkRecipient(
            path, submission: client.listener.isSubmission, account: client.listener.isSubmission ? client.account : nil
        ) {
        case .accept(let route): return .accept(route: route)
        case .reject(let reply): return .reject(reply)
        }
    }

    public func makeSpool() throws(SpoolError) -> MessageSpool {
        try self.delivery.makeSpool()
    }

    public func checkMessage(_ client: SMTPClientInfo, _ envelope: SMTPEnvelope, message: SpooledMessage) async -> SMTPReply? {
        self.delivery.checkMessage(message.scanned.header, submittedBy: client.listener.isSubmission ? client.account : nil)
    }

    public func deliver(
        _ client: SMTPClientInfo,
        _ envelope: SMTPEnvelope,
        message: SpooledMessage,
        received trace: SMTPReceivedTrace
    ) async -> [SMTPDeliveryResult] {
        var recipients: [AcceptedRecipient] = []
        for recipient in envelope.recipients {
            guard let route = recipient.route as? DeliveryRoute else {
                // Not a route of ours: cannot happen, as checkRecipient made them all.
                return envelope.recipients.map { _ in SMTPReply(451, .systemOther, "internal error") }
            }
            recipients.append(AcceptedRecipient(path: recipient.path, route: route))
        }
        var origin = DeliveryOrigin(
            remoteIP: client.remoteIP,
            ehloDomain: client.hello,
            mailFrom: envelope.mailFrom,
            submission: client.listener.isSubmission,
            connectionID: client.connectionID,
            listenerName: client.listenerName,
            account: client.listener.isSubmission ? client.account : nil
        )
        origin.loginAddress = client.listener.isSubmission ? client.username : nil
        origin.smtputf8 = envelope.mailParameters.smtputf8
        origin.requireTLS = envelope.mailParameters.requireTLS
        return await self.delivery.deliver(message, origin: origin, recipients: recipients) { path, reverseName in
            var trace = trace
            trace.reverseName = reverseName
            return trace.header(for: path)
        }
    }
}
