import Foundation
import GRDB

// One record type per table. These stay internal: the public API speaks in the types of
// Types.swift so that another backend can implement it.

// MARK: - mailbox

struct MailboxRecord: Codable, FetchableRecord, MutablePersistableRecord, Sendable {
    static let databaseTableName = "mailbox"

    var id: Int64?
    var name: String
    var specialUse: Int64
    var uidValidity: Int64
    var uidNext: Int64
    var total: Int64
    var deleted: Int64
    var unread: Int64
    var unseen: Int64
    var size: Int64
    var createSeq: Int64
    var modSeq: Int64

    mutating func didInsert(_ inserted: InsertionSuccess) {
        self.id = inserted.rowID
    }

    var counts: MailboxCounts {
        get {
            MailboxCounts(
                total: self.total,
                deleted: self.deleted,
                unread: self.unread,
                unseen: self.unseen,
                size: self.size
            )
        }
        set {
            self.total = newValue.total
            self.deleted = newValue.deleted
            self.unread = newValue.unread
            self.unseen = newValue.unseen
            self.size = newValue.size
        }
    }

    var value: Mailbox {
        Mailbox(
            id: MailboxID(self.id ?? 0),
            name: self.name,
            specialUse: SpecialUse(rawValue: self.specialUse),
            uidValidity: UInt32(truncatingIfNeeded: self.uidValidity),
            uidNext: UID(UInt32(truncatingIfNeeded: self.uidNext)),
            counts: self.counts,
            createSeq: ModSeq(self.createSeq),
            modSeq: ModSeq(self.modSeq)
        )
    }
}

// MARK: - message

/// A message in a mailbox. An expunged message keeps its row (without file and text) with
/// `expunged` set and `modSeq` the expunge's, so CONDSTORE/QRESYNC clients can learn about it.
/// - SeeAlso: RFC 7162 3.2.10
struct MessageRecord: Codable, FetchableRecord, MutablePersistableRecord, Sendable {
    static let databaseTableName = "message"

    var id: Int64?
    var mailboxID: Int64
    var uid: Int64
    var modSeq: Int64
    var createSeq: Int64
    var flags: Int64
    /// Keywords other than the ones kept as flag bits: lower-cased, sorted, separated by spaces.
    var keywords: String
    var received: Int64
    var size: Int64
    var remoteIP: String?
    var ehloDomain: String?
    var mailFrom: String?
    var authResults: String?
    var expunged: Bool
    /// When the message was saved in its mailbox (delivered, appended, copied or moved there),
    /// seconds since 1970; nil for messages stored before this was kept (IMAP SAVEDATE, RFC 8514).
    var saveDate: Int64?
    /// Header lines the server put in front of the message file's bytes when it stored it
    /// (Received and other trace fields), so the file received from the network is linked into
    /// place as it is; nil when the file is the whole message. `size` includes them.
    var prefix: Data?

    mutating func didInsert(_ inserted: InsertionSuccess) {
        self.id = inserted.rowID
    }

    var messageFlags: MessageFlags { MessageFlags(rawValue: self.flags) }
    var keywordList: [String] { self.keywords.split(separator: " ").map(String.init) }

    var value: StoredMessage {
        StoredMessage(
            id: MessageID(self.id ?? 0),
            mailboxID: MailboxID(self.mailboxID),
            uid: UID(UInt32(truncatingIfNeeded: self.uid)),
            modSeq: ModSeq(self.modSeq),
            createSeq: ModSeq(self.createSeq),
            flags: self.messageFlags,
            keywords: self.keywordList,
            received: self.received,
            size: self.size,
            metadata: DeliveryMetadata(
                remoteIP: self.remoteIP,
                ehloDomain: self.ehloDomain,
                mailFrom: self.mailFrom,
                authResults: self.authResults
            ),
            saveDate: self.saveDate
        )
    }
}

// MARK: - subscription

/// A subscribed mailbox name; it may name a mailbox that does not exist.
/// - SeeAlso: RFC 9051 6.3.7
struct SubscriptionRecord: Codable, FetchableRecord, PersistableRecord, Sendable {
    static let databaseTableName = "subscription"
    var name: String
}

// MARK: - syncState

/// The account-wide counters, one row with id 1.
struct SyncStateRecord: Codable, FetchableRecord, PersistableRecord, Sendable {
    static let databaseTableName = "syncState"
    var id: Int64 = 1
    var highestModSeq: Int64
    var lastUIDValidity: Int64
}

// MARK: - password

/// Derived secrets of the account's password, one row with id 1; the password itself is never stored.
struct PasswordRecord: Codable, FetchableRecord, PersistableRecord, Sendable {
    static let databaseTableName = "password"
    var id: Int64 = 1
    var scramSHA1Salt: [UInt8]
    var scramSHA1Iterations: Int64
    var scramSHA1SaltedPassword: [UInt8]
    var scramSHA256Salt: [UInt8]
    var scramSHA256Iterations: Int64
    var scramSHA256SaltedPassword: [UInt8]
    var plainSalt: [UInt8]
    var plainIterations: Int64
    var plainHash: [UInt8]
    var cramMD5Inner: [UInt8]?
    var cramMD5Outer: [UInt8]?
}

// MARK: - Migrations

enum Schema {
    /// Named migrations, only ever appended to.
    /// An SQL condition: the text column holds only ASCII characters (and no NUL). GLOB
    /// compares Unicode code points, so the class [^\u{1}-\u{7f}] matches any other character.
    static func isASCII(_ column: String) -> String {
        "\(column) NOT GLOB ('*[^' || char(1) || '-' || char(127) || ']*')"
    }

    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1-mailboxes-messages") { db in
            try db.create(table: "syncState") { t in
                t.column("id", .integer).primaryKey()
                t.column("highestModSeq", .integer).notNull()
                t.column("lastUIDValidity", .integer).notNull()
            }
            try db.execute(sql: "INSERT INTO syncState (id, highestModSeq, lastUIDValidity) VALUES (1, 1, 0)")
            try db.create(table: "mailbox") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("name", .text).notNull().unique()
                t.column("specialUse", .integer).notNull()
                t.column("uidValidity", .integer).notNull()
                t.column("uidNext", .integer).notNull()
                t.column("total", .integer).notNull()
                t.column("deleted", .integer).notNull()
                t.column("unread", .integer).notNull()
                t.column("unseen", .integer).notNull()
                t.column("size", .integer).notNull()
                t.column("createSeq", .integer).notNull()
                t.column("modSeq", .integer).notNull()
            }
            try db.create(table: "message") { t in
                // AUTOINCREMENT: ids name files and must never be reused, even after the last row is gone.
                t.autoIncrementedPrimaryKey("id")
                t.column("mailboxID", .integer).notNull().references("mailbox", onDelete: .cascade)
                t.column("uid", .integer).notNull()
                t.column("modSeq", .integer).notNull()
                t.column("createSeq", .integer).notNull()
                t.column("flags", .integer).notNull()
                t.column("keywords", .text).notNull()
                t.column("received", .integer).notNull()
                t.column("size", .integer).notNull()
                t.column("remoteIP", .text)
                t.column("ehloDomain", .text)
                t.column("mailFrom", .text)
                t.column("authResults", .text)
                t.column("expunged", .boolean).notNull()
                t.uniqueKey(["mailboxID", "uid"])
            }
            try db.create(index: "message_mailbox_modseq", on: "message", columns: ["mailboxID", "modSeq"])
            try db.create(table: "subscription") { t in
                t.primaryKey("name", .text)
            }
            try db.create(table: "password") { t in
                t.column("id", .integer).primaryKey()
                t.column("scramSHA1Salt", .blob).notNull()
                t.column("scramSHA1Iterations", .integer).notNull()
                t.column("scramSHA1SaltedPassword", .blob).notNull()
                t.column("scramSHA256Salt", .blob).notNull()
                t.column("scramSHA256Iterations", .integer).notNull()
                t.column("scramSHA256SaltedPassword", .blob).notNull()
                t.column("plainSalt", .blob).notNull()
                t.column("plainIterations", .integer).notNull()
                t.column("plainHash", .blob).notNull()
                t.column("cramMD5Inner", .blob)
                t.column("cramMD5Outer", .blob)
            }
        }
        migrator.registerMigration("v1-fulltext") { db in
            // The trigram tokenizer makes MATCH of a quoted string a case-insensitive substring
            // test, which is what IMAP SEARCH needs; the rowid is the message id.
            try db.execute(sql: "CREATE VIRTUAL TABLE messageText USING fts5(text, tokenize = 'trigram')")
        }
        migrator.registerMigration("v2-fulltext-pending") { db in
            // Delivery stores a message's text here, which is cheap; the indexer moves it into
            // messageText (the costly trigram indexing) shortly after, off the delivery path.
            // Searches look at both, so answers stay exact meanwhile.
            try db.execute(sql: "CREATE TABLE messageTextPending (rowid INTEGER PRIMARY KEY, text TEXT NOT NULL)")
        }
        migrator.registerMigration("v3-fulltext-ascii") { db in
            // The indexed messages whose text is all ASCII. For those, SQLite's case folding and
            // IMAP SEARCH's agree, so an index match of an ASCII string needs no confirming
            // against the text (see Account.search).
            try db.execute(sql: "CREATE TABLE messageTextASCII (rowid INTEGER PRIMARY KEY)")
            try db.execute(
                sql:
                    "INSERT INTO messageTextASCII (rowid) SELECT rowid FROM messageText WHERE \(Schema.isASCII("text"))"
            )
        }
        migrator.registerMigration("v4-settings") { db in
            // The account's own preferences (webmail's, as in mox), one row; absent until changed.
            try db.execute(
                sql: """
                    CREATE TABLE settings (
                        id INTEGER PRIMARY KEY CHECK (id = 1),
                        signature TEXT NOT NULL,
                        quoting TEXT NOT NULL,
                        showAddressSecurity BOOLEAN NOT NULL,
                        showHTML BOOLEAN NOT NULL,
                        noShowShortcuts BOOLEAN NOT NULL,
                        showHeaders TEXT NOT NULL
                    )
                    """
            )
        }
        migrator.registerMigration("v5-message-structure") { db in
            // Precomputed protocol data per message (see MessageStructure); the rowid is the
            // message id. Messages stored before this table existed have no row.
            try db.execute(
                sql: """
                    CREATE TABLE messageStructure (
                        rowid INTEGER PRIMARY KEY, envelope BLOB NOT NULL, bodyStructure BLOB NOT NULL
                    )
                    """
            )
        }
        migrator.registerMigration("v6-metadata") { db in
            // IMAP METADATA (RFC 5464) entries; mailboxID 0 holds the account's own ("server")
            // entries. Removed with their mailbox by deleteMailbox.
            try db.execute(
                sql: """
                    CREATE TABLE metadata (
                        mailboxID INTEGER NOT NULL, name TEXT NOT NULL, value BLOB NOT NULL,
                        PRIMARY KEY (mailboxID, name)
                    )
                    """
            )
        }
        migrator.registerMigration("v7-save-date") { db in
            try db.execute(sql: "ALTER TABLE message ADD COLUMN saveDate INTEGER")
        }
        migrator.registerMigration("v8-no-modseq-index") { db in
            // Keeping an index on MODSEQ current cost more than everything else in a flag change
            // of a whole mailbox (a delete and an insert, each a B-tree descent, per message:
            // about 250 ms of a STORE 1:* on 100,000 messages). Its only readers, CHANGEDSINCE
            // and QRESYNC, look at one mailbox, which the (mailboxID, uid) index finds; SELECT
            // already reads all of its rows.
            try db.execute(sql: "DROP INDEX IF EXISTS message_mailbox_modseq")
        }
        migrator.registerMigration("v9-message-prefix") { db in
            try db.execute(sql: "ALTER TABLE message ADD COLUMN prefix BLOB")
        }
        return migrator
    }
}
