import Testing

@testable import MailStore

/// Random sequences of operations, checking every invariant after each step.
@Suite struct InvariantTests {
    /// A small deterministic generator so that a failure can be replayed from its seed.
    struct SplitMix: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            self.state &+= 0x9E37_79B9_7F4A_7C15
            var z = self.state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    @Test(arguments: [1, 2, 3] as [UInt64])
    func randomOperationsKeepInvariants(seed: UInt64) async throws {
        var random = SplitMix(state: seed)
        let dir = try TemporaryDirectory()
        let account = try await makeAccount(dir)
        let boxes = [
            try await inbox(account),
            try #require(try await account.mailbox(named: "Archive")).id,
            try #require(try await account.mailbox(named: "Trash")).id,
        ]
        var lastModSeq = try await account.highestModSeq()
        var highestUID: [MailboxID: UID] = [:]
        var lastListed: [MailboxID: Set<UID>] = [:]
        var uidValidity: [MailboxID: UInt32] = [:]
        for box in boxes {
            uidValidity[box] = try await account.mailbox(box).uidValidity
        }
        let flagChoices: [MessageFlags] = [[], [.seen], [.deleted], [.flagged, .seen], [.seen, .deleted]]

        for step in 0..<80 {
            let box = boxes[Int.random(in: 0..<boxes.count, using: &random)]
            let other = boxes.filter { $0 != box }[Int.random(in: 0..<2, using: &random)]
            let uids = try await account.messageFlags(in: box).map(\.uid)
            let some = uids.filter { _ in Bool.random(using: &random) }
            let flags = flagChoices[Int.random(in: 0..<flagChoices.count, using: &random)]
            switch Int.random(in: 0..<10, using: &random) {
            case 0..<4:
                _ = try await account.deliver(
                    sampleMessage(step, size: Int.random(in: 0..<500, using: &random)),
                    to: box,
                    flags: flags,
                    received: 0
                )
            case 4, 5:
                try await account.setFlags(
                    in: box,
                    uids: some,
                    Bool.random(using: &random) ? .add(flags) : .remove(flags)
                )
            case 6:
                try await account.expunge(in: box)
            case 7:
                try await account.expunge(in: box, uids: some)
            case 8:
                try await account.move(from: box, uids: some, to: other)
            default:
                try await account.copy(from: box, uids: some, to: other)
            }

            // MODSEQ never goes down.
            let modSeq = try await account.highestModSeq()
            #expect(modSeq >= lastModSeq, "step \(step)")
            lastModSeq = modSeq
            for box in boxes {
                let mailbox = try await account.mailbox(box)
                let listed = try await account.messageFlags(in: box)
                // Counts are exact, UIDs are increasing and below UIDNEXT, UIDVALIDITY is stable.
                #expect(mailbox.counts == (try await recount(account, box)), "step \(step)")
                #expect(zip(listed, listed.dropFirst()).allSatisfy { $0.uid < $1.uid }, "step \(step)")
                #expect(listed.allSatisfy { $0.uid < mailbox.uidNext && $0.modSeq <= modSeq }, "step \(step)")
                #expect(mailbox.uidValidity == uidValidity[box])
                // A UID that was not there before the step is above every UID the mailbox had: UIDs only
                // increase and are never reused.
                let previous = highestUID[box] ?? UID(0)
                for uid in listed.map(\.uid) where !(lastListed[box] ?? []).contains(uid) {
                    #expect(uid > previous, "step \(step): uid \(uid) reused or lower than \(previous)")
                }
                lastListed[box] = Set(listed.map(\.uid))
                if let newest = listed.last {
                    highestUID[box] = max(previous, newest.uid)
                }
                #expect(mailbox.uidNext > (highestUID[box] ?? UID(0)), "step \(step)")
            }
        }
        // Every live message's file is there, with the bytes delivered.
        for box in boxes {
            for entry in try await account.messageFlags(in: box) {
                #expect(FileIO.exists(account.layout.messagePath(entry.id)))
            }
        }
    }
}

@Suite struct QuotaTests {
    @Test func deliveriesStopAtTheQuotaEvenWhenConcurrent() async throws {
        let dir = try TemporaryDirectory()
        let account = try await makeAccount(dir)
        let box = try await inbox(account)
        let message = sampleMessage(1)
        let size = Int64(message.count)
        // Room for exactly 5 messages; 12 concurrent deliveries must not overshoot.
        let quota = size * 5
        let outcomes = await withTaskGroup(of: Bool.self) { group in
            for _ in 0..<12 {
                group.addTask {
                    do throws(StoreError) {
                        _ = try await account.deliver(message, to: box, received: 0, quota: quota)
                        return true
                    } catch {
                        #expect(error.kind == .quotaExceeded)
                        return false
                    }
                }
            }
            var results: [Bool] = []
            for await ok in group { results.append(ok) }
            return results
        }
        #expect(outcomes.filter { $0 }.count == 5)
        let inboxNow = try #require(try await account.mailbox(named: "Inbox"))
        #expect(inboxNow.counts.total == 5)
        #expect(inboxNow.counts.size == quota)
        // Without a quota (or with room after an expunge) deliveries work again.
        _ = try await account.deliver(message, to: box, received: 0)
        try await account.expunge(in: box, uids: [UID(1), UID(2)])
        _ = try await account.deliver(message, to: box, received: 0, quota: quota)
    }
}
