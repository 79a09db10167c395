import Foundation
import GRDB

/// One metadata entry: a name such as "/private/comment" and its value.
/// - SeeAlso: RFC 5464 3
public struct MetadataEntry: Hashable, Sendable {
    public var name: String
    public var value: [UInt8]

    public init(name: String, value: [UInt8]) {
        self.name = name
        self.value = value
    }
}

extension Account {
    /// The most metadata entries an account may have, and the largest value (RFC 5464 4.3 lets a
    /// server limit both).
    public static let maxMetadataEntries = 1000
    public static let maxMetadataValueSize = 64 * 1024

    /// The entries of a mailbox (nil: of the account, IMAP's server metadata) named `names`, or
    /// below them: `depth` 0 gives the entries themselves, 1 also their children, nil everything
    /// below. Names compare without case (RFC 5464 3.2); they are kept lower-case.
    public func metadata(
        mailbox: MailboxID?,
        names: [String],
        depth: Int?
    ) async throws(StoreError) -> [MetadataEntry] {
        let wanted = names.map { $0.lowercased() }
        return try await self.read("reading metadata") { db in
            let rows = try Row.fetchAll(
                db,
                sql: "SELECT name, value FROM metadata WHERE mailboxID = ? ORDER BY name",
                arguments: [mailbox?.rawValue ?? 0]
            )
            var out: [MetadataEntry] = []
            for row in rows {
                let name: String = row[0]
                let matches = wanted.contains { prefix in
                    if name == prefix { return true }
                    guard name.hasPrefix(prefix + "/") else { return false }
                    guard let depth else { return true }
                    let below = name.dropFirst(prefix.count + 1).split(separator: "/").count
                    return below <= depth
                }
                if matches {
                    out.append(MetadataEntry(name: name, value: Array(row[1] as Data)))
                }
            }
            return out
        }
    }

    /// Sets (or, for a nil value, removes) entries of a mailbox or of the account, all at once.
    public func setMetadata(mailbox: MailboxID?, _ entries: [(name: String, value: [UInt8]?)]) async throws(StoreError) {
        let account = self.name
        try await self.write("writing metadata") { db, events in
            if let mailbox {
                _ = try Self.mailboxRecord(db, mailbox, account: account)
            }
            for (name, value) in entries {
                let name = name.lowercased()
                if let value {
                    try db.execute(
                        sql: """
                            INSERT INTO metadata (mailboxID, name, value) VALUES (?, ?, ?)
                            ON CONFLICT (mailboxID, name) DO UPDATE SET value = excluded.value
                            """,
                        arguments: [mailbox?.rawValue ?? 0, name, Data(value)]
                    )
                } else {
                    try db.execute(
                        sql: "DELETE FROM metadata WHERE mailboxID = ? AND name = ?",
                        arguments: [mailbox?.rawValue ?? 0, name]
                    )
                }
            }
            let count = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM metadata") ?? 0
            if count > Self.maxMetadataEntries {
                throw StoreError(.quotaExceeded, account: account, "too many metadata entries")
            }
            if !entries.isEmpty {
                events.append(.metadataChanged(mailboxID: mailbox, entries: entries.map { $0.name.lowercased() }))
            }
        }
    }
}
