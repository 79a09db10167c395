import GRDB

/// Full-text indexing off the delivery path. A delivery stores its message's text in
/// `messageTextPending`, a plain table; indexing it (the FTS5 trigram index in `messageText`)
/// costs far more, so it is done here: when deliveries pause (or the backlog grows large), in
/// small transactions that leave the database's single writer free for deliveries in between.
/// Searches scan the pending text, so their answers are exact at any moment.
actor TextIndexer {
    private var running: Task<Void, Never>?
    /// More text arrived while a run was under way.
    private var again = false
    private var stopped = false
    /// Text waiting to be indexed (approximate: other processes add to it too).
    private var backlogBytes = 0
    private var lastDelivery = ContinuousClock.now

    /// The most text moved into the index per transaction: small enough that a delivery waits
    /// only a few milliseconds for the writer.
    static let bytesPerTransaction = 64 * 1024
    /// Indexing waits until deliveries pause this long, so that a burst of mail is not slowed by
    /// it...
    static let quietPeriod = Duration.milliseconds(100)
    /// ...unless this much text is waiting: searches scan the pending text, and that must stay
    /// fast.
    static let maxBacklogBytes = 64 * 1024 * 1024

    /// Called after text was added (`bytes` of it; 0 when unknown, e.g. at open).
    func schedule(_ account: Account, addedBytes: Int = 0) {
        guard !self.stopped else { return }
        if addedBytes > 0 {
            self.backlogBytes += addedBytes
            self.lastDelivery = ContinuousClock.now
        }
        guard self.running == nil else {
            self.again = true
            return
        }
        self.running = Task { await self.run(account) }
    }

    private func run(_ account: Account) async {
        while !self.stopped {
            // Let a burst of deliveries finish first, while the backlog is small.
            while !self.stopped, self.backlogBytes < Self.maxBacklogBytes,
                ContinuousClock.now - self.lastDelivery < Self.quietPeriod
            {
                try? await Task.sleep(for: .milliseconds(20))
            }
            if self.stopped { break }
            let moved: (messages: Int, bytes: Int)
            do {
                moved = try await account.indexPendingText(maxBytes: Self.bytesPerTransaction)
            } catch {
                // The text stays pending (and searchable by scan); the next delivery retries.
                break
            }
            self.backlogBytes = max(0, self.backlogBytes - moved.bytes)
            if moved.messages == 0 {
                self.backlogBytes = 0
                if self.again {
                    self.again = false
                    continue
                }
                break
            }
            // Let waiting deliveries have the writer first.
            await Task.yield()
        }
        self.running = nil
    }

    /// Stops after the current transaction and waits for it.
    func stop() async {
        self.stopped = true
        await self.running?.value
    }
}

extension Account {
    /// Moves pending text of up to `maxBytes` (at least one message) into the full-text index;
    /// returns how many messages, and how many bytes of text, it indexed.
    @discardableResult
    func indexPendingText(maxBytes: Int) async throws(StoreError) -> (messages: Int, bytes: Int) {
        try await self.write("indexing text") { db, _ in
            let rows = try Row.fetchAll(
                db,
                sql: "SELECT rowid, length(CAST(text AS BLOB)) AS size FROM messageTextPending ORDER BY rowid LIMIT 512"
            )
            var ids: [Int64] = []
            var total = 0
            for row in rows {
                ids.append(row["rowid"])
                total += row["size"] as Int
                if total >= maxBytes { break }
            }
            guard let first = ids.first, let last = ids.last else { return (0, 0) }
            // Ids are taken in order, so a range selects exactly them.
            try db.execute(
                sql: """
                    INSERT INTO messageText (rowid, text)
                    SELECT rowid, text FROM messageTextPending WHERE rowid BETWEEN ? AND ?
                    """,
                arguments: [first, last]
            )
            try db.execute(
                sql: """
                    INSERT OR IGNORE INTO messageTextASCII (rowid)
                    SELECT rowid FROM messageTextPending WHERE rowid BETWEEN ? AND ? AND \(Schema.isASCII("text"))
                    """,
                arguments: [first, last]
            )
            try db.execute(sql: "DELETE FROM messageTextPending WHERE rowid BETWEEN ? AND ?", arguments: [first, last])
            return (ids.count, total)
        }
    }

    /// Indexes all pending text now; for commands that add many messages (import) and want the
    /// index complete when they finish.
    public func finishIndexing() async throws(StoreError) {
        while try await self.indexPendingText(maxBytes: 1 << 20).messages > 0 {}
    }
}
