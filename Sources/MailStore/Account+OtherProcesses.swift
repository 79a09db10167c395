import GRDB
import Synchronization

/// What the watcher for other processes' commits knows (see `Account.watchOtherProcesses`).
final class OtherProcessChanges: Sendable {
    struct State {
        /// SQLite's data_version of the writer connection at the last look.
        var dataVersion: Int64?
        /// The highest MODSEQ at the last look: changes above it are new.
        var known: Int64 = 0
        /// MODSEQs this process published itself since then, not to be published twice.
        var own: Set<Int64> = []
    }

    let state = Mutex(State())

    /// Notes the MODSEQs of events this process publishes.
    func noteOwn(_ events: [ChangeEvent]) {
        var seqs: [Int64] = []
        for event in events {
            switch event {
            case .messageAdded(_, _, _, _, _, let m), .messagesRemoved(_, _, let m), .flagsChanged(_, _, _, _, let m):
                // A transaction's events share its MODSEQ: STORE 1:* gives thousands of one value.
                if seqs.last != m.rawValue { seqs.append(m.rawValue) }
            default:
                continue
            }
        }
        guard !seqs.isEmpty else { return }
        self.state.withLock { state in
            guard state.dataVersion != nil else { return }
            state.own.formUnion(seqs)
        }
    }
}

extension Account {
    /// Looks every `interval` for commits that other processes made to the account's database
    /// (a `mox import` while the server runs, say) and publishes the messages they added, changed
    /// and expunged as change events, as if this process had made them: IMAP sessions then show
    /// them as they do their own. SQLite's data_version on the writer connection changes only
    /// when another connection commits; the look runs on the writer, so the events take their
    /// place among this process's own in commit order. Mailbox creation, renaming and removal by
    /// other processes are not followed (a session sees those when it lists mailboxes).
    public func watchOtherProcesses(every interval: Duration = .seconds(1)) -> Task<Void, Never> {
        Task { [weak self] in
            // The first look notes where the database stands now; later ones publish what
            // others committed since.
            await self?.publishOtherProcessesChanges()
            while !Task.isCancelled {
                do {
                    try await Task.sleep(for: interval)
                } catch {
                    return
                }
                guard let self else { return }
                await self.publishOtherProcessesChanges()
            }
        }
    }

    /// One look; see `watchOtherProcesses`.
    func publishOtherProcessesChanges() async {
        let watch = self.otherProcesses
        let changes = self.changes
        _ = try? await self.database.writeWithoutTransaction { db in
            let version = try Int64.fetchOne(db, sql: "PRAGMA data_version") ?? 0
            let highest = try Int64.fetchOne(db, sql: "SELECT highestModSeq FROM syncState WHERE id = 1") ?? 0
            let (known, own, changed) = watch.state.withLock { state -> (Int64, Set<Int64>, Bool) in
                defer {
                    state.dataVersion = version
                    state.known = highest
                    state.own = []
                }
                guard let last = state.dataVersion else { return (highest, [], false) }
                return (state.known, state.own, last != version)
            }
            guard changed, highest > known else { return }
            let rows = try Row.fetchAll(
                db,
                sql: """
                    SELECT id, mailboxID, uid, flags, keywords, modSeq, createSeq, expunged FROM message
                    WHERE modSeq > ? ORDER BY modSeq, uid
                    """,
                arguments: [known]
            )
            // New messages first, by mailbox and UID (a session takes a mailbox's new UIDs in
            // ascending order), then flag changes, then expunges, one event per mailbox.
            var added: [ChangeEvent] = []
            var addedOrder: [(Int64, UInt32)] = []
            var flagged: [ChangeEvent] = []
            var removed: [Int64: (uids: [UID], modSeq: Int64)] = [:]
            for row in rows {
                let modSeq: Int64 = row[5]
                if own.contains(modSeq) { continue }
                let mailbox = MailboxID(row[1])
                let uid = UID(UInt32(truncatingIfNeeded: row[2] as Int64))
                let keywordText: String = row[4]
                let keywords = keywordText.isEmpty ? [] : keywordText.split(separator: " ").map(String.init)
                let flags = MessageFlags(rawValue: row[3])
                if row[7] as Bool {
                    var entry = removed[mailbox.rawValue] ?? ([], modSeq)
                    entry.uids.append(uid)
                    entry.modSeq = max(entry.modSeq, modSeq)
                    removed[mailbox.rawValue] = entry
                } else if (row[6] as Int64) > known && !own.contains(row[6] as Int64) {
                    // Created by the other process (one created here and changed there is a
                    // flag change: its addition was published when it was made).
                    added.append(
                        .messageAdded(
                            mailboxID: mailbox,
                            uid: uid,
                            id: MessageID(row[0]),
                            flags: flags,
                            keywords: keywords,
                            modSeq: ModSeq(modSeq)
                        )
                    )
                    addedOrder.append((mailbox.rawValue, uid.rawValue))
                } else {
                    flagged.append(
                        .flagsChanged(mailboxID: mailbox, uid: uid, flags: flags, keywords: keywords, modSeq: ModSeq(modSeq))
                    )
                }
            }
            let sortedAdds = zip(addedOrder, added).sorted { $0.0 < $1.0 }.map(\.1)
            var events = sortedAdds + flagged
            for (mailbox, entry) in removed.sorted(by: { $0.key < $1.key }) {
                events.append(.messagesRemoved(mailboxID: MailboxID(mailbox), uids: entry.uids, modSeq: ModSeq(entry.modSeq)))
            }
            if !events.isEmpty {
                changes.publish(events)
            }
        }
    }
}
