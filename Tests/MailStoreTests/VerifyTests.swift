import GRDB
import Glibc
import Testing

@testable import MailStore

/// `DataVerifier` on a healthy account, then on one damaged in each way it must report.
@Suite struct VerifyTests {
    /// An account with messages in two mailboxes, one expunged, one moved; closed again.
    func populated(_ dir: TemporaryDirectory) async throws -> [Delivered] {
        let account = try await makeAccount(dir)
        let box = try await inbox(account)
        let archive = try #require(try await account.mailbox(named: "Archive")).id
        var delivered: [Delivered] = []
        for n in 0..<10 {
            delivered.append(
                try await account.deliver(
                    sampleMessage(n),
                    to: n < 7 ? box : archive,
                    received: 0,
                    searchText: "m \(n)"
                )
            )
        }
        _ = try await account.setFlags(in: box, uids: [delivered[1].uid], .add(.seen))
        _ = try await account.expunge(in: box, uids: [delivered[2].uid])
        await account.close()
        return delivered
    }

    /// Changes the database directly, as a bug or a bad restore could.
    func damageDatabase(_ dir: TemporaryDirectory, _ sql: String) throws {
        let queue = try DatabaseQueue(path: dir.path + "/accounts/test/index.db")
        try queue.write { try $0.execute(sql: sql) }
        try queue.close()
    }

    func messagePath(_ dir: TemporaryDirectory, _ id: MessageID) -> String {
        AccountLayout(dataDir: dir.path, name: "test").messagePath(id)
    }

    @Test func healthyAccountHasNoProblems() async throws {
        let dir = try TemporaryDirectory()
        _ = try await self.populated(dir)
        let report = DataVerifier.verify(dataDir: dir.path)
        #expect(report.problems == [])
        #expect(report.accounts == 1)
        #expect(report.messages == 9)
        #expect(report.files == 9)
    }

    @Test func safeWhileAccountIsOpen() async throws {
        let dir = try TemporaryDirectory()
        _ = try await self.populated(dir)
        let account = try await makeAccount(dir)
        let box = try await inbox(account)
        // Deliveries and verification at the same time: nothing in flight may be reported.
        async let deliveries: Void = {
            for n in 0..<50 {
                _ = try await account.deliver(sampleMessage(n), to: box, received: 0)
            }
        }()
        for _ in 0..<5 {
            let report = DataVerifier.verify(dataDir: dir.path)
            #expect(report.problems == [])
        }
        try await deliveries
        #expect(DataVerifier.verify(dataDir: dir.path).problems == [])
        // The account still works, and was not locked out or changed by the verifier.
        _ = try await account.deliver(sampleMessage(99), to: box, received: 0)
        await account.close()
    }

    @Test func leftoversOfAnOpenAccountAreReportedOnceOld() async throws {
        let dir = try TemporaryDirectory()
        _ = try await self.populated(dir)
        let lockPath = dir.path + "/accounts/test/lock"
        #expect(!DataVerifier.inUse(lockPath: lockPath))
        let account = try await makeAccount(dir)
        #expect(DataVerifier.inUse(lockPath: lockPath))
        let fresh = dir.path + "/accounts/test/tmp/fresh.tmp"
        let old = dir.path + "/accounts/test/tmp/old.tmp"
        try FileIO.writeSynced(fresh, [1])
        try FileIO.writeSynced(old, [1])
        var times = [
            timeval(tv_sec: time(nil) - 3600, tv_usec: 0), timeval(tv_sec: time(nil) - 3600, tv_usec: 0),
        ]
        #expect(utimes(old, &times) == 0)
        // The fresh file may be a delivery in progress; the hour-old one is a leftover.
        let problems = DataVerifier.verify(dataDir: dir.path).problems
        #expect(problems.map(\.path) == [old])
        await account.close()
        #expect(!DataVerifier.inUse(lockPath: lockPath))
        // Nobody has the account open: both are leftovers.
        #expect(DataVerifier.verify(dataDir: dir.path).problems.count == 2)
    }

    struct Damage: Sendable, CustomTestStringConvertible {
        var name: String
        var kind: VerifyProblem.Kind
        var damage: @Sendable (VerifyTests, TemporaryDirectory, [Delivered]) throws -> Void
        var testDescription: String { self.name }
    }

    static let damages: [Damage] = [
        Damage(name: "missing file", kind: .missingFile) { t, dir, d in
            unlink(t.messagePath(dir, d[0].id))
        },
        Damage(name: "truncated file", kind: .sizeMismatch) { t, dir, d in
            truncate(t.messagePath(dir, d[3].id), 5)
        },
        Damage(name: "orphan file", kind: .orphanFile) { t, dir, d in
            try FileIO.writeSynced(t.messagePath(dir, MessageID(500)), [1, 2, 3])
        },
        Damage(name: "expunged message's file left", kind: .orphanFile) { t, dir, d in
            try FileIO.writeSynced(t.messagePath(dir, d[2].id), sampleMessage(2))
        },
        Damage(name: "temporary file", kind: .tempFile) { _, dir, _ in
            try FileIO.writeSynced(dir.path + "/accounts/test/tmp/x.tmp", [1])
        },
        Damage(name: "uid at uidnext", kind: .uid) { t, dir, d in
            try t.damageDatabase(dir, "UPDATE message SET uid = 1000 WHERE id = \(d[4].id.rawValue)")
        },
        Damage(name: "counts", kind: .counts) { t, dir, _ in
            try t.damageDatabase(dir, "UPDATE mailbox SET unseen = unseen + 1 WHERE name = 'Inbox'")
        },
        Damage(name: "modseq above highest", kind: .modSeq) { t, dir, d in
            try t.damageDatabase(dir, "UPDATE message SET modSeq = 1000000 WHERE id = \(d[5].id.rawValue)")
        },
        Damage(name: "not in full-text index", kind: .fullText) { t, dir, d in
            try t.damageDatabase(dir, "DELETE FROM messageText WHERE rowid = \(d[6].id.rawValue)")
            try t.damageDatabase(dir, "DELETE FROM messageTextPending WHERE rowid = \(d[6].id.rawValue)")
        },
        Damage(name: "expunged message still indexed", kind: .fullText) { t, dir, d in
            try t.damageDatabase(dir, "INSERT INTO messageText (rowid, text) VALUES (\(d[2].id.rawValue), 'x')")
        },
    ]

    @Test(arguments: Self.damages)
    func reportsDamage(_ damage: Damage) async throws {
        let dir = try TemporaryDirectory()
        let delivered = try await self.populated(dir)
        try damage.damage(self, dir, delivered)
        let report = DataVerifier.verify(dataDir: dir.path)
        #expect(report.problems.count == 1, "\(report.problems)")
        let problem = try #require(report.problems.first)
        #expect(problem.kind == damage.kind)
        #expect(problem.account == "test")
        #expect(!problem.description.isEmpty)
    }

    @Test func problemNamesWhatItConcerns() async throws {
        let dir = try TemporaryDirectory()
        let delivered = try await self.populated(dir)
        let path = self.messagePath(dir, delivered[0].id)
        unlink(path)
        let problem = try #require(DataVerifier.verify(dataDir: dir.path).problems.first)
        #expect(problem.mailbox == "Inbox")
        #expect(problem.messageID == delivered[0].id)
        #expect(problem.uid == delivered[0].uid)
        #expect(problem.path == path)
        #expect(problem.description.contains("mailbox Inbox: message \(delivered[0].id.rawValue) (uid "))
    }
}
