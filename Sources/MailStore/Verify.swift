import GRDB

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One disagreement between an account's database and its files, with everything it concerns.
public struct VerifyProblem: Hashable, Sendable, CustomStringConvertible {
    public enum Kind: String, Hashable, Sendable {
        /// The database could not be opened or read.
        case database
        /// A live message has no file.
        case missingFile
        /// A live message's file has another size than its row records.
        case sizeMismatch
        /// A file under `msg/` that no live row refers to.
        case orphanFile
        /// A file left in `tmp/`.
        case tempFile
        /// Two messages in one mailbox share a UID, or a UID is not below the mailbox's UIDNEXT.
        case uid
        /// A mailbox's stored counts differ from what its messages add up to.
        case counts
        /// A MODSEQ above the account's highest, or a message changed before it was created.
        case modSeq
        /// The full-text index disagrees with the messages.
        case fullText
        /// A message row refers to a mailbox that does not exist.
        case mailbox
    }

    public var kind: Kind
    public var account: String
    public var mailbox: String?
    public var messageID: MessageID?
    public var uid: UID?
    public var path: String?
    public var detail: String

    public var description: String {
        var parts = ["account \(self.account)"]
        if let mailbox = self.mailbox { parts.append("mailbox \(mailbox)") }
        if let id = self.messageID {
            parts.append(self.uid.map { "message \(id.rawValue) (uid \($0))" } ?? "message \(id.rawValue)")
        }
        if let path = self.path { parts.append(path) }
        return parts.joined(separator: ": ") + ": " + self.detail
    }
}

/// What `verifyData` found: counts for the summary and every problem.
public struct VerifyReport: Sendable {
    public var accounts = 0
    public var mailboxes = 0
    public var messages = 0
    public var files = 0
    public var bytes: Int64 = 0
    public var problems: [VerifyProblem] = []

    public init() {}
}

/// Checks that the databases and message files under a data directory agree (`mox verifydata`).
///
/// Every account's database is opened read-only and without the account's lock, so it is safe while
/// the server or another command has the store open: nothing is changed. Because a delivery or an
/// expunge in another process can be between its file operation and its commit, a message or file
/// that looks wrong in the first pass is looked at again against a fresh read before it is reported,
/// and while the account is open (its lock held) files in `tmp/` and files without a row that are
/// younger than ``inFlightSeconds`` are taken to be in progress and not reported.
public enum DataVerifier {
    /// Called after each message file checked, with (checked so far, total of this account).
    public typealias Progress = (_ account: String, _ done: Int, _ total: Int) -> Void

    /// Verifies every account under `dataDir/accounts`.
    public static func verify(dataDir: String, progress: Progress = { _, _, _ in }) -> VerifyReport {
        var report = VerifyReport()
        let accountsDir = dataDir + "/accounts"
        for name in FileIO.list(accountsDir).sorted() {
            let layout = AccountLayout(dataDir: dataDir, name: name)
            guard FileIO.exists(layout.databasePath) else { continue }
            report.accounts += 1
            self.verifyAccount(name: name, layout: layout, into: &report, progress: progress)
        }
        return report
    }

    /// Verifies one account (named as under `dataDir/accounts`).
    public static func verify(
        dataDir: String,
        account: String,
        progress: Progress = { _, _, _ in }
    ) -> VerifyReport {
        var report = VerifyReport()
        report.accounts = 1
        self.verifyAccount(
            name: account,
            layout: AccountLayout(dataDir: dataDir, name: account),
            into: &report,
            progress: progress
        )
        return report
    }

    // MARK: - One account

    private struct MessageRow {
        var id: Int64
        var mailboxID: Int64
        var uid: Int64
        var modSeq: Int64
        var createSeq: Int64
        var flags: Int64
        var size: Int64
        var expunged: Bool
        /// Length of the header lines kept in the row in front of the file (see `MessageRecord.prefix`).
        var prefixLength: Int64
    }

    private struct Snapshot {
        var highestModSeq: Int64 = 0
        var mailboxes: [MailboxRecord] = []
        var messages: [MessageRow] = []
        var textRowIDs: Set<Int64> = []
    }

    private static func openReadOnly(_ path: String) throws -> DatabaseQueue {
        var config = Configuration()
        config.readonly = true
        config.busyMode = .timeout(30)
        return try DatabaseQueue(path: path, configuration: config)
    }

    private static func readSnapshot(_ queue: DatabaseQueue) throws -> Snapshot {
        try queue.read { db in
            var snapshot = Snapshot()
            snapshot.highestModSeq =
                try Int64.fetchOne(db, sql: "SELECT highestModSeq FROM syncState WHERE id = 1") ?? 0
            snapshot.mailboxes = try MailboxRecord.fetchAll(db)
            let rows = try Row.fetchCursor(
                db,
                sql: "SELECT id, mailboxID, uid, modSeq, createSeq, flags, size, expunged, COALESCE(length(prefix), 0) FROM message ORDER BY id"
            )
            while let row = try rows.next() {
                snapshot.messages.append(
                    MessageRow(
                        id: row[0],
                        mailboxID: row[1],
                        uid: row[2],
                        modSeq: row[3],
                        createSeq: row[4],
                        flags: row[5],
                        size: row[6],
                        expunged: row[7],
                        prefixLength: row[8]
                    )
                )
            }
            // Indexed, or waiting for the indexer: either way the message's text is there.
            snapshot.textRowIDs = Set(
                try Int64.fetchAll(
                    db,
                    sql: "SELECT rowid FROM messageText UNION ALL SELECT rowid FROM messageTextPending"
                )
            )
            return snapshot
        }
    }

    /// Ids of the messages that are live now, in a new read transaction.
    private static func liveIDs(_ queue: DatabaseQueue) throws -> Set<Int64> {
        try queue.read { db in Set(try Int64.fetchAll(db, sql: "SELECT id FROM message WHERE expunged = 0")) }
    }

    /// Whether some process holds the account's lock, i.e. has the account open (Linux: the flock
    /// table in /proc/locks, so nothing is locked to find out). Elsewhere assumed open.
    static func inUse(lockPath: String) -> Bool {
        var info = stat()
        guard stat(lockPath, &info) == 0 else { return false }
        #if os(Linux)
        guard let data = try? FileIO.readAll("/proc/locks") else { return true }
        let inode = String(info.st_ino)
        for line in String(decoding: data, as: UTF8.self).split(separator: "\n") {
            // "1: FLOCK  ADVISORY  READ 1234 fd:01:5678 0 EOF": the device and inode of the file.
            let fields = line.split(separator: " ")
            guard fields.count > 5, fields[1] == "FLOCK" else { continue }
            if fields[5].split(separator: ":").last.map(String.init) == inode {
                return true
            }
        }
        return false
        #else
        return true
        #endif
    }

    /// Seconds since the file was last modified, nil when it is gone.
    private static func age(_ path: String) -> Int? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        return time(nil) - info.st_mtim.tv_sec
    }

    /// While the account is open, a file younger than this in `tmp/`, or under `msg/` without a row,
    /// is taken to belong to a delivery in progress.
    static let inFlightSeconds = 60

    private static func fileSize(_ path: String) -> Int64? {
        var info = stat()
        guard stat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else { return nil }
        return Int64(info.st_size)
    }

    private static func verifyAccount(
        name: String,
        layout: AccountLayout,
        into report: inout VerifyReport,
        progress: Progress
    ) {
        func problem(
            _ kind: VerifyProblem.Kind,
            mailbox: String? = nil,
            id: Int64? = nil,
            uid: Int64? = nil,
            path: String? = nil,
            _ detail: String
        ) {
            report.problems.append(
                VerifyProblem(
                    kind: kind,
                    account: name,
                    mailbox: mailbox,
                    messageID: id.map(MessageID.init),
                    uid: uid.map { UID(UInt32(truncatingIfNeeded: $0)) },
                    path: path,
                    detail: detail
                )
            )
        }

        // Files are listed before the database is read: a file that appears later belongs to a
        // delivery that is not in this snapshot either, and is not looked at.
        let tempFiles = FileIO.list(layout.tempDir).sorted()
        var filesOnDisk: [(bucket: String, name: String)] = []
        for bucket in FileIO.list(layout.messageRoot).sorted() {
            for file in FileIO.list(layout.messageRoot + "/" + bucket) {
                filesOnDisk.append((bucket, file))
            }
        }

        let queue: DatabaseQueue
        let snapshot: Snapshot
        do {
            queue = try self.openReadOnly(layout.databasePath)
            snapshot = try self.readSnapshot(queue)
        } catch {
            problem(.database, path: layout.databasePath, "reading database: \(error)")
            return
        }
        defer { try? queue.close() }

        var mailboxNames: [Int64: String] = [:]
        for mailbox in snapshot.mailboxes {
            mailboxNames[mailbox.id ?? 0] = mailbox.name
        }
        report.mailboxes += snapshot.mailboxes.count

        // Per-message checks that need no file.
        var counts: [Int64: MailboxCounts] = [:]
        var seenUIDs: [Int64: [Int64: Int64]] = [:]  // mailbox -> uid -> message id
        let uidNext = Dictionary(uniqueKeysWithValues: snapshot.mailboxes.map { ($0.id ?? 0, $0.uidNext) })
        for message in snapshot.messages {
            let mailboxName = mailboxNames[message.mailboxID]
            if mailboxName == nil {
                problem(
                    .mailbox,
                    id: message.id,
                    uid: message.uid,
                    "refers to mailbox id \(message.mailboxID), which does not exist"
                )
            }
            if let other = seenUIDs[message.mailboxID]?[message.uid] {
                problem(
                    .uid,
                    mailbox: mailboxName,
                    id: message.id,
                    uid: message.uid,
                    "uid also used by message \(other)"
                )
            } else {
                seenUIDs[message.mailboxID, default: [:]][message.uid] = message.id
            }
            if message.uid <= 0 || message.uid > Int64(UInt32.max) {
                problem(.uid, mailbox: mailboxName, id: message.id, uid: message.uid, "uid out of range")
            }
            if let next = uidNext[message.mailboxID], message.uid >= next {
                problem(
                    .uid,
                    mailbox: mailboxName,
                    id: message.id,
                    uid: message.uid,
                    "uid not below the mailbox's uidnext \(next)"
                )
            }
            if message.modSeq > snapshot.highestModSeq {
                problem(
                    .modSeq,
                    mailbox: mailboxName,
                    id: message.id,
                    uid: message.uid,
                    "modseq \(message.modSeq) above the account's highest modseq \(snapshot.highestModSeq)"
                )
            }
            if message.createSeq <= 0 || message.createSeq > message.modSeq {
                problem(
                    .modSeq,
                    mailbox: mailboxName,
                    id: message.id,
                    uid: message.uid,
                    "createseq \(message.createSeq) not between 1 and its modseq \(message.modSeq)"
                )
            }
            let hasText = snapshot.textRowIDs.contains(message.id)
            if message.expunged {
                if hasText {
                    problem(
                        .fullText,
                        mailbox: mailboxName,
                        id: message.id,
                        uid: message.uid,
                        "expunged message still in the full-text index"
                    )
                }
            } else {
                counts[message.mailboxID, default: MailboxCounts()]
                    .add(.of(flags: MessageFlags(rawValue: message.flags), size: message.size))
                if !hasText {
                    problem(
                        .fullText,
                        mailbox: mailboxName,
                        id: message.id,
                        uid: message.uid,
                        "missing from the full-text index"
                    )
                }
            }
        }
        let messageIDs = Set(snapshot.messages.map(\.id))
        for rowID in snapshot.textRowIDs.subtracting(messageIDs).sorted() {
            problem(.fullText, id: rowID, "full-text index row without a message")
        }

        for mailbox in snapshot.mailboxes {
            let id = mailbox.id ?? 0
            let expected = counts[id] ?? MailboxCounts()
            if expected != mailbox.counts {
                problem(
                    .counts,
                    mailbox: mailbox.name,
                    "stored counts \(self.describe(mailbox.counts)), messages add up to \(self.describe(expected))"
                )
            }
            if mailbox.modSeq > snapshot.highestModSeq || mailbox.createSeq > snapshot.highestModSeq {
                problem(
                    .modSeq,
                    mailbox: mailbox.name,
                    "mailbox modseq \(mailbox.modSeq)/createseq \(mailbox.createSeq) above the account's "
                        + "highest modseq \(snapshot.highestModSeq)"
                )
            }
            if mailbox.uidNext <= 0 {
                problem(.uid, mailbox: mailbox.name, "uidnext \(mailbox.uidNext) not positive")
            }
        }

        // Message files.
        let live = snapshot.messages.filter { !$0.expunged }
        var recheck: Set<Int64>?
        func stillLive(_ id: Int64) -> Bool {
            if recheck == nil { recheck = (try? self.liveIDs(queue)) ?? [] }
            return recheck?.contains(id) ?? true
        }
        var done = 0
        for message in live {
            let path = layout.messagePath(MessageID(message.id))
            let mailboxName = mailboxNames[message.mailboxID]
            if let size = self.fileSize(path) {
                report.files += 1
                report.bytes += size
                if size + message.prefixLength != message.size {
                    problem(
                        .sizeMismatch,
                        mailbox: mailboxName,
                        id: message.id,
                        uid: message.uid,
                        path: path,
                        message.prefixLength == 0
                            ? "file has \(size) bytes, database says \(message.size)"
                            : "file has \(size) bytes and \(message.prefixLength) more are kept in the database, which says \(message.size)"
                    )
                }
            } else if stillLive(message.id) {
                problem(
                    .missingFile,
                    mailbox: mailboxName,
                    id: message.id,
                    uid: message.uid,
                    path: path,
                    "message file missing"
                )
            }
            done += 1
            report.messages += 1
            if done % 1000 == 0 || done == live.count {
                progress(name, done, live.count)
            }
        }

        // Files without a live row: a crash between a delivery's write and its commit, or an expunge's files not yet removed.
        let liveIDs = Set(live.map(\.id))
        var orphans: [(path: String, id: Int64?)] = []
        for (bucket, file) in filesOnDisk {
            let path = layout.messageRoot + "/" + bucket + "/" + file
            if let id = Int64(file), id > 0, AccountLayout.bucketName(MessageID(id)) == bucket {
                if liveIDs.contains(id) { continue }
                orphans.append((path, id))
            } else {
                orphans.append((path, nil))
            }
        }
        let open = self.inUse(lockPath: layout.lockPath)
        /// Whether a leftover-looking file may belong to an operation still in progress.
        func inFlight(_ path: String) -> Bool {
            guard let age = self.age(path) else { return true }  // gone: it was in flight
            return open && age < self.inFlightSeconds
        }
        if !orphans.isEmpty {
            recheck = nil
            for orphan in orphans {
                // A delivery may have committed since the snapshot; a removal may have happened.
                if let id = orphan.id, stillLive(id) { continue }
                if inFlight(orphan.path) { continue }
                problem(.orphanFile, id: orphan.id, path: orphan.path, "file without a message in the database")
            }
        }
        for file in tempFiles {
            let path = layout.tempDir + "/" + file
            if inFlight(path) { continue }
            problem(
                .tempFile,
                path: path,
                "leftover temporary file (removed when the account is next opened with nobody else using it)"
            )
        }
    }

    private static func describe(_ counts: MailboxCounts) -> String {
        "total \(counts.total) deleted \(counts.deleted) unread \(counts.unread) unseen \(counts.unseen) "
            + "size \(counts.size)"
    }
}
