import Foundation
import GRDB
import MailSpool

/// A message written to its place under `msg/`, waiting for the committer to insert its row.
struct PendingDelivery: Sendable {
    /// The message's id, reserved before its file was written (see ``MessageIDReserver``).
    var id: MessageID
    var path: String
    var mailboxID: MailboxID
    var flags: MessageFlags
    var keywords: [String]
    var received: Int64
    var size: Int64
    var metadata: DeliveryMetadata
    var searchText: String
    var structure: MessageStructure?
    /// Index the text in the delivery's own transaction instead of leaving it to the indexer.
    var indexNow: Bool
    /// The most the account's messages may add up to, in bytes, with this one; nil for no limit.
    var quota: Int64?
    /// Header lines stored in the row, in front of the file's bytes (see `MessageRecord.prefix`).
    var prefix: [UInt8] = []
}

/// The bytes of a message to store: in memory, or a received file to link into place with header
/// lines to put in front of it.
public enum MessageSource: Sendable {
    case bytes([UInt8])
    case spooled(SpooledMessage, prefix: [UInt8])

    /// The stored message's size: prefix and file together.
    public var size: Int {
        switch self {
        case .bytes(let b): return b.count
        case .spooled(let m, let prefix): return prefix.count + m.size
        }
    }
}

/// Group commit: deliveries that arrive while a batch is being committed wait together and are
/// committed by the next batch, in one transaction. Each file is written straight to its final
/// name (its id was reserved ahead), so there is no rename. On Linux the files are written without
/// fsync and one syncfs(2) makes all of a batch's contents and names durable before the commit:
/// two syncs per batch (syncfs, then the WAL's fsync), however large. Elsewhere each file is
/// fsynced by its caller, concurrently with the others, and the batch fsyncs each message
/// directory once.
actor DeliveryCommitter {
    private var pending: [(PendingDelivery, CheckedContinuation<Delivered, any Error>)] = []
    private var running = false
    /// How many transactions and deliveries were committed, to see how well batching works.
    private(set) var batches = 0
    private(set) var deliveries = 0

    func submit(_ delivery: PendingDelivery, to account: Account) async throws -> Delivered {
        try await withCheckedThrowingContinuation { continuation in
            self.pending.append((delivery, continuation))
            if !self.running {
                self.running = true
                Task { await self.drain(account) }
            }
        }
    }

    private func drain(_ account: Account) async {
        while !self.pending.isEmpty {
            let batch = self.pending
            self.pending = []
            self.batches += 1
            self.deliveries += batch.count
            let results = await account.commitBatch(batch.map(\.0))
            for ((_, continuation), result) in zip(batch, results) {
                continuation.resume(with: result.mapError { $0 as any Error })
            }
            let deferred = batch.reduce(0) { $0 + ($1.0.indexNow ? 0 : $1.0.searchText.utf8.count) }
            if deferred > 0 {
                await account.indexer.schedule(account, addedBytes: deferred)
            }
        }
        self.running = false
    }
}

extension Account {
    /// Stores a message in a mailbox durably and returns once it is committed: the file is written
    /// to its place under `msg/` under an id reserved for it, its contents and name are made
    /// durable (see ``DeliveryCommitter``), and only then is the transaction that inserts its row
    /// committed. A crash at any point leaves either no visible message or a complete one; files
    /// without a row are removed on open.
    ///
    /// - Parameters:
    ///   - searchText: the headers and decoded text parts to index for full-text search.
    ///   - received: the IMAP internal date, in seconds since 1970.
    ///   - structure: protocol data to keep beside the message (see ``MessageStructure``).
    ///   - indexNow: put the text into the full-text index in the delivery's transaction rather
    ///     than leaving it to the background indexer (see ``TextIndexer``). For IMAP APPEND: its
    ///     client is there to read, and its next commands should not compete with indexing.
    ///   - quota: the most all of the account's messages may add up to, in bytes, including this
    ///     one; checked in the transaction that adds it, so concurrent deliveries cannot overshoot.
    ///     Over it, the delivery fails with ``StoreError/Kind-swift.enum/quotaExceeded``.
    public func deliver(
        _ messageBytes: [UInt8],
        to mailbox: MailboxID,
        flags: MessageFlags = [],
        keywords: [String] = [],
        received: Int64,
        metadata: DeliveryMetadata = DeliveryMetadata(),
        searchText: String = "",
        structure: MessageStructure? = nil,
        indexNow: Bool = false,
        quota: Int64? = nil
    ) async throws(StoreError) -> Delivered {
        try await self.deliver(
            .bytes(messageBytes),
            to: mailbox,
            flags: flags,
            keywords: keywords,
            received: received,
            metadata: metadata,
            searchText: searchText,
            structure: structure,
            indexNow: indexNow,
            quota: quota
        )
    }

    /// Stores a message as ``deliver(_:to:flags:keywords:received:metadata:searchText:structure:indexNow:quota:)``
    /// does, from bytes in memory or from a received file: the file gets a second name under
    /// `msg/` (a hard link, or a copy where links are not possible), its header lines go in the
    /// row, so a message delivered to several recipients is written to disk once.
    public func deliver(
        _ source: MessageSource,
        to mailbox: MailboxID,
        flags: MessageFlags = [],
        keywords: [String] = [],
        received: Int64,
        metadata: DeliveryMetadata = DeliveryMetadata(),
        searchText: String = "",
        structure: MessageStructure? = nil,
        indexNow: Bool = false,
        quota: Int64? = nil
    ) async throws(StoreError) -> Delivered {
        let id = try await self.idReserver.next(self)
        let layout = self.layout
        let path = layout.messagePath(id)
        var prefix: [UInt8] = []
        do {
            // Where the filesystem can be synced as a whole, the committer does that once per batch
            // instead of one fsync per file here.
            try await self.runIO { () throws(FileIO.Failure) in
                let directory = layout.bucketDir(id)
                if !FileIO.exists(directory) {
                    // Once per 4,096 messages: make the new directory itself durable right away.
                    try FileIO.makeDirectories(directory)
                    try FileIO.syncDirectory(layout.messageRoot)
                }
                switch source {
                case .bytes(let bytes):
                    try FileIO.write(path, bytes, sync: !FileIO.canSyncFilesystem)
                case .spooled(let message, _):
                    switch message.storage {
                    case .memory(let bytes):
                        try FileIO.write(path, bytes, sync: !FileIO.canSyncFilesystem)
                    case .file(let spoolPath, _):
                        if !FileIO.canSyncFilesystem {
                            do throws(SpoolError) {
                                try message.sync()
                            } catch {
                                throw FileIO.Failure(operation: "fsync", path: spoolPath, errno: error.errno)
                            }
                        }
                        try FileIO.linkOrCopy(spoolPath, path)
                    }
                }
            }
            if case .spooled(_, let p) = source { prefix = p }
        } catch {
            FileIO.remove(path)
            throw StoreError(.io, account: self.name, "writing message: \(error)")
        }
        let (keywordFlags, otherKeywords) = Self.normalizedKeywords(keywords)
        let delivery = PendingDelivery(
            id: id,
            path: path,
            mailboxID: mailbox,
            flags: flags.union(keywordFlags),
            keywords: otherKeywords,
            received: received,
            size: Int64(source.size),
            metadata: metadata,
            searchText: searchText,
            structure: structure,
            indexNow: indexNow,
            quota: quota,
            prefix: prefix
        )
        do {
            return try await self.committer.submit(delivery, to: self)
        } catch let error as StoreError {
            throw error
        } catch {
            throw StoreError(.database, account: self.name, "delivering: \(error)")
        }
    }

    /// Runs a blocking file operation on the I/O queue.
    func runIO<T: Sendable>(
        _ body: @escaping @Sendable () throws(FileIO.Failure) -> T
    ) async throws(FileIO.Failure) -> T {
        let result: Result<T, FileIO.Failure> = await withCheckedContinuation { continuation in
            self.io.async {
                continuation.resume(returning: Result { () throws(FileIO.Failure) in try body() })
            }
        }
        return try result.get()
    }

    /// Commits a batch of deliveries in one transaction; a delivery that fails (e.g. its mailbox was
    /// removed) fails alone, through a savepoint.
    func commitBatch(_ batch: [PendingDelivery]) async -> [Result<Delivered, StoreError>] {
        let layout = self.layout
        let account = self.name
        let outcome: Result<[Result<Delivered, StoreError>], StoreError> = await {
            do throws(StoreError) {
                return .success(
                    try await self.write("committing deliveries") { db, events in
                        var results: [Result<Delivered, StoreError>] = []
                        var state = BatchState(
                            modSeq: try Int64.fetchOne(db, sql: "SELECT highestModSeq FROM syncState WHERE id = 1") ?? 0
                        )
                        for delivery in batch {
                            // A failed delivery rolls back its savepoint and leaves `state` as it was.
                            var attempt = state
                            var attemptEvents: [ChangeEvent] = []
                            var delivered: Delivered?
                            do {
                                try db.inSavepoint {
                                    delivered = try Self.insertDelivery(
                                        db,
                                        delivery,
                                        layout: layout,
                                        account: account,
                                        state: &attempt,
                                        events: &attemptEvents
                                    )
                                    return .commit
                                }
                            } catch let error as StoreError {
                                results.append(.failure(error))
                                continue
                            } catch {
                                results.append(.failure(StoreError(.database, account: account, "\(error)")))
                                continue
                            }
                            if let delivered {
                                state = attempt
                                events.append(contentsOf: attemptEvents)
                                results.append(.success(delivered))
                            }
                        }
                        // The counters and mailboxes are written once per batch.
                        try db.execute(
                            sql: "UPDATE syncState SET highestModSeq = ? WHERE id = 1",
                            arguments: [state.modSeq]
                        )
                        for mailbox in state.mailboxes.values {
                            try mailbox.update(db)
                        }
                        // Before the commit: the files' contents and names must be durable. One
                        // syncfs(2) for the whole batch covers both; elsewhere each file was fsynced
                        // by its deliverer, and one fsync per directory makes the names durable.
                        if FileIO.canSyncFilesystem {
                            try FileIO.syncFilesystem(layout.messageRoot)
                        } else {
                            for directory in state.directories {
                                try FileIO.syncDirectory(directory)
                            }
                        }
                        return results
                    }
                )
            } catch {
                return .failure(error)
            }
        }()
        switch outcome {
        case .success(let results):
            // A delivery that failed alone had its savepoint rolled back: no row names its file.
            for (delivery, result) in zip(batch, results) {
                if case .failure = result {
                    FileIO.remove(delivery.path)
                }
            }
            return results
        case .failure(let error):
            // The files stay: a commit that failed while syncing may still have reached the disk,
            // and the next open removes the files that no committed row names.
            return batch.map { _ in .failure(error) }
        }
    }

    /// What a batch keeps in memory until it writes it once at the end.
    struct BatchState {
        var modSeq: Int64
        var mailboxes: [Int64: MailboxRecord] = [:]
        var directories: Set<String> = []
        /// The size of the account's messages before this batch (the mailbox rows are written at
        /// its end), read when a delivery with a quota needs it.
        var sizeBeforeBatch: Int64?
        /// The size of the messages this batch added so far.
        var batchBytes: Int64 = 0
    }

    private static func insertDelivery(
        _ db: Database,
        _ delivery: PendingDelivery,
        layout: AccountLayout,
        account: String,
        state: inout BatchState,
        events: inout [ChangeEvent]
    ) throws -> Delivered {
        var mailbox: MailboxRecord
        if let cached = state.mailboxes[delivery.mailboxID.rawValue] {
            mailbox = cached
        } else {
            mailbox = try Self.mailboxRecord(db, delivery.mailboxID, account: account)
        }
        if let quota = delivery.quota {
            let before =
                try state.sizeBeforeBatch ?? Int64.fetchOne(db, sql: "SELECT COALESCE(SUM(size), 0) FROM mailbox") ?? 0
            state.sizeBeforeBatch = before
            let used = before + state.batchBytes
            guard used + delivery.size <= quota else {
                throw StoreError(
                    .quotaExceeded,
                    account: account,
                    "account storage full: \(used) of \(quota) bytes used, message of \(delivery.size) bytes does not fit"
                )
            }
        }
        state.modSeq += 1
        let modSeq = state.modSeq
        var record = MessageRecord(
            id: delivery.id.rawValue,
            mailboxID: delivery.mailboxID.rawValue,
            uid: mailbox.uidNext,
            modSeq: modSeq,
            createSeq: modSeq,
            flags: delivery.flags.rawValue,
            keywords: delivery.keywords.joined(separator: " "),
            received: delivery.received,
            size: delivery.size,
            remoteIP: delivery.metadata.remoteIP,
            ehloDomain: delivery.metadata.ehloDomain,
            mailFrom: delivery.metadata.mailFrom,
            authResults: delivery.metadata.authResults,
            expunged: false,
            saveDate: FileIO.now(),
            prefix: delivery.prefix.isEmpty ? nil : Data(delivery.prefix)
        )
        try record.insert(db)
        let rowID = delivery.id.rawValue
        if delivery.indexNow {
            try db.execute(sql: "INSERT INTO messageText (rowid, text) VALUES (?, ?)", arguments: [rowID, delivery.searchText])
            if delivery.searchText.utf8.allSatisfy({ $0 < 0x80 && $0 != 0 }) {
                try db.execute(sql: "INSERT INTO messageTextASCII (rowid) VALUES (?)", arguments: [rowID])
            }
        } else {
            try db.execute(
                sql: "INSERT INTO messageTextPending (rowid, text) VALUES (?, ?)",
                arguments: [rowID, delivery.searchText]
            )
        }
        if let structure = delivery.structure {
            try db.execute(
                sql: "INSERT INTO messageStructure (rowid, envelope, bodyStructure) VALUES (?, ?, ?)",
                arguments: [rowID, Data(structure.envelope), Data(structure.bodyStructure)]
            )
        }
        state.batchBytes += delivery.size
        mailbox.uidNext += 1
        mailbox.modSeq = modSeq
        var counts = mailbox.counts
        counts.add(.of(flags: delivery.flags, size: delivery.size))
        mailbox.counts = counts
        state.mailboxes[delivery.mailboxID.rawValue] = mailbox

        let id = delivery.id
        state.directories.insert(layout.bucketDir(id))

        let uid = UID(UInt32(truncatingIfNeeded: record.uid))
        events.append(
            .messageAdded(
                mailboxID: delivery.mailboxID,
                uid: uid,
                id: id,
                flags: delivery.flags,
                keywords: delivery.keywords,
                modSeq: ModSeq(modSeq)
            )
        )
        events.append(.mailboxCounts(delivery.mailboxID, counts))
        return Delivered(id: id, mailboxID: delivery.mailboxID, uid: uid, modSeq: ModSeq(modSeq))
    }

    /// The keywords kept as flag bits rather than as text.
    /// - SeeAlso: RFC 5788, RFC 3503 (`$MDNSent`)
    static let keywordFlags: [String: MessageFlags] = [
        "$junk": .junk, "$notjunk": .notJunk, "$forwarded": .forwarded, "$phishing": .phishing,
        "$mdnsent": .mdnSent,
    ]

    /// Splits keywords into the flag bits for well-known ones and the rest as stored: lower-case
    /// (keywords compare without case), unique, sorted, without system flags.
    /// - SeeAlso: RFC 9051 2.3.2
    static func normalizedKeywords(_ keywords: [String]) -> (MessageFlags, [String]) {
        var flags: MessageFlags = []
        var rest: Set<String> = []
        for keyword in keywords {
            let lower = keyword.lowercased()
            if let flag = Self.keywordFlags[lower] {
                flags.insert(flag)
            } else if !lower.isEmpty && !lower.hasPrefix("\\") && !lower.contains(" ") {
                rest.insert(lower)
            }
        }
        return (flags, rest.sorted())
    }
}

/// Hands out message ids ahead of their rows, so a delivery can write its file straight to its
/// final name. Ids are reserved in blocks by raising the `message` table's AUTOINCREMENT counter
/// in a committed transaction: rows inserted any other way (copies, other processes) get ids
/// above every reserved one, and an id is never handed out twice, even across a crash (the
/// unused rest of a block is skipped; its files, if any, have no row and are removed on open).
actor MessageIDReserver {
    static let blockSize: Int64 = 1024
    private var next: Int64 = 0
    private var end: Int64 = 0
    /// The reservation in progress: callers that run out meanwhile wait for it, not reserve more.
    private var refill: Task<Result<Int64, StoreError>, Never>?

    func next(_ account: Account) async throws(StoreError) -> MessageID {
        while self.next >= self.end {
            let task: Task<Result<Int64, StoreError>, Never>
            if let running = self.refill {
                task = running
            } else {
                task = Task {
                    do throws(StoreError) {
                        return .success(try await Self.reserve(account))
                    } catch {
                        return .failure(error)
                    }
                }
                self.refill = task
            }
            let result = await task.value
            if self.refill == task {
                self.refill = nil
                if case .success(let last) = result {
                    self.next = last - Self.blockSize + 1
                    self.end = last + 1
                }
            }
            _ = try result.get()
        }
        defer { self.next += 1 }
        return MessageID(self.next)
    }

    /// Raises the counter by a block in its own committed transaction; returns the block's last id.
    private static func reserve(_ account: Account) async throws(StoreError) -> Int64 {
        try await account.write("reserving message ids") { db, _ in
            let seq = try Int64.fetchOne(db, sql: "SELECT seq FROM sqlite_sequence WHERE name = 'message'") ?? 0
            let highest = try Int64.fetchOne(db, sql: "SELECT MAX(id) FROM message") ?? 0
            let last = max(seq, highest) + Self.blockSize
            try db.execute(sql: "DELETE FROM sqlite_sequence WHERE name = 'message'")
            try db.execute(sql: "INSERT INTO sqlite_sequence (name, seq) VALUES ('message', ?)", arguments: [last])
            return last
        }
    }
}
