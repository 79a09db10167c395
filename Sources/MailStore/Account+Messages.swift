import Foundation
import GRDB
import Synchronization

extension Account {
    // MARK: - Reading

    /// The bytes of a stored message, exactly as delivered: the header lines kept in its row in
    /// front of its file's bytes.
    public func messageBytes(_ id: MessageID) async throws(StoreError) -> [UInt8] {
        let account = self.name
        let row: (live: Bool, prefix: [UInt8])? = try await self.read("looking up message") { db in
            try Row.fetchOne(db, sql: "SELECT expunged = 0, prefix FROM message WHERE id = ?", arguments: [id.rawValue])
                .map { row in (row[0] as Bool, (row[1] as Data?).map { [UInt8]($0) } ?? []) }
        }
        guard let row, row.live else {
            throw StoreError(.notFound, account: account, "no \(id)")
        }
        let prefix = row.prefix
        let path = self.layout.messagePath(id)
        do {
            let file = try await self.runIO { () throws(FileIO.Failure) in try FileIO.readAll(path) }
            return prefix.isEmpty ? file : prefix + file
        } catch {
            throw StoreError(.io, account: account, "reading \(id): \(error)")
        }
    }

    /// A message's metadata, expunged or not.
    public func message(_ id: MessageID) async throws(StoreError) -> StoredMessage {
        let account = self.name
        return try await self.read("looking up message") { db in
            guard let record = try MessageRecord.fetchOne(db, key: id.rawValue), !record.expunged else {
                throw StoreError(.notFound, account: account, "no \(id)")
            }
            return record.value
        }
    }

    /// UIDs, flags and keywords of a mailbox's messages, in UID order, as SELECT needs them.
    public func messageFlags(in mailbox: MailboxID) async throws(StoreError) -> [MessageFlagsEntry] {
        try await self.read("listing messages") { db in try Self.flagEntries(db, mailbox) }
    }

    /// The live messages' UIDs, flags and MODSEQs in UID order: a cursor and column positions,
    /// since this runs over every message of a mailbox on SELECT.
    static func flagEntries(_ db: Database, _ mailbox: MailboxID, capacity: Int = 0) throws -> [MessageFlagsEntry] {
        let rows = try Row.fetchCursor(
            db,
            sql: """
                SELECT id, uid, flags, keywords, modSeq FROM message
                WHERE mailboxID = ? AND expunged = 0 ORDER BY uid
                """,
            arguments: [mailbox.rawValue]
        )
        var entries: [MessageFlagsEntry] = []
        entries.reserveCapacity(capacity)
        while let row = try rows.next() {
            let keywords: String = row[3]
            entries.append(
                MessageFlagsEntry(
                    uid: UID(UInt32(truncatingIfNeeded: row[1] as Int64)),
                    id: MessageID(row[0]),
                    flags: MessageFlags(rawValue: row[2]),
                    keywords: keywords.isEmpty ? [] : keywords.split(separator: " ").map(String.init),
                    modSeq: ModSeq(row[4])
                )
            )
        }
        return entries
    }

    /// What changed in a mailbox after `modSeq`: messages added or with changed flags, and UIDs
    /// expunged (including moved away).
    /// - SeeAlso: RFC 7162 3.1.4.1, RFC 7162 3.2.5.2
    public func changes(
        in mailbox: MailboxID,
        since modSeq: ModSeq
    ) async throws(StoreError)
        -> (changed: [StoredMessage], vanished: [UID])
    {
        try await self.read("listing changes") { db in
            let records =
                try MessageRecord
                .filter(Column("mailboxID") == mailbox.rawValue && Column("modSeq") > modSeq.rawValue)
                .order(Column("uid"))
                .fetchAll(db)
            return (
                records.filter { !$0.expunged }.map(\.value),
                records.filter(\.expunged).map { UID(UInt32(truncatingIfNeeded: $0.uid)) }
            )
        }
    }

    static func liveMessages(_ db: Database, _ mailbox: MailboxID, _ uids: [UID]?) throws -> [MessageRecord] {
        var request = MessageRecord.filter(Column("mailboxID") == mailbox.rawValue && Column("expunged") == false)
        if let uids {
            request = request.filter(uids.map { Int64($0.rawValue) }.contains(Column("uid")))
        }
        return try request.order(Column("uid")).fetchAll(db)
    }

    // MARK: - Flags

    /// Changes flags and keywords of messages; each message that actually changes gets the
    /// transaction's new MODSEQ. Returns the changed messages' new state.
    /// - SeeAlso: RFC 9051 6.4.6, RFC 7162 3.1.3
    @discardableResult
    public func setFlags(
        in mailbox: MailboxID,
        uids: [UID],
        _ change: FlagChange
    ) async throws(StoreError)
        -> [MessageFlagsEntry]
    {
        let result = try await self.storeFlags(in: mailbox, uidRanges: Self.ranges(uids), change)
        return result.entries.lazy.filter(\.changed).map {
            MessageFlagsEntry(uid: $0.uid, id: $0.id, flags: $0.flags, keywords: $0.keywords, modSeq: $0.modSeq)
        }
    }

    /// Changes flags and keywords of the live messages with UIDs in `ranges`, as IMAP STORE
    /// does: messages that change get the transaction's new MODSEQ; with `unchangedSince`,
    /// messages whose MODSEQ is above it are left alone and listed in `modified`, tested in the
    /// same transaction as the change (RFC 7162 3.1.3).
    /// - SeeAlso: RFC 9051 6.4.6, RFC 7162 3.1.3
    public func storeFlags(
        in mailbox: MailboxID,
        uidRanges ranges: [ClosedRange<UInt32>],
        _ change: FlagChange,
        unchangedSince: Int64? = nil
    ) async throws(StoreError) -> FlagStoreResult {
        let account = self.name
        return try await self.write("changing flags") { db, events in
            var box = try Self.mailboxRecord(db, mailbox, account: account)
            var counts = box.counts
            var result = FlagStoreResult()
            let (changeFlags, changeKeywords): (MessageFlags, [String])
            switch change {
            case .add(let f, let k), .remove(let f, let k), .replace(let f, let k):
                let (kf, kw) = Self.normalizedKeywords(k)
                (changeFlags, changeKeywords) = (f.union(kf), kw)
            }
            let replacementKeywords = changeKeywords.joined(separator: " ")
            // STORE 1:* on a large mailbox touches every row: the rows are read and written
            // through SQLite's C API, and keywords are only split when they take part.
            var rows: [(id: Int64, uid: Int64, flags: Int64, keywords: String, size: Int64, modSeq: Int64)] = []
            let select = RawStatement(
                try db.cachedStatement(
                    sql: """
                        SELECT id, uid, flags, keywords, size, modSeq FROM message
                        WHERE mailboxID = ? AND expunged = 0 AND uid >= ? AND uid <= ? ORDER BY uid
                        """
                ),
                db
            )
            defer { select.reset() }
            for range in ranges {
                select.start(mailbox: mailbox, uids: range)
                while try select.step() {
                    rows.append((select.int64(0), select.int64(1), select.int64(2), select.text(3), select.int64(4), select.int64(5)))
                }
            }
            let updateFlags = RawStatement(
                try db.cachedStatement(sql: "UPDATE message SET flags = ?, modSeq = ? WHERE id = ?"),
                db
            )
            let updateBoth = RawStatement(
                try db.cachedStatement(sql: "UPDATE message SET flags = ?, keywords = ?, modSeq = ? WHERE id = ?"),
                db
            )
            // When the change is the same for every row (flags only, or a replacement), one UPDATE
            // per UID range makes it inside SQLite, with the same test for "changes" as below;
            // keyword additions and removals differ per row and are written row by row.
            let bulkSQL: String?
            let matchAll = "mailboxID = ?3 AND expunged = 0 AND uid >= ?4 AND uid <= ?5 AND modSeq <= ?6"
            switch change {
            case .add where changeKeywords.isEmpty:
                bulkSQL = "UPDATE message SET flags = flags | ?1, modSeq = ?2 WHERE \(matchAll) AND (flags & ?1) != ?1"
            case .remove where changeKeywords.isEmpty:
                bulkSQL = "UPDATE message SET flags = flags & ~?1, modSeq = ?2 WHERE \(matchAll) AND (flags & ?1) != 0"
            case .replace:
                bulkSQL =
                    "UPDATE message SET flags = ?1, keywords = ?7, modSeq = ?2 WHERE \(matchAll) AND (flags != ?1 OR keywords != ?7)"
            default:
                bulkSQL = nil
            }
            var changedCount = 0
            var modSeq: Int64?
            result.entries.reserveCapacity(rows.count)
            for row in rows {
                let uid = UID(UInt32(truncatingIfNeeded: row.uid))
                if let unchangedSince, row.modSeq > unchangedSince {
                    result.modified.append(uid)
                    continue
                }
                let oldFlags = MessageFlags(rawValue: row.flags)
                var flags = oldFlags
                var keywords = row.keywords
                switch change {
                case .add:
                    flags.formUnion(changeFlags)
                    if !changeKeywords.isEmpty {
                        keywords = Set(Self.split(row.keywords)).union(changeKeywords).sorted().joined(separator: " ")
                    }
                case .remove:
                    flags.subtract(changeFlags)
                    if !changeKeywords.isEmpty && !row.keywords.isEmpty {
                        keywords = Set(Self.split(row.keywords)).subtracting(changeKeywords).sorted().joined(separator: " ")
                    }
                case .replace:
                    flags = changeFlags
                    keywords = replacementKeywords
                }
                let keywordsChanged = keywords != row.keywords
                guard flags != oldFlags || keywordsChanged else {
                    result.entries.append(
                        FlagStoreEntry(
                            uid: uid, id: MessageID(row.id), flags: flags, keywords: Self.split(keywords),
                            modSeq: ModSeq(row.modSeq), changed: false
                        )
                    )
                    continue
                }
                let seq: Int64
                if let modSeq {
                    seq = modSeq
                } else {
                    seq = try Self.nextModSeq(db)
                    modSeq = seq
                }
                counts.subtract(.of(flags: oldFlags, size: row.size))
                counts.add(.of(flags: flags, size: row.size))
                changedCount += 1
                if bulkSQL != nil {
                    // Written below, by range.
                } else if keywordsChanged {
                    updateBoth.bind(1, flags.rawValue)
                    updateBoth.bind(2, keywords)
                    updateBoth.bind(3, seq)
                    updateBoth.bind(4, row.id)
                    try updateBoth.run()
                } else {
                    updateFlags.bind(1, flags.rawValue)
                    updateFlags.bind(2, seq)
                    updateFlags.bind(3, row.id)
                    try updateFlags.run()
                }
                let keywordList = Self.split(keywords)
                result.entries.append(
                    FlagStoreEntry(
                        uid: uid, id: MessageID(row.id), flags: flags, keywords: keywordList, modSeq: ModSeq(seq),
                        changed: true
                    )
                )
                events.append(
                    .flagsChanged(mailboxID: mailbox, uid: uid, flags: flags, keywords: keywordList, modSeq: ModSeq(seq))
                )
            }
            if let modSeq, let bulkSQL {
                let update = RawStatement(try db.cachedStatement(sql: bulkSQL), db)
                var written = 0
                for range in ranges {
                    update.bind(1, changeFlags.rawValue)
                    update.bind(2, modSeq)
                    update.bind(3, mailbox.rawValue)
                    update.bind(4, Int64(range.lowerBound))
                    update.bind(5, Int64(range.upperBound))
                    update.bind(6, unchangedSince ?? Int64.max)
                    if case .replace = change { update.bind(7, replacementKeywords) }
                    try update.run()
                    written += update.changes
                }
                // The rows were read in this transaction, so the UPDATE must find exactly those.
                guard written == changedCount else {
                    throw StoreError(
                        .database, account: account, "changing flags: \(written) rows written, \(changedCount) expected"
                    )
                }
            }
            if let modSeq {
                box.counts = counts
                box.modSeq = modSeq
                try box.update(db)
                events.append(.mailboxCounts(mailbox, counts))
                result.modSeq = ModSeq(modSeq)
            }
            return result
        }
    }

    /// A stored keyword list (space-separated) as an array; no work for the usual empty one.
    static func split(_ keywords: String) -> [String] {
        keywords.isEmpty ? [] : keywords.split(separator: " ").map(String.init)
    }

    /// Sorted UIDs as closed ranges of consecutive numbers.
    static func ranges(_ uids: [UID]) -> [ClosedRange<UInt32>] {
        var out: [ClosedRange<UInt32>] = []
        for uid in Set(uids.map(\.rawValue)).sorted() {
            if let last = out.last, UInt64(last.upperBound) + 1 == UInt64(uid) {
                out[out.count - 1] = last.lowerBound...uid
            } else {
                out.append(uid...uid)
            }
        }
        return out
    }

    // MARK: - Expunge

    /// Expunges messages: those with the given UIDs, or (with `uids` nil) all marked `\Deleted`.
    /// Rows stay as tombstones with the expunge's MODSEQ; files and indexed text are removed.
    /// Returns the expunged UIDs.
    /// - SeeAlso: RFC 9051 6.4.3, RFC 4315 2.1, RFC 7162 3.2.10
    @discardableResult
    public func expunge(in mailbox: MailboxID, uids: [UID]? = nil) async throws(StoreError) -> [UID] {
        let account = self.name
        let (removedUIDs, removedIDs): ([UID], [Int64]) = try await self.write("expunging") { db, events in
            var box = try Self.mailboxRecord(db, mailbox, account: account)
            var records = try Self.liveMessages(db, mailbox, uids)
            if uids == nil {
                records = records.filter { $0.messageFlags.contains(.deleted) }
            }
            guard !records.isEmpty else { return ([], []) }
            let modSeq = try Self.nextModSeq(db)
            var counts = box.counts
            for var record in records {
                counts.subtract(.of(flags: record.messageFlags, size: record.size))
                record.expunged = true
                record.modSeq = modSeq
                try record.update(db)
                try db.execute(sql: "DELETE FROM messageText WHERE rowid = ?", arguments: [record.id])
                try db.execute(sql: "DELETE FROM messageTextPending WHERE rowid = ?", arguments: [record.id])
                try db.execute(sql: "DELETE FROM messageTextASCII WHERE rowid = ?", arguments: [record.id])
                try db.execute(sql: "DELETE FROM messageStructure WHERE rowid = ?", arguments: [record.id])
            }
            box.counts = counts
            box.modSeq = modSeq
            try box.update(db)
            let removed = records.map { UID(UInt32(truncatingIfNeeded: $0.uid)) }
            events.append(.messagesRemoved(mailboxID: mailbox, uids: removed, modSeq: ModSeq(modSeq)))
            events.append(.mailboxCounts(mailbox, counts))
            return (removed, records.compactMap(\.id))
        }
        // After the commit; a crash before this leaves orphans that the next open removes.
        for id in removedIDs {
            FileIO.remove(self.layout.messagePath(MessageID(id)))
        }
        return removedUIDs
    }

    // MARK: - Move and copy

    /// Moves messages to another mailbox: they get new UIDs there, and the source keeps expunged
    /// tombstones with the old UIDs. The message ids, files and indexed text stay.
    /// Returns pairs of (source UID, destination UID), as COPYUID needs.
    /// - SeeAlso: RFC 6851 3.3, RFC 4315 3
    @discardableResult
    public func move(
        from source: MailboxID,
        uids: [UID],
        to destination: MailboxID
    ) async throws(StoreError)
        -> [(UID, UID)]
    {
        let account = self.name
        return try await self.write("moving messages") { db, events in
            if source == destination {
                throw StoreError(.notAllowed, account: account, "cannot move to the same mailbox")
            }
            var from = try Self.mailboxRecord(db, source, account: account)
            var to = try Self.mailboxRecord(db, destination, account: account)
            let records = try Self.liveMessages(db, source, uids)
            guard !records.isEmpty else { return [] }
            let modSeq = try Self.nextModSeq(db)
            var fromCounts = from.counts
            var toCounts = to.counts
            var pairs: [(UID, UID)] = []
            for var record in records {
                let oldUID = record.uid
                var tombstone = record
                tombstone.id = nil
                tombstone.expunged = true
                tombstone.modSeq = modSeq
                // The tombstone takes the old UID; free it first for the unique key.
                record.uid = to.uidNext
                record.mailboxID = destination.rawValue
                record.modSeq = modSeq
                record.createSeq = modSeq
                record.saveDate = FileIO.now()
                try record.update(db)
                try tombstone.insert(db)
                to.uidNext += 1
                let counted = MailboxCounts.of(flags: record.messageFlags, size: record.size)
                fromCounts.subtract(counted)
                toCounts.add(counted)
                let newUID = UID(UInt32(truncatingIfNeeded: record.uid))
                pairs.append((UID(UInt32(truncatingIfNeeded: oldUID)), newUID))
                events.append(
                    .messageAdded(
                        mailboxID: destination,
                        uid: newUID,
                        id: MessageID(record.id ?? 0),
                        flags: record.messageFlags,
                        keywords: record.keywordList,
                        modSeq: ModSeq(modSeq)
                    )
                )
            }
            from.counts = fromCounts
            from.modSeq = modSeq
            to.counts = toCounts
            to.modSeq = modSeq
            try from.update(db)
            try to.update(db)
            events.append(.messagesRemoved(mailboxID: source, uids: pairs.map(\.0), modSeq: ModSeq(modSeq)))
            events.append(.mailboxCounts(source, fromCounts))
            events.append(.mailboxCounts(destination, toCounts))
            return pairs
        }
    }

    /// Copies messages to another mailbox as new messages (new ids, new UIDs, the same flags). The
    /// copies' files are hard links made, and their directories fsynced, before the commit.
    /// Returns pairs of (source UID, destination UID).
    /// - SeeAlso: RFC 9051 6.4.7, RFC 4315 3
    @discardableResult
    public func copy(
        from source: MailboxID,
        uids: [UID],
        to destination: MailboxID
    ) async throws(StoreError)
        -> [(UID, UID)]
    {
        let account = self.name
        let layout = self.layout
        let linked = LinkedFiles()
        defer { Task { await self.indexer.schedule(self) } }
        do {
            return try await self.write("copying messages") { db, events in
                _ = try Self.mailboxRecord(db, source, account: account)
                var to = try Self.mailboxRecord(db, destination, account: account)
                let records = try Self.liveMessages(db, source, uids)
                guard !records.isEmpty else { return [] }
                let modSeq = try Self.nextModSeq(db)
                var counts = to.counts
                var pairs: [(UID, UID)] = []
                var directories: Set<String> = []
                for original in records {
                    guard let originalID = original.id else { continue }
                    var copy = original
                    copy.id = nil
                    copy.mailboxID = destination.rawValue
                    copy.uid = to.uidNext
                    copy.modSeq = modSeq
                    copy.createSeq = modSeq
                    copy.saveDate = FileIO.now()
                    try copy.insert(db)
                    guard let copyID = copy.id else {
                        throw StoreError(.database, account: account, "no id for copied message")
                    }
                    // The copy's text waits for the indexer like a delivered message's.
                    try db.execute(
                        sql: """
                            INSERT INTO messageTextPending (rowid, text)
                            SELECT ?, text FROM messageText WHERE rowid = ?
                            UNION ALL SELECT ?, text FROM messageTextPending WHERE rowid = ?
                            LIMIT 1
                            """,
                        arguments: [copyID, originalID, copyID, originalID]
                    )
                    try db.execute(
                        sql: """
                            INSERT INTO messageStructure (rowid, envelope, bodyStructure)
                            SELECT ?, envelope, bodyStructure FROM messageStructure WHERE rowid = ?
                            """,
                        arguments: [copyID, originalID]
                    )
                    to.uidNext += 1
                    counts.add(.of(flags: copy.messageFlags, size: copy.size))
                    let directory = layout.bucketDir(MessageID(copyID))
                    if !FileIO.exists(directory) {
                        try FileIO.makeDirectories(directory)
                        try FileIO.syncDirectory(layout.messageRoot)
                    }
                    let path = layout.messagePath(MessageID(copyID))
                    try FileIO.linkOrCopy(layout.messagePath(MessageID(originalID)), path)
                    linked.append(path)
                    directories.insert(directory)
                    let newUID = UID(UInt32(truncatingIfNeeded: copy.uid))
                    pairs.append((UID(UInt32(truncatingIfNeeded: original.uid)), newUID))
                    events.append(
                        .messageAdded(
                            mailboxID: destination,
                            uid: newUID,
                            id: MessageID(copyID),
                            flags: copy.messageFlags,
                            keywords: copy.keywordList,
                            modSeq: ModSeq(modSeq)
                        )
                    )
                }
                for directory in directories {
                    try FileIO.syncDirectory(directory)
                }
                to.counts = counts
                to.modSeq = modSeq
                try to.update(db)
                events.append(.mailboxCounts(destination, counts))
                return pairs
            }
        } catch {
            // Rolled back: the links made are orphans.
            for path in linked.paths {
                FileIO.remove(path)
            }
            throw error
        }
    }
}

/// Paths created inside a transaction, to remove if it rolls back.
final class LinkedFiles: Sendable {
    private let storage = Mutex<[String]>([])
    func append(_ path: String) { self.storage.withLock { $0.append(path) } }
    var paths: [String] { self.storage.withLock { $0 } }
}
