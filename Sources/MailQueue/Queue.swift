import Foundation
import GRDB

#if canImport(Glibc)
import Glibc
#endif

/// A recipient of a message to queue.
public struct NewQueueRecipient: Sendable, Equatable {
    public var localpart: String
    /// ASCII (IDNA) form.
    public var domain: String
    /// The fromid for this recipient (empty: none); with one, `senderLocalpart` carries it.
    public var fromID: String
    /// The MAIL FROM localpart for this recipient when it differs from the message's (fromid).
    public var senderLocalpart: String?

    public init(localpart: String, domain: String, fromID: String = "", senderLocalpart: String? = nil) {
        self.localpart = localpart
        self.domain = domain
        self.fromID = fromID
        self.senderLocalpart = senderLocalpart
    }
}

/// A message to queue: one file (or bytes) for all its recipients.
public struct NewQueueMessage: Sendable {
    public enum Source: Sendable {
        /// Hard-linked into the queue (a received message's spool file, on the same filesystem).
        case file(path: String)
        case bytes([UInt8])
    }

    public var senderAccount: String
    public var senderLocalpart: String
    public var senderDomain: String
    public var recipients: [NewQueueRecipient]
    public var prefix: [UInt8]
    public var source: Source
    /// Of the source, without the prefix.
    public var sourceSize: Int64
    public var has8bit = false
    public var smtputf8 = false
    public var messageID = ""
    public var subject = ""
    public var requireTLS: Bool? = nil
    public var extra: [String: String] = [:]
    public var transport = ""
    public var isDMARCReport = false
    public var isTLSReport = false
    public var maxAttempts = 0
    /// RFC 4865: the first attempt no earlier than this (unix seconds); nil: now.
    public var releaseAt: Int64? = nil
    public var futureReleaseRequest = ""

    public init(
        senderAccount: String, senderLocalpart: String, senderDomain: String,
        recipients: [NewQueueRecipient], prefix: [UInt8], source: Source,
        sourceSize: Int64
    ) {
        self.senderAccount = senderAccount
        self.senderLocalpart = senderLocalpart
        self.senderDomain = senderDomain
        self.recipients = recipients
        self.prefix = prefix
        self.source = source
        self.sourceSize = sourceSize
    }
}

/// The queue: its database and its message files under one directory (`<data>/queue`).
public final class MailQueue: Sendable {
    public let directory: String
    let database: DatabasePool
    let writer = GroupWriter()

    /// A message's file: `<dir>/<bucket>/<id>`, 8192 files per bucket directory, the bucket
    /// named by id >> 13 in base-64 digits, least significant first (the layout mox uses, so
    /// a queue directory looks the same).
    public func path(for id: Int64) -> String {
        "\(self.directory)/\(Self.bucket(id))/\(id)"
    }

    static func bucket(_ id: Int64) -> String {
        let digits = Array("abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ-_")
        var n = id >> 13
        var out = ""
        repeat {
            out.append(digits[Int(n & 63)])
            n >>= 6
        } while n > 0
        return out
    }

    private init(directory: String, database: DatabasePool) {
        self.directory = directory
        self.database = database
    }

    /// Opens (creating when missing) the queue in `directory`; message files without a row
    /// (from a crash between writing the file and committing) are removed.
    public static func open(directory: String) throws(QueueError) -> MailQueue {
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw QueueError(.io, "creating queue directory \(directory): \(error)")
        }
        let pool: DatabasePool
        do {
            var config = Configuration()
            config.busyMode = .timeout(30)
            config.maximumReaderCount = 2
            config.prepareDatabase { db in
                try db.execute(sql: "PRAGMA cache_size = -1024")
                // A commit is on disk when it returns (the submission's 250 depends on it).
                try db.execute(sql: "PRAGMA synchronous = FULL")
            }
            pool = try DatabasePool(path: directory + "/index.db", configuration: config)
            try QueueSchema.migrator.migrate(pool)
        } catch {
            throw QueueError(.database, "opening \(directory)/index.db: \(error)")
        }
        let queue = MailQueue(directory: directory, database: pool)
        queue.removeOrphans()
        return queue
    }

    public func close() {
        try? self.database.close()
    }

    private func removeOrphans() {
        guard let ids = try? self.database.read({ db in try Set(Int64.fetchAll(db, sql: "SELECT id FROM message")) }),
            let buckets = try? FileManager.default.contentsOfDirectory(atPath: self.directory)
        else { return }
        for bucket in buckets where !bucket.hasPrefix("index.db") {
            var isDirectory: ObjCBool = false
            let dir = self.directory + "/" + bucket
            guard FileManager.default.fileExists(atPath: dir, isDirectory: &isDirectory), isDirectory.boolValue,
                let names = try? FileManager.default.contentsOfDirectory(atPath: dir)
            else { continue }
            for name in names {
                if let id = Int64(name), ids.contains(id) { continue }
                unlink(dir + "/" + name)
            }
        }
    }

    // MARK: - Adding

    /// Queues the message for each recipient: the file is linked (or written) once per
    /// recipient and made durable, then the rows are committed (synchronously). When this
    /// returns, the message survives a crash. Hold rules apply. Joined with other callers' adds
    /// and completions into one transaction and one flush to disk (group commit): concurrent
    /// submissions share the cost of durability.
    public func addGrouped(_ new: NewQueueMessage, now: Int64) async throws(QueueError) -> [QueuedMessage] {
        guard !new.recipients.isEmpty else { return [] }
        switch try await self.writer.run(.add(new, now), queue: self) {
        case .added(let messages): return messages
        case .completed: return []
        }
    }

    /// As `complete`, joined with other writes (group commit).
    public func completeGrouped(
        _ items: [(id: Int64, result: QueueAttemptResult, completion: Completion)], now: Int64,
        keepSeconds: @escaping @Sendable (String) -> Int64
    ) async throws(QueueError) {
        _ = try await self.writer.run(.complete(items.map { CompletionItem(id: $0.id, result: $0.result, completion: $0.completion) }, now, keepSeconds), queue: self)
    }

    /// The rows and files of a new message, in the caller's transaction; `created` gets the
    /// paths made (to remove when the transaction fails). Not yet synced.
    func insert(_ new: NewQueueMessage, now: Int64, _ db: Database, created: inout [String]) throws -> [QueuedMessage] {
        let rules = try HoldRuleRecord.fetchAll(db).map(\.value)
        var out: [QueuedMessage] = []
        // Several recipients without their own fromid share one base id: they may go out in
        // one transaction.
        let shared = new.recipients.count > 1 && new.recipients.allSatisfy { $0.fromID.isEmpty }
        var baseID: Int64 = 0
        var first: String?
        for r in new.recipients {
            var m = QueuedMessage(
                baseID: baseID, queued: now, senderAccount: new.senderAccount,
                senderLocalpart: r.senderLocalpart ?? new.senderLocalpart, senderDomain: new.senderDomain, fromID: r.fromID,
                recipientLocalpart: r.localpart, recipientDomain: r.domain, maxAttempts: new.maxAttempts,
                nextAttempt: new.releaseAt ?? now, has8bit: new.has8bit, smtputf8: new.smtputf8,
                isDMARCReport: new.isDMARCReport, isTLSReport: new.isTLSReport,
                size: Int64(new.prefix.count) + new.sourceSize, messageID: new.messageID,
                msgPrefix: new.prefix, subject: new.subject, transport: new.transport,
                requireTLS: new.requireTLS, futureReleaseRequest: new.futureReleaseRequest, extra: new.extra
            )
            m.hold = rules.contains { $0.matches(m) }
            if !r.fromID.isEmpty {
                let queued = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM message WHERE fromID = ?", arguments: [r.fromID]) ?? 0
                let retired = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM retired WHERE fromID = ?", arguments: [r.fromID]) ?? 0
                if queued + retired > 0 { throw QueueError(.invalid, "fromid not unique") }
            }
            var record = MessageRecord(m)
            try record.insert(db)
            m.id = record.id ?? 0
            if shared && baseID == 0 {
                baseID = m.id
                m.baseID = baseID
                record.baseID = baseID
                try record.update(db)
            }
            let path = self.path(for: m.id)
            let dir = String(path[..<(path.lastIndex(of: "/") ?? path.endIndex)])
            if !FileManager.default.fileExists(atPath: dir) {
                try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            }
            try self.place(new.source, first: first, at: path)
            first = first ?? path
            created.append(path)
            out.append(m)
        }
        return out
    }

    /// Makes files (data and names) durable: each distinct file (recipients' hard links share
    /// one) and each directory once. fsync(2) of just these, not syncfs(2) of the filesystem:
    /// on a busy server the filesystem has other dirty data (the store, removed files) that a
    /// submission should not wait for.
    static func syncFiles(_ paths: [String]) throws {
        var dirs = Set<String>()
        var inodes = Set<UInt64>()
        for path in paths {
            var st = stat()
            if stat(path, &st) == 0, !inodes.insert(UInt64(st.st_ino)).inserted { continue }
            try Self.fsyncFile(path)
            dirs.insert(String(path[..<(path.lastIndex(of: "/") ?? path.endIndex)]))
        }
        for dir in dirs { try Self.fsyncDirectory(dir) }
    }

    /// Links the source (or the first recipient's file) to `path`; writes the bytes when
    /// there is nothing to link.
    private func place(_ source: NewQueueMessage.Source, first: String?, at path: String) throws {
        if let first {
            guard link(first, path) == 0 else { throw QueueError(.io, "link \(path): \(String(cString: strerror(errno)))") }
            return
        }
        switch source {
        case .file(let from):
            if link(from, path) == 0 { return }
            // Another filesystem: copied.
            try FileManager.default.copyItem(atPath: from, toPath: path)
        case .bytes(let bytes):
            let fd = Glibc.open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o660)
            guard fd >= 0 else { throw QueueError(.io, "create \(path): \(String(cString: strerror(errno)))") }
            defer { Glibc.close(fd) }
            var done = 0
            while done < bytes.count {
                let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + done, bytes.count - done) }
                if n < 0 {
                    if errno == EINTR { continue }
                    throw QueueError(.io, "write \(path): \(String(cString: strerror(errno)))")
                }
                done += n
            }
        }
    }

    static func fsyncFile(_ path: String) throws {
        let fd = Glibc.open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw QueueError(.io, "open \(path): \(String(cString: strerror(errno)))") }
        defer { Glibc.close(fd) }
        guard fsync(fd) == 0 else { throw QueueError(.io, "fsync \(path): \(String(cString: strerror(errno)))") }
    }

    static func fsyncDirectory(_ path: String) throws {
        let fd = Glibc.open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw QueueError(.io, "open \(path): \(String(cString: strerror(errno)))") }
        defer { Glibc.close(fd) }
        guard fsync(fd) == 0 else { throw QueueError(.io, "fsync \(path): \(String(cString: strerror(errno)))") }
    }

    // MARK: - Delivery

    /// Messages due at `now`, not on hold, for domains not in `busy`, earliest first, at most
    /// one per domain.
    public func due(now: Int64, busy: Set<String>, limit: Int) throws(QueueError) -> [QueuedMessage] {
        // The runner asks on every wake-up (each submission): ids and domains first, by index,
        // busy domains left out in SQL; whole rows only for the messages picked.
        let (exclude, excludeArgs) = Self.notIn(busy)
        return try self.read { db in
            let rows = try Row.fetchAll(
                db,
                sql: "SELECT id, recipientDomain FROM message WHERE hold = 0 AND nextAttempt <= ?\(exclude) ORDER BY nextAttempt, id LIMIT ?",
                arguments: StatementArguments([now] + excludeArgs + [max(limit, 1) * 20])
            )
            var seen = busy
            var ids: [Int64] = []
            for row in rows where ids.count < limit {
                let domain: String = row["recipientDomain"]
                if seen.insert(domain.lowercased()).inserted { ids.append(row["id"]) }
            }
            return try ids.compactMap { try MessageRecord.fetchOne(db, key: $0)?.value }
        }
    }

    /// The earliest next attempt of a message not on hold and not for a busy domain.
    public func nextAttempt(busy: Set<String>) throws(QueueError) -> Int64? {
        let (exclude, excludeArgs) = Self.notIn(busy)
        return try self.read { db in
            try Int64.fetchOne(
                db, sql: "SELECT nextAttempt FROM message WHERE hold = 0\(exclude) ORDER BY nextAttempt LIMIT 1",
                arguments: StatementArguments(excludeArgs)
            )
        }
    }

    /// " AND recipientDomain NOT IN (?, ...)" for the busy domains, with its arguments.
    static func notIn(_ busy: Set<String>) -> (String, [any DatabaseValueConvertible]) {
        guard !busy.isEmpty else { return ("", []) }
        let list = busy.sorted()
        return (" AND lower(recipientDomain) NOT IN (" + list.map { _ in "?" }.joined(separator: ", ") + ")", list)
    }

    /// RFC 5321 4.5.4.1: attempts spaced ever further: 7.5 minutes (±5 s) doubled per
    /// earlier attempt, as mox schedules them (7.5m, 15m, 30m, 1h, 2h, 4h, 8h).
    public static func backoff(attempts: Int) -> Int64 {
        var seconds = Int64(7 * 60 + 30 + Int.random(in: -5...4))
        for _ in 0..<min(attempts, 20) { seconds *= 2 }
        return seconds
    }

    /// Starts an attempt for `first` and the messages that go with it (its base id's
    /// recipients with the same domain, attempts, TLS requirement and transport, due no later),
    /// plus further due messages for the same recipient domain that take the same way
    /// (transport, sender, TLS requirement, attempt count), up to `limit` messages in all: one
    /// connection can carry them one transaction after another. In one commit, before any
    /// connection is made, each gets its attempt counted, its next attempt set as if this one
    /// fails, and a result saying it is under way: a crash during delivery then means a retry
    /// at the next attempt, not a lost message. Returns one group
    /// per transaction (a base id's recipients together), `first`'s group first.
    public func beginAttempts(_ first: QueuedMessage, now: Int64, limit: Int) throws(QueueError) -> [[QueuedMessage]] {
        try self.write { db in
            guard let current = try MessageRecord.fetchOne(db, key: first.id)?.value, !current.hold else { return [] }
            var chosen = [current]
            var seen: Set<Int64> = [current.id]
            if current.baseID != 0 {
                let others = try MessageRecord.fetchAll(
                    db,
                    sql: "SELECT * FROM message WHERE baseID = ? AND id != ? AND hold = 0 AND attempts = ? AND nextAttempt <= ? ORDER BY id",
                    arguments: [current.baseID, current.id, current.attempts, current.nextAttempt]
                ).map(\.value)
                for m in others where Self.sameWay(m, current) {
                    chosen.append(m)
                    seen.insert(m.id)
                }
            }
            if chosen.count < limit {
                let more = try MessageRecord.fetchAll(
                    db,
                    sql: "SELECT * FROM message WHERE recipientDomain = ? AND nextAttempt <= ? AND hold = 0 AND attempts = ? ORDER BY nextAttempt, id LIMIT ?",
                    arguments: [current.recipientDomain, now, current.attempts, limit * 2]
                ).map(\.value)
                for m in more where chosen.count < limit && !seen.contains(m.id) && Self.sameWay(m, current) {
                    chosen.append(m)
                    seen.insert(m.id)
                }
            }
            let backoff = Self.backoff(attempts: current.attempts)
            var groups: [[QueuedMessage]] = []
            var groupIndex: [Int64: Int] = [:]
            for var m in chosen {
                m.attempts += 1
                m.lastAttempt = now
                m.nextAttempt = now + backoff
                m.results.append(
                    QueueAttemptResult(start: Double(now), success: false, code: 0, secode: "", error: QueueAttemptResult.delivering)
                )
                try MessageRecord(m).update(db)
                if m.baseID != 0, let i = groupIndex[m.baseID] {
                    groups[i].append(m)
                } else {
                    if m.baseID != 0 { groupIndex[m.baseID] = groups.count }
                    groups.append([m])
                }
            }
            return groups
        }
    }

    static func sameWay(_ a: QueuedMessage, _ b: QueuedMessage) -> Bool {
        a.recipientDomain.lowercased() == b.recipientDomain.lowercased() && a.transport == b.transport
            && a.requireTLS == b.requireTLS && a.senderAccount == b.senderAccount
            && a.senderDomain.lowercased() == b.senderDomain.lowercased() && a.attempts == b.attempts
    }

    /// How an attempt ended for one message.
    public enum Completion: Sendable {
        /// Out of the queue, into the retired history (delivered, or failed for good).
        case retire(success: Bool)
        /// Stays for its next attempt.
        case retry
    }

    /// Records results of many messages in one commit: each result replaces the attempt's
    /// "delivering..."; retired messages (delivered, failed, dropped) go into the history for
    /// `keepSeconds(account)` when above 0, and their files are removed after the commit.
    /// Returns the ids retired.
    @discardableResult
    public func complete(
        _ items: [(id: Int64, result: QueueAttemptResult, completion: Completion)], now: Int64,
        keepSeconds: (String) -> Int64
    ) throws(QueueError) -> [Int64] {
        let removed: [Int64] = try self.write { db in
            try self.completeRows(
                items.map { CompletionItem(id: $0.id, result: $0.result, completion: $0.completion) }, now: now, db,
                keepSeconds: keepSeconds
            )
        }
        for id in removed { unlink(self.path(for: id)) }
        return removed
    }

    /// The rows of `complete`, in the caller's transaction; returns the retired ids.
    func completeRows(_ items: [CompletionItem], now: Int64, _ db: Database, keepSeconds: (String) -> Int64) throws -> [Int64] {
        var out: [Int64] = []
        for item in items {
            guard var m = try MessageRecord.fetchOne(db, key: item.id)?.value else { continue }
            Self.mark(&m, item.result)
            switch item.completion {
            case .retry:
                try MessageRecord(m).update(db)
            case .retire(let success):
                _ = try MessageRecord.deleteOne(db, key: item.id)
                let keep = keepSeconds(m.senderAccount)
                if keep > 0 {
                    try RetiredRecord(
                        RetiredMessage(message: m, lastActivity: now, success: success, keepUntil: now + keep)
                    ).save(db)
                }
                out.append(m.id)
            }
        }
        return out
    }

    static func mark(_ m: inout QueuedMessage, _ result: QueueAttemptResult) {
        if let last = m.results.last, last.error == QueueAttemptResult.delivering {
            var r = result
            r.start = last.start
            m.results[m.results.count - 1] = r
        } else {
            m.results.append(result)
        }
    }

    /// Retired messages past their keep time are removed.
    @discardableResult
    public func cleanRetired(now: Int64) throws(QueueError) -> Int {
        try self.write { db in
            try db.execute(sql: "DELETE FROM retired WHERE keepUntil < ?", arguments: [now])
            return db.changesCount
        }
    }

    // MARK: - Listing and changing (mox queue ...)

    public func message(_ id: Int64) throws(QueueError) -> QueuedMessage? {
        try self.read { db in try MessageRecord.fetchOne(db, key: id)?.value }
    }

    public func count() throws(QueueError) -> Int {
        try self.read { db in try MessageRecord.fetchCount(db) }
    }

    public func holdCount() throws(QueueError) -> Int {
        try self.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM message WHERE hold = 1") ?? 0 }
    }

    /// Messages matching the filter, by next attempt (or queue time), newest first unless `ascending`.
    public func list(_ filter: QueueFilter, now: Int64, sortByQueued: Bool = false, ascending: Bool = false) throws(QueueError) -> [QueuedMessage] {
        let column = sortByQueued ? "queued" : "nextAttempt"
        let order = ascending ? "ASC" : "DESC"
        let all = try self.read { db in
            try MessageRecord.fetchAll(db, sql: "SELECT * FROM message ORDER BY \(column) \(order), id \(order)").map(\.value)
        }
        var out = all.filter { filter.matches($0, now: now) }
        if filter.limit > 0 && out.count > filter.limit { out = Array(out.prefix(filter.limit)) }
        return out
    }

    /// Applies `change` to each matching message; returns how many changed.
    public func update(_ filter: QueueFilter, now: Int64, _ change: @Sendable (inout QueuedMessage) -> Void) throws(QueueError) -> Int {
        try self.write { db in
            var n = 0
            for var m in try MessageRecord.fetchAll(db).map(\.value) where filter.matches(m, now: now) {
                change(&m)
                let record = MessageRecord(m)
                try record.update(db)
                n += 1
            }
            return n
        }
    }

    public func retiredList(account: String = "", limit: Int = 0) throws(QueueError) -> [RetiredMessage] {
        try self.read { db in
            var sql = "SELECT * FROM retired"
            var arguments: StatementArguments = []
            if !account.isEmpty {
                sql += " WHERE senderAccount = ?"
                arguments = [account]
            }
            sql += " ORDER BY lastActivity DESC, id DESC"
            if limit > 0 { sql += " LIMIT \(limit)" }
            return try RetiredRecord.fetchAll(db, sql: sql, arguments: arguments).compactMap(\.value)
        }
    }

    public func retired(_ id: Int64) throws(QueueError) -> RetiredMessage? {
        try self.read { db in try RetiredRecord.fetchOne(db, key: id)?.value }
    }

    /// The retired message sent with this fromid, for matching an incoming DSN.
    public func retired(fromID: String) throws(QueueError) -> RetiredMessage? {
        try self.read { db in
            try RetiredRecord.fetchOne(db, sql: "SELECT * FROM retired WHERE fromID = ? LIMIT 1", arguments: [fromID])?.value
        }
    }

    /// The last retired results for a recipient address, newest first.
    public func retiredResults(recipient: String, excluding id: Int64, limit: Int) throws(QueueError) -> [Bool] {
        try self.read { db in
            try Bool.fetchAll(
                db, sql: "SELECT success FROM retired WHERE recipientAddress = ? AND id != ? ORDER BY lastActivity DESC LIMIT ?",
                arguments: [recipient.lowercased(), id, limit]
            )
        }
    }

    // MARK: - Hold rules

    public func holdRules() throws(QueueError) -> [HoldRule] {
        try self.read { db in try HoldRuleRecord.fetchAll(db, sql: "SELECT * FROM holdrule ORDER BY id").map(\.value) }
    }

    /// Adds the rule and puts the messages it matches on hold; returns the rule and how many.
    public func addHoldRule(_ rule: HoldRule) throws(QueueError) -> (HoldRule, Int) {
        try self.write { db in
            var record = HoldRuleRecord(id: nil, account: rule.account, senderDomain: rule.senderDomain, recipientDomain: rule.recipientDomain)
            try record.insert(db)
            var n = 0
            for var m in try MessageRecord.fetchAll(db, sql: "SELECT * FROM message WHERE hold = 0").map(\.value) where rule.matches(m) {
                m.hold = true
                let r = MessageRecord(m)
                try r.update(db)
                n += 1
            }
            return (record.value, n)
        }
    }

    /// Removes a rule; messages on hold stay on hold.
    public func removeHoldRule(_ id: Int64) throws(QueueError) -> Bool {
        try self.write { db in try HoldRuleRecord.deleteOne(db, key: id) }
    }

    // MARK: - Suppression lists

    public func suppressions(account: String) throws(QueueError) -> [Suppression] {
        try self.read { db in
            if account.isEmpty {
                return try SuppressionRecord.fetchAll(db, sql: "SELECT * FROM suppression ORDER BY account, id").map(\.value)
            }
            return try SuppressionRecord.fetchAll(db, sql: "SELECT * FROM suppression WHERE account = ? ORDER BY id", arguments: [account]).map(\.value)
        }
    }

    /// mox's base address: the localpart up to its first "+" and then its first "-", dots
    /// removed, lower-cased; the domain lower-cased.
    public static func baseAddress(localpart: String, domain: String) -> String {
        var local = Substring(localpart)
        if let i = local.firstIndex(of: "+") { local = local[..<i] }
        if let i = local.firstIndex(of: "-") { local = local[..<i] }
        return local.replacingOccurrences(of: ".", with: "").lowercased() + "@" + domain.lowercased()
    }

    static func split(_ address: String) -> (String, String)? {
        guard let at = address.lastIndex(of: "@"), at != address.startIndex else { return nil }
        return (String(address[..<at]), String(address[address.index(after: at)...]))
    }

    public func suppression(account: String, address: String) throws(QueueError) -> Suppression? {
        guard let (local, domain) = Self.split(address) else { throw QueueError(.invalid, "invalid address \(address)") }
        let base = Self.baseAddress(localpart: local, domain: domain)
        return try self.read { db in
            try SuppressionRecord.fetchOne(
                db, sql: "SELECT * FROM suppression WHERE account = ? AND baseAddress = ?", arguments: [account, base]
            )?.value
        }
    }

    /// Adds an entry; false when the address was already on the list.
    @discardableResult
    public func addSuppression(account: String, address: String, manual: Bool, reason: String, now: Int64) throws(QueueError) -> Bool {
        guard let (local, domain) = Self.split(address) else { throw QueueError(.invalid, "invalid address \(address)") }
        let base = Self.baseAddress(localpart: local, domain: domain)
        return try self.write { db in
            if try SuppressionRecord.fetchOne(db, sql: "SELECT * FROM suppression WHERE account = ? AND baseAddress = ?", arguments: [account, base]) != nil {
                return false
            }
            var record = SuppressionRecord(id: nil, created: now, account: account, baseAddress: base, originalAddress: address, manual: manual, reason: reason)
            try record.insert(db)
            return true
        }
    }

    public func removeSuppression(account: String, address: String) throws(QueueError) -> Bool {
        guard let (local, domain) = Self.split(address) else { throw QueueError(.invalid, "invalid address \(address)") }
        let base = Self.baseAddress(localpart: local, domain: domain)
        return try self.write { db in
            try db.execute(sql: "DELETE FROM suppression WHERE account = ? AND baseAddress = ?", arguments: [account, base])
            return db.changesCount > 0
        }
    }

    /// RFC 3463 codes that say the address itself is bad (or the sender is blocked), as mox
    /// decides: then the recipient goes on the sender's suppression list at once.
    public static func isImmediateBlock(code: Int, secode: String) -> Bool {
        if [521, 550, 551, 553, 556].contains(code) { return true }
        return code / 100 == 5 && ["1.1", "1.2", "1.3", "1.6", "2.1", "7.1"].contains(secode)
    }

    /// After a permanent failure for `m`'s recipient (from the queue, or an incoming DSN with
    /// `source` "DSN"): the recipient goes on the sender account's suppression list when the
    /// code says the address is bad, or when the two retired attempts before to the same address
    /// failed too (three in a row). Returns the reason when an entry was added.
    public func suppressAfterFailure(_ m: QueuedMessage, code: Int, secode: String, source: String, now: Int64) throws(QueueError) -> String? {
        var reason: String?
        if Self.isImmediateBlock(code: code, secode: secode) {
            reason = "delivery failure from \(source) with smtp code \(code), enhanced code \"\(secode)\""
        } else {
            let previous = try self.retiredResults(recipient: m.recipient, excluding: m.id, limit: 2)
            if previous.count == 2, !previous.contains(true) {
                reason = "delivery failure from \(source) and three consecutive failures"
            }
        }
        guard let reason else { return nil }
        return try self.addSuppression(account: m.senderAccount, address: m.recipient, manual: false, reason: reason, now: now) ? reason : nil
    }

    // MARK: -

    func read<T>(_ body: (Database) throws -> T) throws(QueueError) -> T {
        do {
            return try self.database.read(body)
        } catch let error as QueueError {
            throw error
        } catch {
            throw QueueError(.database, "queue database: \(error)")
        }
    }

    func write<T>(_ body: (Database) throws -> T) throws(QueueError) -> T {
        do {
            return try self.database.write(body)
        } catch let error as QueueError {
            throw error
        } catch {
            throw QueueError(.database, "queue database: \(error)")
        }
    }
}
