import Synchronization
import Testing

@testable import MailStore

/// Changes another process commits (here: a second `Account` on the same files, with its own
/// database connections) are published to this process's subscribers, once.
@Suite struct OtherProcessTests {
    @Test func othersChangesArePublishedOwnNotTwice() async throws {
        let dir = try TemporaryDirectory()
        let server = try await makeAccount(dir)
        let other = try await Account.open(dataDir: dir.path, name: "test")
        let seen = Mutex<[ChangeEvent]>([])
        let subscription = server.subscribeChanges { events in seen.withLock { $0 += events } }
        defer { subscription.cancel() }
        // The first look only notes where the database is.
        await server.publishOtherProcessesChanges()
        let inbox = try #require(try await server.mailbox(named: "Inbox"))
        let message = Array("Subject: x\r\n\r\nbody\r\n".utf8)
        let mine = try await server.deliver(message, to: inbox.id, received: 0)
        let theirs = try await other.deliver(message, to: inbox.id, received: 0)
        let theirs2 = try await other.deliver(message, to: inbox.id, received: 0)
        try await other.setFlags(in: inbox.id, uids: [mine.uid], .add(.seen))
        _ = try await other.expunge(in: inbox.id, uids: [theirs2.uid])
        seen.withLock { $0 = [] }
        await server.publishOtherProcessesChanges()
        let events = seen.withLock { $0 }
        let added = events.compactMap { e -> UID? in
            if case .messageAdded(_, let uid, _, _, _, _) = e { return uid }
            return nil
        }
        // Its own delivery was published when it committed; the other's come now (the one it
        // expunged again only as an expunge).
        #expect(added == [theirs.uid])
        #expect(events.contains { e in
            if case .flagsChanged(_, let uid, let flags, _, _) = e { return uid == mine.uid && flags.contains(.seen) }
            return false
        })
        #expect(events.contains { e in
            if case .messagesRemoved(_, let uids, _) = e { return uids == [theirs2.uid] }
            return false
        })
        // Nothing new: nothing published.
        seen.withLock { $0 = [] }
        _ = try await server.deliver(message, to: inbox.id, received: 0)
        let ownOnly = seen.withLock { $0.count }
        await server.publishOtherProcessesChanges()
        #expect(seen.withLock { $0.count } == ownOnly)
        await other.close()
        await server.close()
    }
}
