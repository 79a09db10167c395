import GRDB
import Glibc
import Testing

@testable import MailStore

@Suite struct AccountTests {
    @Test func newAccountHasInitialMailboxes() async throws {
        let dir = try TemporaryDirectory()
        let account = try await makeAccount(dir)
        let names = try await account.mailboxes().map(\.name)
        #expect(names == ["Archive", "Drafts", "Inbox", "Junk", "Sent", "Trash"])
        let sent = try #require(try await account.mailbox(named: "Sent"))
        #expect(sent.specialUse == .sent)
        #expect(try await account.subscriptions().count == 6)
        // Every mailbox gets its own UIDVALIDITY.
        #expect(Set(try await account.mailboxes().map(\.uidValidity)).count == 6)
    }

    @Test func deliverWritesFileAndRow() async throws {
        let dir = try TemporaryDirectory()
        let account = try await makeAccount(dir)
        let box = try await inbox(account)
        let bytes = sampleMessage(1, size: 3000)
        let metadata = DeliveryMetadata(
            remoteIP: "192.0.2.1",
            ehloDomain: "mx.example.org",
            mailFrom: "a@example.org",
            authResults: "spf=pass"
        )
        let delivered = try await account.deliver(
            bytes,
            to: box,
            flags: [.seen],
            keywords: ["Work", "$Label1"],
            received: 1_700_000_000,
            metadata: metadata
        )
        #expect(delivered.uid == UID(1))

        // The file is where the documented layout says, with the exact bytes.
        let path = dir.path + "/accounts/test/msg/0000/\(delivered.id.rawValue)"
        #expect(try FileIO.readAll(path) == bytes)
        #expect(try await account.messageBytes(delivered.id) == bytes)
        #expect(FileIO.list(dir.path + "/accounts/test/tmp").isEmpty)
        // Once deliver returns, the row is committed: another connection (as another process would) sees it.
        let other = try await makeAccount(dir)
        #expect(try await other.messageBytes(delivered.id) == bytes)
        await other.close()

        let message = try await account.message(delivered.id)
        #expect(message.flags == [.seen])
        #expect(message.keywords == ["$label1", "work"])
        // Well-known keywords are kept as flag bits, in any case.
        let junk = try await account.deliver(
            bytes,
            to: box,
            keywords: ["$Junk", "$MDNSent", "\\Seen", "Custom"],
            received: 0
        )
        let junkMessage = try await account.message(junk.id)
        #expect(junkMessage.flags == [.junk, .mdnSent])
        #expect(junkMessage.keywords == ["custom"])
        try await account.setFlags(in: box, uids: [junk.uid], .remove([], keywords: ["$JUNK"]))
        #expect(try await account.message(junk.id).flags == [.mdnSent])
        #expect(message.received == 1_700_000_000)
        #expect(message.size == Int64(bytes.count))
        #expect(message.metadata == metadata)
    }

    @Test(
        arguments: [
            (0, "0000"), (1, "0000"), (4095, "0000"), (4096, "0001"), (8191, "0001"), (1_048_576, "0100"),
            (4096 * 65536, "10000"),
        ] as [(Int64, String)]
    )
    func messagePathScheme(id: Int64, bucket: String) {
        let layout = AccountLayout(dataDir: "/d", name: "a")
        #expect(layout.messagePath(MessageID(id)) == "/d/accounts/a/msg/\(bucket)/\(id)")
        // The relative form FETCH opens with openat(2) names the same file.
        let relative = AccountLayout.withRelativeMessagePath(MessageID(id)) { String(cString: $0) }
        #expect(relative == "\(bucket)/\(id)")
    }

    /// Message files read by FETCH (openat under msg/, with the stored size as a hint) come back
    /// whole whether the hint is right, too small, too large or missing.
    @Test(arguments: [0, 1, 4095, 4096, 4097, 70_000])
    func messageFilesReadWhole(size: Int) throws {
        let dir = try TemporaryDirectory()
        let layout = AccountLayout(dataDir: dir.path, name: "a")
        let id = MessageID(4097)
        try FileIO.makeDirectories(layout.bucketDir(id))
        let bytes = (0..<size).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        try FileIO.writeSynced(layout.messagePath(id), bytes)
        let root = FileIO.openDirectory(layout.messageRoot)
        defer { FileIO.closeDirectory(root) }
        #expect(root >= 0)
        for hint in [0, size, max(0, size - 1), size + 1, size * 2] {
            #expect(try FileIO.readMessage(id, in: root, sizeHint: hint) == bytes, "hint \(hint)")
        }
        #expect(throws: FileIO.Failure.self) { try FileIO.readMessage(MessageID(5), in: root, sizeHint: 0) }
    }

    @Test func uidsIncreaseAndAreNeverReused() async throws {
        let dir = try TemporaryDirectory()
        let account = try await makeAccount(dir)
        let box = try await inbox(account)
        var uids: [UID] = []
        for n in 0..<3 {
            uids.append(try await account.deliver(sampleMessage(n), to: box, received: 0).uid)
        }
        #expect(uids == [UID(1), UID(2), UID(3)])
        try await account.expunge(in: box, uids: [UID(3)])
        let next = try await account.deliver(sampleMessage(4), to: box, received: 0)
        #expect(next.uid == UID(4))
        #expect(try await account.mailbox(box).uidNext == UID(5))

        // Moving away and back also gives new UIDs.
        let archive = try #require(try await account.mailbox(named: "Archive")).id
        let moved = try await account.move(from: box, uids: [UID(1)], to: archive)
        #expect(moved.map(\.1) == [UID(1)])
        let back = try await account.move(from: archive, uids: [UID(1)], to: box)
        #expect(back.map(\.1) == [UID(5)])
        #expect(try await account.messageFlags(in: box).map(\.uid) == [UID(2), UID(4), UID(5)])
    }

    @Test func uidValidityIsStableAcrossReopenAndNewAfterRecreate() async throws {
        let dir = try TemporaryDirectory()
        var validity: UInt32 = 0
        do {
            let account = try await makeAccount(dir)
            let box = try await account.createMailbox("Lists/Swift")
            validity = box.uidValidity
            _ = try await account.deliver(sampleMessage(1), to: box.id, received: 0)
            await account.close()
        }
        let reopened = try await makeAccount(dir)
        let box = try #require(try await reopened.mailbox(named: "Lists/Swift"))
        #expect(box.uidValidity == validity)
        #expect(box.counts.total == 1)
        try await reopened.deleteMailbox(box.id)
        let again = try await reopened.createMailbox("Lists/Swift")
        #expect(again.uidValidity != validity)
        #expect(again.uidNext == UID(1))
    }

    @Test func modSeqIsMonotonic() async throws {
        let dir = try TemporaryDirectory()
        let account = try await makeAccount(dir)
        let box = try await inbox(account)
        var last = try await account.highestModSeq()
        func check(_ step: String) async throws {
            let now = try await account.highestModSeq()
            #expect(now > last, "\(step)")
            last = now
        }
        let a = try await account.deliver(sampleMessage(1), to: box, received: 0)
        #expect(a.modSeq > last)
        try await check("deliver")
        let b = try await account.deliver(sampleMessage(2), to: box, received: 0)
        #expect(b.modSeq > a.modSeq)
        try await check("deliver")
        let changed = try await account.setFlags(in: box, uids: [a.uid], .add([.flagged]))
        #expect(try #require(changed.first).modSeq > b.modSeq)
        try await check("flags")
        // A change that changes nothing does not raise MODSEQ.
        try await account.setFlags(in: box, uids: [a.uid], .add([.flagged]))
        #expect(try await account.highestModSeq() == last)
        try await account.expunge(in: box, uids: [b.uid])
        try await check("expunge")
        try await account.createMailbox("Other")
        try await check("create")

        // CONDSTORE: changes since a MODSEQ list flag changes and expunges (RFC 7162).
        let since = try await account.changes(in: box, since: b.modSeq)
        #expect(since.changed.map(\.uid) == [a.uid])
        #expect(since.vanished == [b.uid])
    }

    /// storeFlags against a model of what each change must do: the changes made inside SQLite
    /// (flags only, replacements) and those written row by row (keyword additions and removals)
    /// give the same flags, keywords, MODSEQs and counts, and UNCHANGEDSINCE leaves newer
    /// messages alone.
    @Test func storeFlagsMatchesModel() async throws {
        let dir = try TemporaryDirectory()
        let account = try await makeAccount(dir)
        let box = try await inbox(account)
        struct Model: Equatable {
            var flags: MessageFlags
            var keywords: [String]
            var modSeq: ModSeq
        }
        var model: [UID: Model] = [:]
        let starts: [(MessageFlags, [String])] = [([], []), ([.seen], ["work"]), ([.flagged], []), ([.seen, .deleted], ["a", "b"])]
        for n in 0..<8 {
            let (flags, keywords) = starts[n % starts.count]
            let d = try await account.deliver(sampleMessage(n), to: box, flags: flags, keywords: keywords, received: 0)
            model[d.uid] = Model(flags: flags, keywords: keywords, modSeq: d.modSeq)
        }
        let all = [UInt32(1)...UInt32(8)]
        let steps: [(FlagChange, [ClosedRange<UInt32>], Bool)] = [
            (.add([.seen]), all, false),
            (.remove([.seen]), [2...3, 6...7], false),
            (.add([.answered], keywords: ["Work", "new"]), all, false),
            (.remove([], keywords: ["work"]), [1...4], false),
            (.replace([.flagged], keywords: ["z", "a"]), [5...8], false),
            (.add([.flagged]), all, false),
            (.remove([.flagged, .answered]), all, true),
            (.replace([], keywords: []), [1...2], true),
        ]
        for (step, (change, ranges, conditional)) in steps.enumerated() {
            let before = try await account.highestModSeq()
            // Messages 1-4 are "modified" for the conditional steps: they are changed just before.
            var since: Int64?
            if conditional {
                since = before.rawValue
                let marker: MessageFlags = step % 2 == 0 ? [.draft] : [.draft, .seen]
                let touched = try await account.setFlags(in: box, uids: (1...4).map { UID($0) }, .replace(marker))
                #expect(touched.count == 4, "step \(step)")
                for entry in touched { model[entry.uid] = Model(flags: marker, keywords: [], modSeq: entry.modSeq) }
            }
            let result = try await account.storeFlags(in: box, uidRanges: ranges, change, unchangedSince: since)
            let uids = ranges.flatMap { $0 }.map { UID($0) }
            var expectedModified: [UID] = []
            var expectedChanged: [UID] = []
            for uid in uids {
                guard var m = model[uid] else { continue }
                if let since, m.modSeq.rawValue > since {
                    expectedModified.append(uid)
                    continue
                }
                var flags = m.flags
                var keywords = m.keywords
                switch change {
                case .add(let f, let k):
                    flags.formUnion(f)
                    keywords = Set(keywords).union(k.map { $0.lowercased() }).sorted()
                case .remove(let f, let k):
                    flags.subtract(f)
                    keywords = Set(keywords).subtracting(k.map { $0.lowercased() }).sorted()
                case .replace(let f, let k):
                    flags = f
                    keywords = Set(k.map { $0.lowercased() }).sorted()
                }
                if flags != m.flags || keywords != m.keywords {
                    expectedChanged.append(uid)
                    m.flags = flags
                    m.keywords = keywords
                    m.modSeq = try #require(result.modSeq, "step \(step)")
                    model[uid] = m
                }
            }
            #expect(result.modified == expectedModified, "step \(step)")
            #expect(result.entries.filter(\.changed).map(\.uid) == expectedChanged, "step \(step)")
            #expect(result.entries.count + result.modified.count == uids.count, "step \(step)")
            #expect((result.modSeq == nil) == expectedChanged.isEmpty, "step \(step)")
            for entry in result.entries {
                #expect(Model(flags: entry.flags, keywords: entry.keywords, modSeq: entry.modSeq) == model[entry.uid], "step \(step)")
            }
            let stored = try await account.messageFlags(in: box)
            for entry in stored {
                #expect(Model(flags: entry.flags, keywords: entry.keywords, modSeq: entry.modSeq) == model[entry.uid], "step \(step) \(entry.uid)")
            }
            try await self.expectExactCounts(account, [box])
        }
    }

    private func expectExactCounts(_ account: Account, _ boxes: [MailboxID]) async throws {
        for box in boxes {
            let stored = try await account.mailbox(box).counts
            let computed = try await recount(account, box)
            #expect(stored == computed)
        }
    }

    @Test func countsStayExact() async throws {
        let dir = try TemporaryDirectory()
        let account = try await makeAccount(dir)
        let box = try await inbox(account)
        let archive = try #require(try await account.mailbox(named: "Archive")).id
        let flagSets: [MessageFlags] = [[], [.seen], [.deleted], [.seen, .deleted], [.flagged]]
        for n in 0..<10 {
            _ = try await account.deliver(
                sampleMessage(n, size: 100 + n),
                to: box,
                flags: flagSets[n % flagSets.count],
                received: 0
            )
        }
        try await self.expectExactCounts(account, [box, archive])
        let counts = try await account.mailbox(box).counts
        #expect(counts.total == 6 && counts.deleted == 4 && counts.unseen == 6 && counts.unread == 4)

        try await account.setFlags(in: box, uids: [UID(1), UID(2)], .add([.seen]))
        try await account.setFlags(in: box, uids: [UID(3), UID(4)], .remove([.deleted]))
        try await account.setFlags(in: box, uids: [UID(5)], .replace([.deleted], keywords: ["x"]))
        try await self.expectExactCounts(account, [box, archive])
        try await account.expunge(in: box)
        try await self.expectExactCounts(account, [box, archive])
        try await account.move(from: box, uids: [UID(1), UID(2), UID(6)], to: archive)
        try await self.expectExactCounts(account, [box, archive])
        try await account.copy(from: archive, uids: [UID(1)], to: box)
        try await self.expectExactCounts(account, [box, archive])
        try await account.expunge(in: archive, uids: [UID(2)])
        try await self.expectExactCounts(account, [box, archive])
        // Recalculation finds nothing to fix, and repairs counts that were damaged behind its back.
        #expect(try await account.recalculateMailboxCounts().isEmpty)
        try await account.database.write { db in
            try db.execute(sql: "UPDATE mailbox SET total = 1000, size = 1 WHERE id = ?", arguments: [box.rawValue])
        }
        let fixed = try await account.recalculateMailboxCounts()
        #expect(fixed.map(\.0.id) == [box])
        #expect(fixed.first?.was.total == 1000)
        try await self.expectExactCounts(account, [box, archive])
        let total = try await account.mailbox(box).counts.total + account.mailbox(archive).counts.total
        #expect(total == Int64(try await account.messageFlags(in: box).count + account.messageFlags(in: archive).count))
    }

    @Test func expungeRemovesFilesAndMoveCopyKeepBytes() async throws {
        let dir = try TemporaryDirectory()
        let account = try await makeAccount(dir)
        let box = try await inbox(account)
        let trash = try #require(try await account.mailbox(named: "Trash")).id
        let a = try await account.deliver(sampleMessage(1), to: box, received: 0)
        let b = try await account.deliver(sampleMessage(2), to: box, received: 0)
        try await account.expunge(in: box, uids: [a.uid])
        #expect(!FileIO.exists(account.layout.messagePath(a.id)))
        await #expect(throws: StoreError.self) { try await account.messageBytes(a.id) }

        let copied = try await account.copy(from: box, uids: [b.uid], to: trash)
        let copy = try #require(try await account.messageFlags(in: trash).first)
        #expect(copied.map(\.1) == [copy.uid])
        #expect(copy.id != b.id)
        #expect(try await account.messageBytes(copy.id) == sampleMessage(2))
        try await account.move(from: box, uids: [b.uid], to: trash)
        #expect(try await account.messageBytes(b.id) == sampleMessage(2))
        #expect(try await account.messageFlags(in: box).isEmpty)
        #expect(try await account.messageFlags(in: trash).count == 2)
    }

    @Test func orphanedAndTemporaryFilesAreRemovedOnOpen() async throws {
        let dir = try TemporaryDirectory()
        var kept = MessageID(0)
        do {
            let account = try await makeAccount(dir)
            kept = try await account.deliver(sampleMessage(1), to: try await inbox(account), received: 0).id
            await account.close()
        }
        let root = dir.path + "/accounts/test"
        // While the account is open elsewhere, such files may be another writer's: they stay.
        let holder = try await makeAccount(dir)
        try FileIO.writeSynced(root + "/msg/0000/999", [1, 2, 3])
        try FileIO.makeDirectories(root + "/msg/0007")
        try FileIO.writeSynced(root + "/msg/0007/30000", [1])
        try FileIO.writeSynced(root + "/tmp/half.tmp", [1, 2])
        let second = try await makeAccount(dir)
        #expect(FileIO.exists(root + "/msg/0000/999"))
        #expect(FileIO.exists(root + "/tmp/half.tmp"))
        #expect(try await second.messageBytes(kept) == sampleMessage(1))
        await second.close()
        await holder.close()

        let account = try await makeAccount(dir)
        #expect(!FileIO.exists(root + "/msg/0000/999"))
        #expect(!FileIO.exists(root + "/msg/0007/30000"))
        #expect(!FileIO.exists(root + "/tmp/half.tmp"))
        #expect(try await account.messageBytes(kept) == sampleMessage(1))
    }

    @Test func concurrentDeliveriesAreAllStoredWithUniqueUIDs() async throws {
        let dir = try TemporaryDirectory()
        let account = try await makeAccount(dir)
        let box = try await inbox(account)
        let results = try await withThrowingTaskGroup(of: [Delivered].self) { group in
            for task in 0..<8 {
                group.addTask {
                    var mine: [Delivered] = []
                    for n in 0..<25 {
                        mine.append(try await account.deliver(sampleMessage(task * 100 + n), to: box, received: 0))
                    }
                    return mine
                }
            }
            var all: [Delivered] = []
            for try await part in group {
                all.append(contentsOf: part)
            }
            return all
        }
        #expect(results.count == 200)
        #expect(Set(results.map(\.uid)).count == 200)
        #expect(Set(results.map(\.id)).count == 200)
        let listed = try await account.messageFlags(in: box)
        #expect(listed.map(\.uid) == (1...200).map { UID(UInt32($0)) })
        #expect(try await account.mailbox(box).counts.total == 200)
        // Group commit: with 8 writers waiting on fsyncs, batches hold more than one delivery.
        #expect(await account.committer.deliveries == 200)
        #expect(await account.committer.batches < 200)
        for delivered in results {
            #expect(FileIO.exists(account.layout.messagePath(delivered.id)))
        }
    }

    @Test func deliveryToMissingMailboxFailsAlone() async throws {
        let dir = try TemporaryDirectory()
        let account = try await makeAccount(dir)
        let box = try await inbox(account)
        async let good = account.deliver(sampleMessage(1), to: box, received: 0)
        async let bad: Result<Delivered, StoreError> = {
            do throws(StoreError) {
                return .success(try await account.deliver(sampleMessage(2), to: MailboxID(9999), received: 0))
            } catch {
                return .failure(error)
            }
        }()
        let goodUID = try await good.uid
        let badResult = await bad
        #expect(goodUID == UID(1))
        guard case .failure(let error) = badResult else {
            Issue.record("delivery to a missing mailbox succeeded")
            return
        }
        #expect(error.kind == .notFound)
        #expect(FileIO.list(account.layout.tempDir).isEmpty)
    }

    @Test func changeEventsArriveInOrder() async throws {
        let dir = try TemporaryDirectory()
        let account = try await makeAccount(dir)
        let box = try await inbox(account)
        let events = account.changeEvents()
        let a = try await account.deliver(sampleMessage(1), to: box, received: 0)
        try await account.setFlags(in: box, uids: [a.uid], .add([.seen]))
        try await account.expunge(in: box, uids: [a.uid])
        let created = try await account.createMailbox("New", subscribe: false)

        var iterator = events.makeAsyncIterator()
        var received: [ChangeEvent] = []
        for _ in 0..<7 {
            guard let event = await iterator.next() else { break }
            received.append(event)
        }
        #expect(
            received == [
                .messageAdded(mailboxID: box, uid: a.uid, id: a.id, flags: [], keywords: [], modSeq: a.modSeq),
                .mailboxCounts(box, MailboxCounts(total: 1, unread: 1, unseen: 1, size: Int64(sampleMessage(1).count))),
                .flagsChanged(mailboxID: box, uid: a.uid, flags: [.seen], keywords: [], modSeq: a.modSeq + 1),
                .mailboxCounts(box, MailboxCounts(total: 1, size: Int64(sampleMessage(1).count))),
                .messagesRemoved(mailboxID: box, uids: [a.uid], modSeq: a.modSeq + 2),
                .mailboxCounts(box, MailboxCounts()),
                .mailboxAdded(created),
            ]
        )
    }

    @Test func changeEventsFollowCommitOrderUnderConcurrency() async throws {
        let dir = try TemporaryDirectory()
        let account = try await makeAccount(dir)
        let box = try await inbox(account)
        let events = account.changeEvents()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for n in 0..<40 {
                group.addTask { _ = try await account.deliver(sampleMessage(n), to: box, received: 0) }
            }
            try await group.waitForAll()
        }
        var added: [(UID, ModSeq)] = []
        var totals: [Int64] = []
        var iterator = events.makeAsyncIterator()
        while added.count < 40 || totals.count < 40, let event = await iterator.next() {
            switch event {
            case .messageAdded(_, let uid, _, _, _, let modSeq): added.append((uid, modSeq))
            case .mailboxCounts(_, let counts): totals.append(counts.total)
            default: break
            }
        }
        #expect(added.map(\.0) == (1...40).map { UID(UInt32($0)) })
        #expect(zip(added, added.dropFirst()).allSatisfy { $0.1 < $1.1 })
        #expect(totals == Array(1...40))
    }

    @Test func mailboxHierarchy() async throws {
        let dir = try TemporaryDirectory()
        let account = try await makeAccount(dir)
        let deep = try await account.createMailbox("Projects/Mail/Store")
        #expect(try await account.mailbox(named: "Projects/Mail") != nil)
        await #expect(throws: StoreError.self) { try await account.createMailbox("Projects/Mail/Store") }
        await #expect(throws: StoreError.self) { try await account.createMailbox("bad//name") }
        #expect(try await account.createMailbox("INBOX/Sub").name == "Inbox/Sub")
        let parent = try #require(try await account.mailbox(named: "Projects"))
        try await account.renameMailbox(parent.id, to: "Work")
        #expect(try await account.mailbox(deep.id).name == "Work/Mail/Store")
        #expect(try await account.mailbox(named: "Projects") == nil)
        await #expect(throws: StoreError.self) { try await account.deleteMailbox(parent.id) }
        try await account.deleteMailbox(deep.id)
        let inbox = try await inbox(account)
        await #expect(throws: StoreError.self) { try await account.deleteMailbox(inbox) }
        // Names that LIKE would confuse: `_` and case.
        let underscore = try await account.createMailbox("a_b")
        try await account.createMailbox("axb/child")
        try await account.createMailbox("A_B2/child")
        try await account.deleteMailbox(underscore.id)
        try await account.setSubscribed("Elsewhere", true)
        #expect(try await account.subscriptions().contains("Elsewhere"))
        try await account.setSubscribed("Elsewhere", false)
        #expect(try await !account.subscriptions().contains("Elsewhere"))
    }
}

extension ModSeq {
    static func + (lhs: ModSeq, rhs: Int64) -> ModSeq { ModSeq(lhs.rawValue + rhs) }
}

@Suite struct SettingsTests {
    @Test func defaultsThenSavedValuesSurviveReopening() async throws {
        let dir = try TemporaryDirectory()
        var account: Account? = try await makeAccount(dir)
        #expect(try await account!.settings() == AccountSettings())
        var settings = AccountSettings()
        settings.signature = "-- \nmjl"
        settings.quoting = .top
        settings.showHTML = true
        settings.showHeaders = ["Delivered-To", "User-Agent"]
        try await account!.setSettings(settings)
        await account!.close()
        account = nil
        let reopened = try await makeAccount(dir)
        #expect(try await reopened.settings() == settings)
        settings.showHeaders = ["Bad: name"]
        await #expect(throws: StoreError.self) { try await reopened.setSettings(settings) }
        await reopened.close()
    }
}
