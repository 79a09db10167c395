import Dispatch
import GRDB
import Synchronization

/// One account's mail store: its database, its message files and its change notifications.
///
/// Every change runs in one SQLite transaction that also raises the account's MODSEQ and keeps the
/// mailbox counts exact; change events are published after the commit, in commit order.
public final class Account: Sendable {
    /// The mailboxes a new account starts with.
    public static let initialMailboxes: [(String, SpecialUse)] = [
        ("Inbox", []), ("Sent", .sent), ("Archive", .archive), ("Trash", .trash), ("Drafts", .drafts),
        ("Junk", .junk),
    ]

    public let name: String
    let layout: AccountLayout
    let database: any DatabaseWriter
    let changes: ChangeBroadcaster
    let committer: DeliveryCommitter
    /// Message ids for deliveries, reserved ahead of their rows.
    let idReserver = MessageIDReserver()
    /// What `watchOtherProcesses` has seen.
    let otherProcesses = OtherProcessChanges()
    /// Moves delivered messages' text into the full-text index in the background.
    let indexer = TextIndexer()
    /// Which messages are \Recent for IMAP sessions of this process.
    let recent = RecentClaims()
    let lock: AccountLock
    /// Blocking file writes and fsyncs run here, off the cooperative pool, so that many can wait at once.
    let io: BlockingIOPool

    private init(name: String, layout: AccountLayout, database: any DatabaseWriter, lock: AccountLock) {
        self.name = name
        self.lock = lock
        self.layout = layout
        self.database = database
        self.changes = ChangeBroadcaster()
        self.committer = DeliveryCommitter()
        self.io = BlockingIOPool(label: "mailstore.io.\(name)")
    }

    /// Opens (creating when needed) the account `name` under `dataDir`: runs pending migrations,
    /// removes leftover temporary files and message files that no committed row refers to (only
    /// when no other process or `Account` has it open, see ``AccountLock``), and creates the
    /// initial mailboxes of a new account.
    public static func open(dataDir: String, name: String) async throws(StoreError) -> Account {
        guard !name.isEmpty, !name.contains("/"), name != ".", name != ".." else {
            throw StoreError(.invalidName, account: name, "invalid account name")
        }
        let layout = AccountLayout(dataDir: dataDir, name: name)
        do {
            try FileIO.makeDirectories(layout.messageRoot)
            try FileIO.makeDirectories(layout.tempDir)
        } catch {
            throw StoreError(.io, account: name, "creating directories: \(error)")
        }
        let lock: AccountLock
        do {
            lock = try AccountLock(path: layout.lockPath)
        } catch {
            throw StoreError(.io, account: name, "locking: \(error)")
        }
        let pool: DatabasePool
        do {
            var config = Configuration()
            config.busyMode = .timeout(30)
            // Memory per open account stays small and bounded: a few readers, each with a page
            // cache of at most 1 MB (SQLite's default is 2 MB per connection, 5 readers here).
            config.maximumReaderCount = 3
            config.prepareDatabase { db in
                try db.execute(sql: "PRAGMA cache_size = -1024")
                // A commit is on disk when it returns: the WAL is fsynced at every commit.
                try db.execute(sql: "PRAGMA synchronous = FULL")
            }
            pool = try DatabasePool(path: layout.databasePath, configuration: config)
            try Schema.migrator.migrate(pool)
        } catch {
            throw StoreError(.database, account: name, "opening \(layout.databasePath): \(error)")
        }
        let account = Account(name: name, layout: layout, database: pool, lock: lock)
        if lock.wasExclusive {
            try await account.cleanFiles()
        }
        do {
            try lock.downgrade()
        } catch {
            throw StoreError(.io, account: name, "locking: \(error)")
        }
        try await account.createInitialMailboxes()
        // Text left unindexed by an earlier process.
        await account.indexer.schedule(account)
        return account
    }

    /// Closes the database and releases the account's lock; the value must not be used afterwards.
    /// Dropping the last reference does the same, later.
    public func close() async {
        await self.indexer.stop()
        try? self.database.close()
        self.lock.release()
    }

    /// Subscribes to this account's changes, in commit order, from now on.
    public func changeEvents() -> AsyncStream<ChangeEvent> {
        let batches = self.changes.subscribe()
        return AsyncStream { continuation in
            let task = Task {
                for await batch in batches {
                    for event in batch { continuation.yield(event) }
                }
                continuation.finish()
            }
            continuation.onTermination = { _ in task.cancel() }
        }
    }

    /// The same changes, one array per committed transaction, handed to `handler` synchronously
    /// when the transaction commits (on the store's writer queue; the handler must not block).
    /// Unlike the streams, a change is with the subscriber before the call that made it returns,
    /// so a client that saw another's command complete then finds its changes at once.
    public func subscribeChanges(_ handler: @escaping @Sendable ([ChangeEvent]) -> Void) -> ChangeSubscription {
        self.changes.subscribe(handler)
    }

    // MARK: - Helpers for transactions

    /// Runs `body` in one write transaction and publishes the events it collects once committed.
    func write<T: Sendable>(
        _ what: String,
        _ body: @escaping @Sendable (Database, inout [ChangeEvent]) throws -> T
    ) async throws(StoreError) -> T {
        let changes = self.changes
        let otherProcesses = self.otherProcesses
        do {
            return try await self.database.write { db in
                var events: [ChangeEvent] = []
                let result = try body(db, &events)
                let published = events
                if !published.isEmpty {
                    db.afterNextTransaction(onCommit: { _ in
                        otherProcesses.noteOwn(published)
                        changes.publish(published)
                    })
                }
                return result
            }
        } catch let error as StoreError {
            throw error
        } catch {
            throw StoreError(.database, account: self.name, "\(what): \(error)")
        }
    }

    func read<T: Sendable>(
        _ what: String,
        _ body: @escaping @Sendable (Database) throws -> T
    ) async throws(StoreError)
        -> T
    {
        do {
            return try await self.database.read(body)
        } catch let error as StoreError {
            throw error
        } catch {
            throw StoreError(.database, account: self.name, "\(what): \(error)")
        }
    }

    /// Raises the account's MODSEQ by one and returns the new value.
    static func nextModSeq(_ db: Database) throws -> Int64 {
        try db.execute(sql: "UPDATE syncState SET highestModSeq = highestModSeq + 1 WHERE id = 1")
        return try Int64.fetchOne(db, sql: "SELECT highestModSeq FROM syncState WHERE id = 1") ?? 0
    }

    /// The highest MODSEQ handed out so far.
    public func highestModSeq() async throws(StoreError) -> ModSeq {
        ModSeq(
            try await self.read("reading modseq") { db in
                try Int64.fetchOne(db, sql: "SELECT highestModSeq FROM syncState WHERE id = 1") ?? 0
            }
        )
    }

    // MARK: - Files on open

    /// Removes temporary files and message files without a live row. A file can be left behind by a
    /// crash between a delivery's write into `msg/` and its commit, or between an expunge's commit and the
    /// removal of its files.
    func cleanFiles() async throws(StoreError) {
        for name in FileIO.list(self.layout.tempDir) {
            FileIO.remove(self.layout.tempDir + "/" + name)
        }
        let live: Set<Int64> = try await self.read("listing message ids") { db in
            Set(try Int64.fetchAll(db, sql: "SELECT id FROM message WHERE expunged = 0"))
        }
        for bucket in FileIO.list(self.layout.messageRoot) {
            let dir = self.layout.messageRoot + "/" + bucket
            for file in FileIO.list(dir) {
                if let id = Int64(file), live.contains(id), AccountLayout.bucketName(MessageID(id)) == bucket {
                    continue
                }
                FileIO.remove(dir + "/" + file)
            }
        }
    }

    func createInitialMailboxes() async throws(StoreError) {
        _ = try await self.write("creating initial mailboxes") { db, events in
            let count = try MailboxRecord.fetchCount(db)
            guard count == 0 else { return 0 }
            for (name, use) in Self.initialMailboxes {
                let record = try Self.insertMailbox(db, name: name, specialUse: use)
                events.append(.mailboxAdded(record.value))
                try SubscriptionRecord(name: name).save(db)
            }
            return Self.initialMailboxes.count
        }
    }
}

/// Serial dispatch queues used round-robin for blocking file I/O. Serial queues each get a thread of
/// their own when busy, while a concurrent queue runs only about as many blocks as there are cores:
/// concurrent fsyncs are what lets the filesystem journal commit many files at once.
final class BlockingIOPool: Sendable {
    static let width = 16
    private let queues: [DispatchQueue]
    private let next = Atomic<Int>(0)

    init(label: String) {
        self.queues = (0..<Self.width).map { DispatchQueue(label: "\(label).\($0)") }
    }

    func async(_ work: @escaping @Sendable () -> Void) {
        let index = self.next.wrappingAdd(1, ordering: .relaxed).oldValue
        self.queues[index % Self.width].async(execute: work)
    }
}

/// Fans change events out to subscribers, in the order they were published.
final class ChangeBroadcaster: Sendable {
    private struct State {
        var nextID = 0
        var subscribers: [Int: @Sendable ([ChangeEvent]) -> Void] = [:]
    }

    private let state = Mutex(State())

    func subscribe() -> AsyncStream<[ChangeEvent]> {
        let (stream, continuation) = AsyncStream<[ChangeEvent]>.makeStream(bufferingPolicy: .unbounded)
        let subscription = self.subscribe { continuation.yield($0) }
        continuation.onTermination = { _ in subscription.cancel() }
        return stream
    }

    /// Calls `handler` with every transaction's changes, on the writer's queue, before the
    /// transaction's caller resumes: once a write has returned, every subscriber has its events.
    /// The handler must not block.
    func subscribe(_ handler: @escaping @Sendable ([ChangeEvent]) -> Void) -> ChangeSubscription {
        let id = self.state.withLock { state in
            let id = state.nextID
            state.nextID += 1
            state.subscribers[id] = handler
            return id
        }
        return ChangeSubscription { [weak self] in
            _ = self?.state.withLock { $0.subscribers.removeValue(forKey: id) }
        }
    }

    /// Called on the database's writer queue after a commit, so calls come in commit order.
    /// The handlers run outside the lock: a handler that resumes a task takes that task's own
    /// lock, and cancelling a subscriber's task holds that lock while it unsubscribes here; doing
    /// both under this lock could deadlock.
    func publish(_ events: [ChangeEvent]) {
        let handlers = self.state.withLock { Array($0.subscribers.values) }
        for handler in handlers {
            handler(events)
        }
    }
}

/// Ends a change subscription (see ``Account/subscribeChanges(_:)``).
public final class ChangeSubscription: Sendable {
    private let onCancel: Mutex<(@Sendable () -> Void)?>

    init(_ onCancel: @escaping @Sendable () -> Void) {
        self.onCancel = Mutex(onCancel)
    }

    public func cancel() {
        let action = self.onCancel.withLock { value in
            defer { value = nil }
            return value
        }
        action?()
    }

    deinit {
        self.cancel()
    }
}
