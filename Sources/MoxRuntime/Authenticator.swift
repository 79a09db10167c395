// The one credential check of the server: passwords (PLAIN, LOGIN, the HTTP logins), SCRAM and
// CRAM-MD5 secrets, and TLS client certificates' public keys, over domains.conf and the accounts.
// SMTP submission, IMAP and the HTTP services all ask it, so they agree on who may log in.

import Logging
import MailAddress
import MailConfig
import MailDelivery
import MailSASL
import MailStore
import Synchronization

public final class Authenticator: Sendable {
    private let configuration: Mutex<Config>
    let accounts: AccountRegistry
    let log: Logger
    /// auth.db, opened at the first login with a client certificate and kept open: the command
    /// line's changes to it are seen through SQLite.
    let tlsKeys = Mutex<TLSPublicKeyStore?>(nil)

    public init(accounts: AccountRegistry, log: Logger, config: Config) {
        self.configuration = Mutex(config)
        self.accounts = accounts
        self.log = log
    }

    var config: Config { self.configuration.withLock { $0 } }

    func replaceConfig(_ config: Config) {
        self.configuration.withLock { $0 = config }
    }

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

    public func verifyPassword(username: String, password: String) async -> AuthenticatedUser? {
        guard let name = self.accountForLogin(username) else { return nil }
        do {
            let account = try await self.accounts.account(name)
            guard try await account.verifyPlainPassword(password) else { return nil }
            return AuthenticatedUser(account: name, username: username)
        } catch {
            self.log.error("verifying password", metadata: ["account": "\(name)", "error": "\(error)"])
            return nil
        }
    }

    public func scramKeys(username: String, hash: SCRAMHash) async -> (AuthenticatedUser, SCRAMServerKeys)? {
        guard let name = self.accountForLogin(username) else { return nil }
        do {
            let account = try await self.accounts.account(name)
            guard let credentials = try await account.scramCredentials(hash) else {
                return nil
            }
            return (AuthenticatedUser(account: name, username: username), credentials.serverKeys)
        } catch {
            self.log.error("reading scram credentials", metadata: ["account": "\(name)", "error": "\(error)"])
            return nil
        }
    }

    public func verifyCRAMMD5(username: String, challenge: [UInt8], digest: [UInt8]) async -> AuthenticatedUser? {
        guard let name = self.accountForLogin(username) else { return nil }
        do {
            let account = try await self.accounts.account(name)
            guard try await account.verifyCRAMMD5(challenge: challenge, digest: digest) else { return nil }
            return AuthenticatedUser(account: name, username: username)
        } catch {
            self.log.error("verifying cram-md5", metadata: ["account": "\(name)", "error": "\(error)"])
            return nil
        }
    }

    /// The key registered with `mox config tlspubkey add` under this fingerprint, with its login
    /// address still belonging to the key's account, and whether IMAP may log it in at once.
    func tlsPublicKey(fingerprint: String) -> (user: AuthenticatedUser, imapPreauth: Bool)? {
        let dataDir = self.config.dataDirPath(".")
        do {
            let keys = try self.tlsKeys.withLock { open throws(StoreError) in
                if let open { return open }
                let keys = try TLSPublicKeyStore.open(dataDir: dataDir)
                open = keys
                return keys
            }
            guard let key = try keys.key(fingerprint: fingerprint), self.accountForLogin(key.loginAddress) == key.account
            else {
                return nil
            }
            return (AuthenticatedUser(account: key.account, username: key.loginAddress), !key.noIMAPPreauth)
        } catch {
            self.log.error("looking up tls public key", metadata: ["error": "\(error)"])
            return nil
        }
    }

    /// The user of a login address (EXTERNAL's authorization identity).
    public func user(address: String) -> AuthenticatedUser? {
        self.accountForLogin(address).map { AuthenticatedUser(account: $0, username: address) }
    }

}
