import Foundation
import MailMessage
import Testing

@testable import MailQueue

@Suite struct QueueTests {
    static func tempDir() -> String {
        let dir = NSTemporaryDirectory() + "mailqueue-\(UUID().uuidString)"
        try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }

    static func message(_ recipients: [(String, String)], body: String = "Subject: hi\r\nMessage-ID: <m1@example.org>\r\n\r\nhello\r\n") -> NewQueueMessage {
        var m = NewQueueMessage(
            senderAccount: "mjl", senderLocalpart: "mjl", senderDomain: "mox.example",
            recipients: recipients.map { NewQueueRecipient(localpart: $0.0, domain: $0.1) }, prefix: Array("DKIM-Signature: x\r\n".utf8),
            source: .bytes(Array(body.utf8)), sourceSize: Int64(body.utf8.count)
        )
        m.messageID = "<m1@example.org>"
        return m
    }

    @Test func addLinksOneFilePerRecipientAndSharesABaseID() async throws {
        let dir = Self.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let queue = try MailQueue.open(directory: dir)
        let added = try await queue.addGrouped(Self.message([("a", "remote.example"), ("b", "remote.example"), ("c", "other.example")]), now: 1000)
        #expect(added.count == 3)
        #expect(added.allSatisfy { $0.baseID == added[0].id })
        #expect(added[0].size == Int64("DKIM-Signature: x\r\n".utf8.count + "Subject: hi\r\nMessage-ID: <m1@example.org>\r\n\r\nhello\r\n".utf8.count))
        for m in added {
            let path = queue.path(for: m.id)
            #expect(path == "\(dir)/a/\(m.id)")
            #expect(FileManager.default.contents(atPath: path).map { String(decoding: $0, as: UTF8.self) }?.hasPrefix("Subject: hi") == true)
        }
        // Due: one per domain.
        let due = try queue.due(now: 1000, busy: [], limit: 10)
        #expect(Set(due.map(\.recipientDomain)) == ["remote.example", "other.example"])
        #expect(try queue.due(now: 1000, busy: ["remote.example"], limit: 10).map(\.recipientDomain) == ["other.example"])
        #expect(try queue.due(now: 999, busy: [], limit: 10).isEmpty)
    }

    @Test func bucketNamesFollowMoxLayout() {
        #expect(MailQueue.bucket(1) == "a")
        #expect(MailQueue.bucket(8191) == "a")
        #expect(MailQueue.bucket(8192) == "b")
        #expect(MailQueue.bucket(64 * 8192) == "ab")
    }

    @Test func attemptBatchesSameDomainAndSchedulesTheBackoff() async throws {
        let dir = Self.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let queue = try MailQueue.open(directory: dir)
        let added = try await queue.addGrouped(Self.message([("a", "remote.example"), ("b", "remote.example"), ("c", "other.example")]), now: 1000)
        let groups = try queue.beginAttempts(added[0], now: 2000, limit: 100)
        // One transaction for the two recipients at remote.example; other.example waits.
        #expect(groups.map { $0.map(\.id) } == [[added[0].id, added[1].id]])
        let batch = groups.flatMap { $0 }
        for m in batch {
            #expect(m.attempts == 1)
            #expect(m.lastAttempt == 2000)
            // 7.5 minutes, ±5 seconds.
            #expect((2445...2454).contains(m.nextAttempt))
            #expect(m.results.last?.error == QueueAttemptResult.delivering)
        }
        // Stored, so a crash now means a retry at the next attempt.
        let stored = try #require(try queue.message(added[0].id))
        #expect(stored.attempts == 1 && stored.nextAttempt == batch[0].nextAttempt)
        try queue.complete(
            [(added[0].id, QueueAttemptResult(start: 2000, success: false, code: 451, secode: "3.0", error: "try later"), .retry)],
            now: 2001, keepSeconds: { _ in 0 }
        )
        #expect(try queue.message(added[0].id)?.results.map(\.error) == ["try later"])
    }

    @Test func backoffDoublesPerAttempt() {
        let expected: [Int64] = [450, 900, 1800, 3600, 7200, 14400, 28800]
        for (attempts, base) in expected.enumerated() {
            let b = MailQueue.backoff(attempts: attempts)
            let slack = Int64(5) << attempts
            #expect(b >= base - slack && b <= base + slack, "attempt \(attempts): \(b)")
        }
    }

    @Test func retireKeepsHistoryAndRemovesFiles() async throws {
        let dir = Self.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let queue = try MailQueue.open(directory: dir)
        let added = try await queue.addGrouped(Self.message([("a", "remote.example"), ("b", "remote.example")]), now: 1000)
        let delivered = QueueAttemptResult(start: 1, success: true, code: 250, secode: "", error: "")
        let failed = QueueAttemptResult(start: 1, success: false, code: 550, secode: "1.1", error: "no")
        #expect(try queue.complete([(added[0].id, delivered, .retire(success: true))], now: 3000, keepSeconds: { _ in 3600 }) == [added[0].id])
        try queue.complete([(added[1].id, failed, .retire(success: false))], now: 3000, keepSeconds: { _ in 0 })
        #expect(try queue.count() == 0)
        #expect(!FileManager.default.fileExists(atPath: queue.path(for: added[0].id)))
        let retired = try queue.retiredList()
        #expect(retired.map(\.message.id) == [added[0].id])
        #expect(retired[0].success && retired[0].keepUntil == 6600)
        #expect(try queue.cleanRetired(now: 6601) == 1)
        #expect(try queue.retiredList().isEmpty)
    }

    @Test func holdRulesApplyToNewAndQueuedMessages() async throws {
        let dir = Self.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let queue = try MailQueue.open(directory: dir)
        let first = try await queue.addGrouped(Self.message([("a", "remote.example")]), now: 1000)
        let (rule, n) = try queue.addHoldRule(HoldRule(recipientDomain: "REMOTE.example"))
        #expect(n == 1)
        #expect(try queue.message(first[0].id)?.hold == true)
        let second = try await queue.addGrouped(Self.message([("b", "remote.example"), ("c", "other.example")]), now: 1000)
        #expect(second.map(\.hold) == [true, false])
        #expect(try queue.due(now: 5000, busy: [], limit: 10).map(\.recipientDomain) == ["other.example"])
        #expect(try queue.removeHoldRule(rule.id))
        // Removing the rule releases nothing.
        #expect(try queue.message(first[0].id)?.hold == true)
        var filter = QueueFilter()
        filter.to = "remote.example"
        #expect(try queue.update(filter, now: 1000) { $0.hold = false } == 2)
        // An empty rule matches everything.
        #expect(HoldRule().matches(second[1]))
    }

    @Test func suppressionUsesBaseAddresses() throws {
        let dir = Self.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let queue = try MailQueue.open(directory: dir)
        #expect(MailQueue.baseAddress(localpart: "Joe.User+tag-x", domain: "Example.ORG") == "joeuser@example.org")
        #expect(try queue.addSuppression(account: "mjl", address: "joe.user+news@example.org", manual: true, reason: "r", now: 5))
        #expect(try !queue.addSuppression(account: "mjl", address: "joeuser@example.org", manual: true, reason: "r", now: 5))
        #expect(try queue.suppression(account: "mjl", address: "JoeUser-x@example.org")?.originalAddress == "joe.user+news@example.org")
        #expect(try queue.suppression(account: "other", address: "joeuser@example.org") == nil)
        #expect(try queue.removeSuppression(account: "mjl", address: "joeuser@example.org"))
        #expect(try queue.suppressions(account: "").isEmpty)
    }

    @Test func fromIDsMustBeUnique() async throws {
        let dir = Self.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let queue = try MailQueue.open(directory: dir)
        var m = Self.message([("a", "remote.example")])
        m.recipients[0].fromID = "abc"
        let added = try await queue.addGrouped(m, now: 1)
        #expect(added[0].baseID == 0)
        await #expect(throws: QueueError.self) { try await queue.addGrouped(m, now: 1) }
        // Nothing left behind by the refused add.
        #expect(try queue.count() == 1)
        try queue.complete(
            [(added[0].id, QueueAttemptResult(start: 1, success: true, code: 250, secode: "", error: ""), .retire(success: true))],
            now: 2, keepSeconds: { _ in 100 }
        )
        #expect(try queue.retired(fromID: "abc")?.message.id == added[0].id)
        await #expect(throws: QueueError.self) { try await queue.addGrouped(m, now: 3) }
    }

    @Test func openRemovesFilesWithoutRowsAndKeepsMessages() async throws {
        let dir = Self.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var queue: MailQueue? = try MailQueue.open(directory: dir)
        let added = try await queue!.addGrouped(Self.message([("a", "remote.example")]), now: 1)
        // As after a crash between writing a file and committing its row.
        FileManager.default.createFile(atPath: "\(dir)/a/999", contents: Data("x".utf8))
        queue?.close()
        queue = nil
        let reopened = try MailQueue.open(directory: dir)
        #expect(!FileManager.default.fileExists(atPath: "\(dir)/a/999"))
        #expect(FileManager.default.fileExists(atPath: reopened.path(for: added[0].id)))
        #expect(try reopened.message(added[0].id)?.recipient == "a@remote.example")
    }

    @Test func filtersAndDurations() {
        #expect(QueueFilter.signedDuration("-1h30m") == -5400)
        #expect(QueueFilter.signedDuration("0s") == 0)
        #expect(QueueFilter.signedDuration("5") == nil)
        #expect(QueueFilter.signedDuration("1x") == nil)
        let m = QueuedMessage(id: 7, senderAccount: "mjl", senderLocalpart: "mjl", senderDomain: "mox.example", recipientLocalpart: "a", recipientDomain: "remote.example", nextAttempt: 100)
        var f = QueueFilter()
        f.nextAttempt = "<1m"
        #expect(f.matches(m, now: 50))
        #expect(!f.matches(m, now: 40))
        f = QueueFilter()
        f.ids = [8]
        #expect(!f.matches(m, now: 0))
        f = QueueFilter()
        f.from = "MJL@"
        #expect(f.matches(m, now: 0))
    }

    @Test func failureDSNParsesBack() throws {
        let m = QueuedMessage(
            id: 3, queued: 1_700_000_000, senderAccount: "mjl", senderLocalpart: "mjl", senderDomain: "mox.example",
            recipientLocalpart: "bob", recipientDomain: "remote.example", attempts: 8, lastAttempt: 1_700_050_000,
            messageID: "<m1@mox.example>"
        )
        let failure = DeliveryFailure(
            code: 550, secode: "1.1", message: "rcpt: 550 no such user", smtpLines: ["550 5.1.1 no such user"], permanent: true,
            remoteHost: "mx.remote.example", remoteIP: "192.0.2.1"
        )
        let bytes = try QueueDSN.compose(
            m, originalHeader: Array("Subject: hi\r\nMessage-ID: <m1@mox.example>\r\n\r\n".utf8), failure: failure,
            permanent: true, hostname: "mail.mox.example", now: 1_700_050_001, random: Array(repeating: 1, count: 16)
        )
        let text = String(decoding: bytes, as: UTF8.self)
        #expect(text.contains("Subject: mail delivery failed"))
        #expect(text.contains("References: <m1@mox.example>"))
        #expect(text.contains("Delivery has failed permanently for your email to:"))
        let dsn = try #require(DSN.parse(Message(parsing: bytes)))
        #expect(dsn.reportingMTA.value == "mail.mox.example")
        #expect(dsn.recipients.count == 1)
        #expect(dsn.recipients[0].action == .failed)
        #expect(dsn.recipients[0].status.hasPrefix("5.1.1"))
        #expect(dsn.recipients[0].finalRecipient.value == "bob@remote.example")
        #expect(dsn.recipients[0].diagnosticCode?.value == "550 5.1.1 no such user")
        #expect(dsn.recipients[0].remoteMTA?.value == "mx.remote.example (192.0.2.1)")

        let delayed = try QueueDSN.compose(
            m, originalHeader: [], failure: failure, permanent: false, hostname: "mail.mox.example", now: 1_700_050_001,
            random: Array(repeating: 2, count: 16)
        )
        let parsed = try #require(DSN.parse(Message(parsing: delayed)))
        #expect(parsed.recipients[0].action == .delayed)
        #expect(parsed.recipients[0].willRetryUntil != nil)
    }
}
