import Foundation
import GRDB
import Synchronization

/// A mailbox's state read in one transaction: what a session needs when it opens the mailbox
/// (IMAP SELECT), and the account's MODSEQ at that moment, so that change events it receives
/// afterwards can be told apart: those with a MODSEQ at or below `highestModSeq` are already in
/// `uids`.
public struct MailboxSnapshot: Sendable {
    public var mailbox: Mailbox
    /// The live messages' UIDs, ascending.
    public var uids: [UID]
    /// The keywords set on any of them.
    public var keywords: Set<String>
    /// The index in `uids` of the first message without `\Seen`.
    public var firstUnseen: Int?
    public var highestModSeq: ModSeq
}

extension Account {
    /// The mailbox, its messages' UIDs, their keywords and first unseen message, and the
    /// account's MODSEQ, from one read transaction. This runs over every message of the
    /// mailbox at each IMAP SELECT, so it reads through SQLite's C API and keeps no per-message
    /// flags.
    public func snapshot(of mailbox: MailboxID) async throws(StoreError) -> MailboxSnapshot {
        let account = self.name
        return try await self.read("reading mailbox") { db in
            let box = try Self.mailboxRecord(db, mailbox, account: account).value
            let rows = RawStatement(
                try db.cachedStatement(
                    sql: "SELECT uid, flags, keywords FROM message WHERE mailboxID = ? AND expunged = 0 ORDER BY uid"
                ),
                db
            )
            defer { rows.reset() }
            rows.bind(1, mailbox.rawValue)
            var uids: [UID] = []
            uids.reserveCapacity(Int(box.counts.total + box.counts.deleted))
            var keywords = Set<String>()
            var lastKeywords = ""
            var firstUnseen: Int?
            let seen = MessageFlags.seen.rawValue
            while try rows.step() {
                if firstUnseen == nil && rows.int64(1) & seen == 0 { firstUnseen = uids.count }
                uids.append(UID(UInt32(truncatingIfNeeded: rows.int64(0))))
                let text = rows.text(2)
                if !text.isEmpty && text != lastKeywords {
                    keywords.formUnion(Self.split(text))
                    lastKeywords = text
                }
            }
            let highest = try Int64.fetchOne(db, sql: "SELECT highestModSeq FROM syncState WHERE id = 1") ?? 0
            return MailboxSnapshot(
                mailbox: box, uids: uids, keywords: keywords, firstUnseen: firstUnseen, highestModSeq: ModSeq(highest)
            )
        }
    }

    /// The metadata of the live messages of a mailbox with UIDs in `ranges`, in UID order.
    /// Messages expunged meanwhile are left out.
    public func messages(
        in mailbox: MailboxID,
        uidRanges ranges: [ClosedRange<UInt32>]
    ) async throws(StoreError) -> [StoredMessage] {
        guard !ranges.isEmpty else { return [] }
        return try await self.read("listing messages") { db in
            var out: [StoredMessage] = []
            for range in ranges {
                let rows = try Row.fetchCursor(
                    db,
                    sql: """
                        SELECT id, uid, modSeq, createSeq, flags, keywords, received, size,
                            remoteIP, ehloDomain, mailFrom, authResults, saveDate
                        FROM message
                        WHERE mailboxID = ? AND expunged = 0 AND uid >= ? AND uid <= ? ORDER BY uid
                        """,
                    arguments: [mailbox.rawValue, Int64(range.lowerBound), Int64(range.upperBound)]
                )
                while let row = try rows.next() {
                    let keywords: String = row[5]
                    out.append(
                        StoredMessage(
                            id: MessageID(row[0]),
                            mailboxID: mailbox,
                            uid: UID(UInt32(truncatingIfNeeded: row[1] as Int64)),
                            modSeq: ModSeq(row[2]),
                            createSeq: ModSeq(row[3]),
                            flags: MessageFlags(rawValue: row[4]),
                            keywords: keywords.isEmpty ? [] : keywords.split(separator: " ").map(String.init),
                            received: row[6],
                            size: row[7],
                            metadata: DeliveryMetadata(
                                remoteIP: row[8],
                                ehloDomain: row[9],
                                mailFrom: row[10],
                                authResults: row[11]
                            ),
                            saveDate: row[12]
                        )
                    )
                }
            }
            return out
        }
    }

    /// What IMAP FETCH needs of the live messages with UIDs in `ranges`, in UID order, in one
    /// query: UID, flags, keywords, MODSEQ, internal date and size (no delivery metadata), and
    /// the parts of their stored ``MessageStructure`` asked for (`structures[i]` belongs to
    /// `messages[i]`; nil for a message stored without one, and a part not asked for is left
    /// empty; the array is empty when no part is asked for). With `changedSince`, only messages
    /// whose MODSEQ is above it (RFC 7162 3.1.4.1, CHANGEDSINCE). FETCH 1:* of a large mailbox
    /// reads every row, so this goes through SQLite's C API.
    public func fetchRows(
        in mailbox: MailboxID,
        uidRanges ranges: [ClosedRange<UInt32>],
        envelopes: Bool,
        bodyStructures: Bool,
        changedSince: Int64? = nil
    ) async throws(StoreError) -> (messages: [StoredMessage], structures: [MessageStructure?], prefixes: MessagePrefixes) {
        guard !ranges.isEmpty else { return ([], [], MessagePrefixes()) }
        return try await self.read("listing messages") { db in
            var messages: [StoredMessage] = []
            var found: [MessageStructure?] = []
            var prefixes = MessagePrefixes()
            let structures = envelopes || bodyStructures
            let columns =
                structures ? ", s.rowid, " + (envelopes ? "s.envelope" : "NULL") + ", " + (bodyStructures ? "s.bodyStructure" : "NULL") : ""
            let join = structures ? "LEFT JOIN messageStructure s ON s.rowid = m.id" : ""
            let rows = RawStatement(
                try db.cachedStatement(
                    sql: """
                        SELECT m.id, m.uid, m.modSeq, m.flags, m.keywords, m.received, m.size, m.saveDate, m.prefix\(columns)
                        FROM message m \(join)
                        WHERE m.mailboxID = ? AND m.expunged = 0 AND m.uid >= ? AND m.uid <= ? AND m.modSeq > ?
                        ORDER BY m.uid
                        """
                ),
                db
            )
            defer { rows.reset() }
            for range in ranges {
                rows.start(mailbox: mailbox, uids: range)
                rows.bind(4, changedSince ?? -1)
                while try rows.step() {
                    messages.append(
                        StoredMessage(
                            id: MessageID(rows.int64(0)),
                            mailboxID: mailbox,
                            uid: UID(UInt32(truncatingIfNeeded: rows.int64(1))),
                            modSeq: ModSeq(rows.int64(2)),
                            flags: MessageFlags(rawValue: rows.int64(3)),
                            keywords: Self.split(rows.text(4)),
                            received: rows.int64(5),
                            size: rows.int64(6),
                            saveDate: rows.isNull(7) ? nil : rows.int64(7)
                        )
                    )
                    if !rows.isNull(8) { prefixes.byID[rows.int64(0)] = rows.blob(8) }
                    if structures {
                        found.append(
                            rows.isNull(9) ? nil : MessageStructure(envelope: rows.blob(10), bodyStructure: rows.blob(11))
                        )
                    }
                }
            }
            return (messages, found, prefixes)
        }
    }

    /// The header lines kept in the rows of these messages in front of their files' bytes (see
    /// `MessageRecord.prefix`), for those that have them.
    func prefixes(of ids: [MessageID]) async -> [Int64: [UInt8]] {
        guard !ids.isEmpty else { return [:] }
        let result: [Int64: [UInt8]]? = try? await self.read("reading message prefixes") { db in
            var out: [Int64: [UInt8]] = [:]
            for start in stride(from: 0, to: ids.count, by: 500) {
                let slice = ids[start..<min(ids.count, start + 500)]
                let marks = Array(repeating: "?", count: slice.count).joined(separator: ",")
                let rows = try Row.fetchCursor(
                    db,
                    sql: "SELECT id, prefix FROM message WHERE prefix IS NOT NULL AND id IN (\(marks))",
                    arguments: StatementArguments(slice.map(\.rawValue))
                )
                while let row = try rows.next() {
                    if let data = row[1] as Data? { out[row[0]] = [UInt8](data) }
                }
            }
            return out
        }
        return result ?? [:]
    }

    /// Reads many messages at once, on several I/O queues, in the order given: each file's bytes
    /// with the header lines its row keeps in front of them. A missing file gives nil.
    public func readMessageFiles(_ ids: [MessageID], sizes: [Int64] = [], prefixes known: MessagePrefixes? = nil) async -> [[UInt8]?] {
        let prefixes: [Int64: [UInt8]]
        if let known { prefixes = known.byID } else { prefixes = await self.prefixes(of: ids) }
        var sizes = sizes
        if !prefixes.isEmpty, sizes.count == ids.count {
            for (i, id) in ids.enumerated() {
                if let p = prefixes[id.rawValue] { sizes[i] -= Int64(p.count) }
            }
        }
        var files = await self.readFiles(ids, sizes: sizes)
        if !prefixes.isEmpty {
            for (i, id) in ids.enumerated() {
                if let p = prefixes[id.rawValue], let file = files[i] { files[i] = p + file }
            }
        }
        return files
    }

    func readFiles(_ ids: [MessageID], sizes: [Int64]) async -> [[UInt8]?] {
        let layout = self.layout
        let io = self.io
        let width = 4
        let chunk = max(16, (ids.count + width - 1) / width)
        return await withTaskGroup(of: (Int, [[UInt8]?]).self) { group in
            var start = 0
            while start < ids.count {
                let slice = Array(ids[start..<min(ids.count, start + chunk)])
                let hints = sizes.count == ids.count ? Array(sizes[start..<min(ids.count, start + chunk)]) : []
                let offset = start
                group.addTask {
                    // One I/O call per slice: its reads run back to back on one queue.
                    let read: [[UInt8]?] = await withCheckedContinuation { continuation in
                        io.async {
                            let root = FileIO.openDirectory(layout.messageRoot)
                            defer { FileIO.closeDirectory(root) }
                            continuation.resume(
                                returning: slice.indices.map { i in
                                    let hint = hints.isEmpty ? 0 : Int(clamping: hints[i])
                                    if root < 0 { return try? FileIO.readAll(layout.messagePath(slice[i]), sizeHint: hint) }
                                    return try? FileIO.readMessage(slice[i], in: root, sizeHint: hint)
                                }
                            )
                        }
                    }
                    return (offset, read)
                }
                start += chunk
            }
            var out = [[UInt8]?](repeating: nil, count: ids.count)
            for await (offset, read) in group {
                for (i, bytes) in read.enumerated() {
                    out[offset + i] = bytes
                }
            }
            return out
        }
    }
}

/// Which messages are \Recent (RFC 3501 2.3.2): a message is recent in the first session that
/// selects its mailbox after it arrived. Kept in memory, per mailbox, as the first UID not yet
/// claimed: after a restart, the first session to select a mailbox sees all of it as recent.
/// IMAP4rev2 dropped \Recent (RFC 9051 2.3.2); IMAP4rev1 clients still use it.
final class RecentClaims: Sendable {
    private let claimed = Mutex<[MailboxID: UInt32]>([:])

    /// Claims the UIDs below `uidNext`; returns the first UID that was not claimed before.
    func claim(_ mailbox: MailboxID, upTo uidNext: UInt32) -> UInt32 {
        self.claimed.withLock { map in
            let previous = map[mailbox] ?? 1
            if uidNext > previous { map[mailbox] = uidNext }
            return previous
        }
    }

    func firstUnclaimed(_ mailbox: MailboxID) -> UInt32 {
        self.claimed.withLock { $0[mailbox] ?? 1 }
    }
}

extension Account {
    /// Claims \Recent for the messages of `mailbox` below `uidNext` (see ``RecentClaims``);
    /// returns the first UID this caller gets as recent (those from it up to `uidNext` are).
    public func claimRecent(_ mailbox: MailboxID, upTo uidNext: UID) -> UID {
        UID(self.recent.claim(mailbox, upTo: uidNext.rawValue))
    }

    /// The first UID not claimed as recent yet (EXAMINE shows these as recent without claiming).
    public func firstUnclaimedRecent(_ mailbox: MailboxID) -> UID {
        UID(self.recent.firstUnclaimed(mailbox))
    }

    /// How many live messages of the mailbox no session has claimed as recent yet (STATUS RECENT).
    public func unclaimedRecentCount(_ mailbox: MailboxID) async throws(StoreError) -> Int {
        let first = Int64(self.recent.firstUnclaimed(mailbox))
        return try await self.read("counting recent") { db in
            try Int.fetchOne(
                db,
                sql: "SELECT COUNT(*) FROM message WHERE mailboxID = ? AND expunged = 0 AND uid >= ?",
                arguments: [mailbox.rawValue, first]
            ) ?? 0
        }
    }
}

extension Account {
    /// The size of the messages of a mailbox marked \Deleted: what an EXPUNGE would free
    /// (IMAP STATUS DELETED-STORAGE, RFC 9208 4.4).
    public func deletedSize(in mailbox: MailboxID) async throws(StoreError) -> Int64 {
        try await self.read("summing deleted messages") { db in
            try Int64.fetchOne(
                db,
                sql: "SELECT COALESCE(SUM(size), 0) FROM message WHERE mailboxID = ? AND expunged = 0 AND flags & ? != 0",
                arguments: [mailbox.rawValue, MessageFlags.deleted.rawValue]
            ) ?? 0
        }
    }
}
