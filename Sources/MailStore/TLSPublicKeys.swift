import Foundation
import GRDB

/// A public key that logs in to an account through TLS client authentication (IMAP
/// AUTHENTICATE EXTERNAL, RFC 4422 appendix A), as mox keeps them: found by the fingerprint of
/// the certificate's public key, whatever else the certificate says.
public struct TLSPublicKey: Hashable, Sendable {
    /// SHA-256 of the certificate's DER SubjectPublicKeyInfo, base64url without padding.
    public var fingerprint: String
    /// When it was added, in seconds since 1970.
    public var created: Int64
    /// The key's algorithm, e.g. "ed25519", "ecdsa-p256", "rsa-2048".
    public var type: String
    /// A name for people, by default the certificate's common name.
    public var name: String
    /// Do not start IMAP connections made with this key in the authenticated state (PREAUTH).
    public var noIMAPPreauth: Bool
    /// The certificate it came from, DER.
    public var certificateDER: [UInt8]
    public var account: String
    /// The address the key logs in as; EXTERNAL may name another address of the same account.
    public var loginAddress: String

    public init(
        fingerprint: String,
        created: Int64,
        type: String,
        name: String,
        noIMAPPreauth: Bool,
        certificateDER: [UInt8],
        account: String,
        loginAddress: String
    ) {
        self.fingerprint = fingerprint
        self.created = created
        self.type = type
        self.name = name
        self.noIMAPPreauth = noIMAPPreauth
        self.certificateDER = certificateDER
        self.account = account
        self.loginAddress = loginAddress
    }
}

/// The server-wide list of TLS public keys, in `auth.db` in the data directory. The server and
/// the command line open it at the same time (SQLite, WAL), so a key added by `mox config
/// tlspubkey add` is used by the next connection.
public final class TLSPublicKeyStore: Sendable {
    let database: DatabaseQueue

    public static func open(dataDir: String) throws(StoreError) -> TLSPublicKeyStore {
        let path = dataDir + "/auth.db"
        do {
            try FileManager.default.createDirectory(atPath: dataDir, withIntermediateDirectories: true)
            var config = Configuration()
            config.busyMode = .timeout(30)
            config.prepareDatabase { db in
                try db.execute(sql: "PRAGMA synchronous = FULL")
            }
            let queue = try DatabaseQueue(path: path, configuration: config)
            try queue.writeWithoutTransaction { db in
                try db.execute(sql: "PRAGMA journal_mode = WAL")
            }
            var migrator = DatabaseMigrator()
            migrator.registerMigration("v1-tls-public-keys") { db in
                try db.execute(
                    sql: """
                        CREATE TABLE tlsPublicKey (
                            fingerprint TEXT PRIMARY KEY NOT NULL,
                            created INTEGER NOT NULL,
                            type TEXT NOT NULL,
                            name TEXT NOT NULL,
                            noIMAPPreauth INTEGER NOT NULL,
                            certificateDER BLOB NOT NULL,
                            account TEXT NOT NULL,
                            loginAddress TEXT NOT NULL
                        );
                        CREATE INDEX tlsPublicKeyAccount ON tlsPublicKey (account);
                        """
                )
            }
            try migrator.migrate(queue)
            return TLSPublicKeyStore(database: queue)
        } catch {
            throw StoreError(.database, account: "", "opening \(path): \(error)")
        }
    }

    private init(database: DatabaseQueue) {
        self.database = database
    }

    static func key(_ row: Row) -> TLSPublicKey {
        TLSPublicKey(
            fingerprint: row["fingerprint"],
            created: row["created"],
            type: row["type"],
            name: row["name"],
            noIMAPPreauth: row["noIMAPPreauth"],
            certificateDER: Array(row["certificateDER"] as Data),
            account: row["account"],
            loginAddress: row["loginAddress"]
        )
    }

    /// Adds a key; a key with the same fingerprint is an error (`alreadyExists`).
    public func add(_ key: TLSPublicKey) throws(StoreError) {
        do {
            try self.database.write { db in
                if try Bool.fetchOne(db, sql: "SELECT 1 FROM tlsPublicKey WHERE fingerprint = ?", arguments: [key.fingerprint]) != nil {
                    throw StoreError(.alreadyExists, account: key.account, "a key with fingerprint \(key.fingerprint) exists")
                }
                try db.execute(
                    sql: """
                        INSERT INTO tlsPublicKey (fingerprint, created, type, name, noIMAPPreauth, certificateDER, account, loginAddress)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                        """,
                    arguments: [
                        key.fingerprint, key.created, key.type, key.name, key.noIMAPPreauth, Data(key.certificateDER),
                        key.account, key.loginAddress,
                    ]
                )
            }
        } catch let error as StoreError {
            throw error
        } catch {
            throw StoreError(.database, account: key.account, "adding tls public key: \(error)")
        }
    }

    /// The key with this fingerprint, or nil.
    public func key(fingerprint: String) throws(StoreError) -> TLSPublicKey? {
        do {
            return try self.database.read { db in
                try Row.fetchOne(db, sql: "SELECT * FROM tlsPublicKey WHERE fingerprint = ?", arguments: [fingerprint])
                    .map(Self.key)
            }
        } catch {
            throw StoreError(.database, account: "", "reading tls public key: \(error)")
        }
    }

    /// The keys of an account, or of all accounts, by account and name.
    public func list(account: String? = nil) throws(StoreError) -> [TLSPublicKey] {
        do {
            return try self.database.read { db in
                let rows: [Row]
                if let account {
                    rows = try Row.fetchAll(
                        db,
                        sql: "SELECT * FROM tlsPublicKey WHERE account = ? ORDER BY name, fingerprint",
                        arguments: [account]
                    )
                } else {
                    rows = try Row.fetchAll(db, sql: "SELECT * FROM tlsPublicKey ORDER BY account, name, fingerprint")
                }
                return rows.map(Self.key)
            }
        } catch {
            throw StoreError(.database, account: account ?? "", "listing tls public keys: \(error)")
        }
    }

    /// Removes the key with this fingerprint; `notFound` when there is none.
    public func remove(fingerprint: String) throws(StoreError) {
        do {
            try self.database.write { db in
                try db.execute(sql: "DELETE FROM tlsPublicKey WHERE fingerprint = ?", arguments: [fingerprint])
                if db.changesCount == 0 {
                    throw StoreError(.notFound, account: "", "no tls public key with fingerprint \(fingerprint)")
                }
            }
        } catch let error as StoreError {
            throw error
        } catch {
            throw StoreError(.database, account: "", "removing tls public key: \(error)")
        }
    }
}
