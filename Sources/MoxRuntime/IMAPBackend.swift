// The IMAP server's backend: logins are checked as for SMTP submission (the same accounts and
// addresses, through the SMTP backend), and a login opens the account in the server's registry,
// shared with SMTP delivery so both see each other's changes at once.

import IMAPServer
import MailConfig
import MailDelivery
import MailMessage
import MailSASL
import MailSpool
import MailStore
import SMTPServer
import Synchronization

public struct StoreIMAPBackend: IMAPBackend {
    let smtp: StoreSMTPBackend
    public init(_ smtp: StoreSMTPBackend) {
        self.smtp = smtp
    }

    public func verifyPassword(username: String, password: String) async -> IMAPUser? {
        await self.smtp.authenticator.verifyPassword(username: username, password: password)
    }

    public func scramKeys(username: String, hash: SCRAMHash) async -> (IMAPUser, SCRAMServerKeys)? {
        await self.smtp.authenticator.scramKeys(username: username, hash: hash)
    }

    public func verifyCRAMMD5(username: String, challenge: [UInt8], digest: [UInt8]) async -> IMAPUser? {
        await self.smtp.authenticator.verifyCRAMMD5(username: username, challenge: challenge, digest: digest)
    }

    public func account(_ name: String) async throws -> Account {
        try await self.smtp.accounts.account(name)
    }

    public func searchText(of message: Message) -> String {
        SearchText.of(message)
    }

    public func makeSpool() throws(SpoolError) -> MessageSpool {
        try self.smtp.makeSpool()
    }

    public func quota(account: String) -> Int64? {
        self.smtp.config.quota(account: account)
    }

    /// A key in the data directory's auth.db (`mox config tlspubkey add`) logs in as its
    /// address, if that address still belongs to the key's account and may log in.
    public func tlsClientUser(fingerprint: String) async -> (user: IMAPUser, preauth: Bool)? {
        self.smtp.authenticator.tlsPublicKey(fingerprint: fingerprint).map { ($0.user, $0.imapPreauth) }
    }

    public func user(address: String) async -> IMAPUser? {
        self.smtp.authenticator.user(address: address)
    }

    public func deliveryMailboxes(account: String) -> Set<String> {
        self.smtp.config.deliveryMailboxes(account: account)
    }
}
