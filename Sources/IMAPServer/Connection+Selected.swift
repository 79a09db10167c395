// The selected mailbox: SELECT/EXAMINE, the session's view of its messages (sequence numbers),
// showing other sessions' changes at the moments IMAP allows, IDLE, CLOSE/UNSELECT, EXPUNGE,
// STORE, COPY and MOVE.

import IMAPProtocol
import MailNetwork
import MailStore
import NIOCore

/// The session's view of the selected mailbox. Sequence number n is `uids[n-1]`. Changes by
/// others are applied from the change queue; `announced` is the message count the client was
/// last told (EXISTS), so an EXPUNGE is never sent for a message the client has not seen.
struct SelectedMailbox {
    var id: MailboxID
    var name: String
    var readOnly: Bool
    var uidValidity: UInt32
    var uids: [UInt32]
    var announced: Int
    /// Events at or below this MODSEQ are already in `uids` (see `MailboxSnapshot`).
    var snapshotModSeq: Int64
    /// The highest MODSEQ of each message whose flags this session reported.
    var reported: [UInt32: Int64] = [:]
    /// Messages that are \Recent in this session (RFC 3501 2.3.2).
    var recent: Set<UInt32> = []
    /// The keywords the client was told of in the last FLAGS response (RFC 9051 7.3.5).
    var keywords: Set<String> = []

    /// This session's own flag changes (STORE, FETCH setting `\Seen`) whose events may not all
    /// have come back yet: the MODSEQ each gave and the UIDs it changed, as ranges. The client
    /// was shown (or, with .SILENT, set) those states, so a flag event for one of those UIDs at
    /// or below that MODSEQ is old news: the change's own event, or another session's earlier
    /// one still queued, which must not show a lower MODSEQ after the higher one (RFC 7162 3.1).
    /// One entry per command, not per message.
    var ownFlagChanges: [(modSeq: Int64, uids: [ClosedRange<UInt32>])] = []

    /// Records an own flag change of the (ascending) `uids` at `modSeq`.
    mutating func noteOwnFlagChange(_ modSeq: Int64, _ uids: some Sequence<UInt32>) {
        var ranges: [ClosedRange<UInt32>] = []
        for uid in uids {
            if let last = ranges.last, last.upperBound &+ 1 == uid {
                ranges[ranges.count - 1] = last.lowerBound...uid
            } else {
                ranges.append(uid...uid)
            }
        }
        if !ranges.isEmpty { self.ownFlagChanges.append((modSeq, ranges)) }
    }

    /// Whether an own flag change already showed `uid` in a state as new as `modSeq`.
    func shownByOwnFlagChange(_ uid: UInt32, _ modSeq: Int64) -> Bool {
        for change in self.ownFlagChanges where change.modSeq >= modSeq {
            var lo = 0
            var hi = change.uids.count
            while lo < hi {
                let mid = (lo + hi) / 2
                if change.uids[mid].upperBound < uid { lo = mid + 1 } else { hi = mid }
            }
            if lo < change.uids.count && change.uids[lo].contains(uid) { return true }
        }
        return false
    }

    /// The MODSEQ of the last change event taken from the queue: events come in commit order, so
    /// `reported` entries at or below it can no longer suppress anything.
    var lastEventModSeq: Int64 = 0

    /// Records that the client was shown `uid` as of `modSeq`. Events at or below the snapshot's
    /// MODSEQ are never shown, so a state from before it needs no entry.
    mutating func noteReported(_ uid: UInt32, _ modSeq: Int64) {
        guard modSeq > self.lastEventModSeq, modSeq > self.snapshotModSeq else { return }
        if let r = self.reported[uid], r >= modSeq { return }
        self.reported[uid] = modSeq
    }

    /// Whether `uid` is \Recent in this session (most views have none: no hashing then).
    func isRecent(_ uid: UInt32) -> Bool {
        !self.recent.isEmpty && self.recent.contains(uid)
    }

    /// For a walk over messages in ascending UID order: moves `position` in `uids` (ascending)
    /// up to `uid` and says whether it is there. One walk costs one pass over the view.
    static func seek(_ uid: UInt32, in uids: [UInt32], from position: inout Int) -> Bool {
        while position < uids.count && uids[position] < uid { position += 1 }
        return position < uids.count && uids[position] == uid
    }

    /// The index of `uid` in `uids`, by binary search.
    func index(of uid: UInt32) -> Int? {
        let i = self.lowerBound(uid)
        return i < self.uids.count && self.uids[i] == uid ? i : nil
    }

    /// The first index whose UID is at least `uid`.
    func lowerBound(_ uid: UInt32) -> Int {
        var lo = 0
        var hi = self.uids.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if self.uids[mid] < uid { lo = mid + 1 } else { hi = mid }
        }
        return lo
    }

    /// The indexes of the messages a set names: sequence numbers, or UIDs with `uid`. Only
    /// messages the client knows of count.
    func indexes(_ set: IMAPSequenceSet, uid: Bool, saved: [UInt32]) -> [Int] {
        let count = min(self.announced, self.uids.count)
        if case .searchResult = set {
            // RFC 5182 2.1: "$" is the saved result, by UID.
            return saved.compactMap { self.index(of: $0) }.filter { $0 < count }
        }
        if uid {
            guard count > 0 else { return [] }
            let last = self.uids[count - 1]
            var out: [Int] = []
            for range in set.normalized(max: last) {
                var i = self.lowerBound(range.lowerBound)
                while i < count, self.uids[i] <= range.upperBound {
                    out.append(i)
                    i += 1
                }
            }
            return out
        }
        return set.normalized(max: UInt32(count)).flatMap { $0 }.map { Int($0) - 1 }
    }

    /// The tagged BAD for a set of sequence numbers that names a message the client does not
    /// know of; nil for UID sets, "$" and sets within the mailbox.
    /// - SeeAlso: RFC 9051 9 "seq-number"
    func sequenceRefusal(_ set: IMAPSequenceSet, uid: Bool) -> Completion? {
        guard !uid else { return nil }
        let count = UInt32(clamping: min(self.announced, self.uids.count))
        switch set.sequenceNumberBeyond(count: count) {
        case nil: return nil
        case .last: return .bad("invalid sequence set: * in an empty mailbox")
        case .number(let n): return .bad("message sequence number \(n) not in mailbox (\(count) messages)")
        }
    }

    /// UID ranges covering the given (sorted) indexes.
    func uidRanges(_ indexes: [Int]) -> [ClosedRange<UInt32>] {
        var out: [ClosedRange<UInt32>] = []
        var start: Int?
        var prev = -2
        for i in indexes {
            if i == prev + 1, start != nil {
                prev = i
                continue
            }
            if let s = start { out.append(self.uids[s]...self.uids[prev]) }
            start = i
            prev = i
        }
        if let s = start { out.append(self.uids[s]...self.uids[prev]) }
        return out
    }
}

extension IMAPConnection {
    // MARK: - SELECT, EXAMINE

    /// RFC 9051 6.3.2, 6.3.3; RFC 7162 3.1.8 (CONDSTORE parameter).
    func select(_ name: String, parameters: [IMAPSelectParameter], readOnly: Bool) async -> Completion {
        guard let account = self.account else { return .bad("not authenticated") }
        // RFC 9051 6.3.2: a failed SELECT leaves no mailbox selected.
        if self.selected != nil {
            self.selected = nil
            self.state = .authenticated
            // RFC 7162 3.2.11 / RFC 9051: with a mailbox already selected, say it is closed.
            self.line("* OK [CLOSED] previous mailbox closed")
        }
        var resync: (uidValidity: UInt32, modSeq: UInt64, known: IMAPSequenceSet?)?
        for p in parameters {
            switch p {
            case .condstore: self.condstore = true
            case .qresync(let uidValidity, let modSeq, let known, _):
                // RFC 7162 3.2.5: only after ENABLE QRESYNC.
                guard self.qresync else { return .bad("QRESYNC is not enabled") }
                resync = (uidValidity, modSeq, known)
            case .other(let name): return .bad("unknown SELECT parameter \(name)")
            }
        }
        let mailbox: Mailbox
        switch await self.lookupMailbox(name) {
        case .success(let m): mailbox = m
        case .failure(let c): return c
        }
        // Changes queued so far are in the snapshot or older; those that arrive from now on are
        // kept and filtered by the snapshot's MODSEQ (taking them after the read would lose the
        // ones committed while it ran).
        self.dropPendingChanges()
        let snapshot: MailboxSnapshot
        do {
            snapshot = try await account.snapshot(of: mailbox.id)
        } catch {
            return self.storeFailure(error, "select")
        }
        let box = snapshot.mailbox
        // RFC 3501 2.3.2: SELECT takes the messages no session has seen as \Recent; EXAMINE
        // shows them without taking them.
        let firstRecent =
            readOnly
            ? account.firstUnclaimedRecent(box.id).rawValue
            : account.claimRecent(box.id, upTo: box.uidNext).rawValue
        let uids = snapshot.uids.map(\.rawValue)
        // UIDs ascend: the recent ones are a suffix.
        var firstRecentIndex = uids.count
        while firstRecentIndex > 0 && uids[firstRecentIndex - 1] >= firstRecent { firstRecentIndex -= 1 }
        let recent = Set(uids[firstRecentIndex...])
        let keywords = snapshot.keywords
        self.writeFlags(keywords, readOnly: readOnly)
        self.line("* \(uids.count) EXISTS")
        if !self.rev2 {
            // RFC 3501 7.3.2: IMAP4rev1 clients get RECENT.
            self.line("* \(recent.count) RECENT")
            if let firstUnseen = snapshot.firstUnseen, !self.uidOnly {
                self.line("* OK [UNSEEN \(firstUnseen + 1)] first unseen message")
            }
        }
        self.line("* OK [UIDVALIDITY \(box.uidValidity)] uids are valid")
        self.line("* OK [UIDNEXT \(box.uidNext.rawValue)] next uid")
        // RFC 7162 3.1.2.1: HIGHESTMODSEQ with every SELECT/EXAMINE of a mailbox with mod-sequences.
        self.line("* OK [HIGHESTMODSEQ \(max(box.modSeq.rawValue, 1))] highest modseq")
        if self.rev2 {
            // RFC 9051 6.3.2: the LIST response of the mailbox.
            self.out.write("* LIST () \"/\" ")
            self.out.writeMailbox(MailboxNames.imap(box.name))
            self.out.writeCRLF()
        }
        self.selected = SelectedMailbox(
            id: box.id,
            name: MailboxNames.imap(box.name),
            readOnly: readOnly,
            uidValidity: box.uidValidity,
            uids: uids,
            announced: uids.count,
            snapshotModSeq: snapshot.highestModSeq.rawValue,
            recent: recent,
            keywords: keywords
        )
        self.savedResult = []
        self.state = .selected
        if let resync, resync.uidValidity == box.uidValidity {
            if let failure = await self.resynchronize(since: resync.modSeq, known: resync.known) { return failure }
        }
        return .ok(readOnly ? "examine completed" : "select completed", code: readOnly ? "READ-ONLY" : "READ-WRITE")
    }

    /// RFC 7162 3.2.5.1: what changed since the client's MODSEQ: VANISHED (EARLIER) for messages
    /// expunged since (of the UIDs it knows), and FETCH for messages whose flags changed.
    func resynchronize(since modSeq: UInt64, known: IMAPSequenceSet?) async -> Completion? {
        guard let sel = self.selected, let account = self.account else { return nil }
        let changes: (changed: [StoredMessage], vanished: [UID])
        do {
            changes = try await account.changes(in: sel.id, since: ModSeq(Int64(clamping: modSeq)))
        } catch {
            return self.storeFailure(error, "select")
        }
        let last = sel.uids.last ?? 0
        // Messages expunged after the snapshot are still in the view: they get their VANISHED
        // when the session takes their expunge, not here (that would count them twice).
        let vanished = changes.vanished.map(\.rawValue).filter { uid in
            sel.index(of: uid) == nil && (known.map { $0.contains(uid, max: max(last, uid)) } ?? true)
        }
        if !vanished.isEmpty {
            self.line("* VANISHED (EARLIER) \(IMAPSequenceSet(numbers: vanished))")
        }
        var current = sel
        for m in changes.changed {
            guard let i = current.index(of: m.uid.rawValue), i < current.announced else { continue }
            if let known, !known.contains(m.uid.rawValue, max: max(last, m.uid.rawValue)) { continue }
            self.announceKeywords(m.keywords, &current)
            current.noteReported(m.uid.rawValue, m.modSeq.rawValue)
            let flags = self.flagNames(m.flags, m.keywords, recent: current.isRecent(m.uid.rawValue))
            self.line(self.fetchStart(seq: i + 1, uid: m.uid.rawValue) + "FLAGS (\(flags)) MODSEQ (\(m.modSeq.rawValue)))")
        }
        self.selected = current
        return nil
    }

    // MARK: - Changes by others

    /// Shows queued store changes to the client: new messages (EXISTS), flag changes (FETCH) and,
    /// when allowed, expunges (EXPUNGE). Expunges that may not be sent yet stay queued, and so
    /// does everything after them, to keep the order.
    /// - SeeAlso: RFC 9051 7.4.1, RFC 9051 5.5
    @discardableResult
    func showChanges(_ fresh: [ChangeEvent], allowExpunge: Bool) -> [NewMessage] {
        guard var sel = self.selected else {
            self.heldChanges = []
            return []
        }
        var events = fresh
        if !self.heldChanges.isEmpty {
            events = self.heldChanges + fresh
            self.heldChanges = []
        }
        if events.isEmpty && sel.uids.count == sel.announced { return [] }
        // RFC 5465 3.1: with NOTIFY, only the kinds its SELECTED group names are shown.
        let notify = self.notify
        let wantNew = notify?.selectedWants(.messageNew) ?? true
        let wantExpunge = notify?.selectedWants(.messageExpunge) ?? true
        let wantFlags = notify?.selectedWants(.flagChange) ?? true
        var added: [NewMessage] = []
        // The view is taken out while it changes, so its arrays are not copied.
        self.selected = nil
        var keep: [ChangeEvent] = []
        var processedMax: Int64 = 0
        defer {
            let last = processedMax
            if last > (self.selected?.lastEventModSeq ?? 0) {
                self.selected?.lastEventModSeq = last
                if let reported = self.selected?.reported, !reported.isEmpty {
                    self.selected?.reported = reported.filter { $0.value > last }
                }
                // Every event at or below `last` has been taken (they come in commit order).
                if self.selected?.ownFlagChanges.isEmpty == false {
                    self.selected?.ownFlagChanges.removeAll { $0.modSeq <= last }
                }
            }
        }
        for event in events {
            if !keep.isEmpty {
                keep.append(event)
                continue
            }
            if let m = event.modSeq { processedMax = max(processedMax, m) }
            switch event {
            case .messageAdded(let mailboxID, let uid, _, let flags, let keywords, let modSeq):
                guard mailboxID == sel.id, modSeq.rawValue > sel.snapshotModSeq, wantNew else { continue }
                if let last = sel.uids.last, uid.rawValue <= last { continue }
                sel.uids.append(uid.rawValue)
                if notify != nil {
                    added.append(NewMessage(uid: uid.rawValue, flags: flags, keywords: keywords, modSeq: modSeq.rawValue))
                }
                if !sel.readOnly, let account = self.account,
                    account.claimRecent(sel.id, upTo: UID(uid.rawValue + 1)).rawValue <= uid.rawValue
                {
                    sel.recent.insert(uid.rawValue)
                }
            case .messagesRemoved(let mailboxID, let uids, let modSeq):
                guard mailboxID == sel.id, modSeq.rawValue > sel.snapshotModSeq, wantExpunge else { continue }
                let present = uids.filter { sel.index(of: $0.rawValue) != nil }
                guard !present.isEmpty else { continue }
                let known = present.contains { (sel.index(of: $0.rawValue) ?? 0) < sel.announced }
                if known && !allowExpunge {
                    keep.append(event)
                    continue
                }
                self.expungeFromView(&sel, present.map(\.rawValue))
            case .flagsChanged(let mailboxID, let uid, let flags, let keywords, let modSeq):
                guard mailboxID == sel.id, modSeq.rawValue > sel.snapshotModSeq, wantFlags,
                    !sel.shownByOwnFlagChange(uid.rawValue, modSeq.rawValue), let i = sel.index(of: uid.rawValue)
                else { continue }
                if let reported = sel.reported[uid.rawValue], reported >= modSeq.rawValue { continue }
                sel.reported[uid.rawValue] = modSeq.rawValue
                if i >= sel.announced {
                    self.announceExists(&sel)
                }
                self.announceKeywords(keywords, &sel)
                var item = self.fetchStart(seq: i + 1, uid: uid.rawValue) + "FLAGS ("
                item += self.flagNames(flags, keywords, recent: sel.isRecent(uid.rawValue)) + ")"
                if self.condstore { item += " MODSEQ (\(modSeq.rawValue))" }
                self.line(item + ")")
            case .mailboxRemoved(let id, _):
                guard id == sel.id, wantExpunge else { continue }
                if !allowExpunge {
                    keep.append(event)
                    continue
                }
                self.expungeFromView(&sel, sel.uids)
                sel.uids = []
                sel.announced = 0
            case .mailboxRenamed(let id, _, let newName):
                if id == sel.id { sel.name = MailboxNames.imap(newName) }
            case .mailboxAdded, .mailboxCounts, .subscriptionChanged, .metadataChanged:
                continue
            }
        }
        if sel.uids.count != sel.announced {
            self.announceExists(&sel)
        }
        self.selected = sel
        self.heldChanges = keep
        return added
    }

    /// The start of an untagged FETCH response, with the UID item when wanted; with UIDONLY it is
    /// a UIDFETCH response numbered by the UID instead (RFC 9586 3.3).
    func fetchStart(seq: Int, uid: UInt32) -> String {
        if self.uidOnly { return "* \(uid) UIDFETCH (" }
        return "* \(seq) FETCH (UID \(uid) "
    }

    /// "* n FETCH (", or "* uid UIDFETCH (" with UIDONLY (RFC 9586 3.3), written without
    /// building strings: a large FETCH or STORE writes thousands of these.
    func writeFetchStart(_ out: inout IMAPResponseEncoder, seq: Int, uid: UInt32) {
        out.bytes += "* ".utf8
        if self.uidOnly {
            out.writeNumber(uid)
            out.bytes += " UIDFETCH (".utf8
        } else {
            out.writeNumber(seq)
            out.bytes += " FETCH (".utf8
        }
    }

    /// The FLAGS response and PERMANENTFLAGS, with the mailbox's keywords (RFC 9051 7.3.5).
    func writeFlags(_ keywords: Set<String>, readOnly: Bool) {
        let flags =
            ["\\Seen", "\\Answered", "\\Flagged", "\\Deleted", "\\Draft", "$Forwarded", "$Junk", "$NotJunk",
             "$Phishing", "$MDNSent"] + keywords.sorted()
        self.line("* FLAGS (" + flags.joined(separator: " ") + ")")
        if readOnly {
            self.line("* OK [PERMANENTFLAGS ()] read-only mailbox")
        } else {
            self.line("* OK [PERMANENTFLAGS (" + flags.joined(separator: " ") + " \\*)] flags can be changed")
        }
    }

    /// A new FLAGS response before a FETCH that shows a keyword the client was not told of.
    func announceKeywords(_ keywords: [String], _ sel: inout SelectedMailbox) {
        guard keywords.contains(where: { !sel.keywords.contains($0) }) else { return }
        sel.keywords.formUnion(keywords)
        self.writeFlags(sel.keywords, readOnly: sel.readOnly)
    }

    /// EXISTS for the current count, and RECENT for IMAP4rev1 clients.
    func announceExists(_ sel: inout SelectedMailbox) {
        self.line("* \(sel.uids.count) EXISTS")
        sel.announced = sel.uids.count
        if !self.rev2 {
            self.line("* \(sel.recent.count) RECENT")
        }
    }

    /// A message's flags as IMAP shows them, with \Recent for IMAP4rev1 clients.
    func flagNames(_ flags: MessageFlags, _ keywords: [String], recent: Bool) -> String {
        let showRecent = recent && !self.rev2
        // Without keywords there are few combinations: their texts are kept.
        let key = flags.rawValue << 1 | (showRecent ? 1 : 0)
        if keywords.isEmpty, let text = self.flagTexts[key] { return text }
        var names = Self.flagNames(flags, keywords)
        if showRecent { names.insert("\\Recent", at: 0) }
        let text = names.joined(separator: " ")
        if keywords.isEmpty && self.flagTexts.count < 4096 { self.flagTexts[key] = text }
        return text
    }

    /// RFC 7162 3.1: the first CONDSTORE-enabling command with a mailbox selected gets the
    /// mailbox's HIGHESTMODSEQ.
    func enableCondstore() async {
        guard !self.condstore else { return }
        self.condstore = true
        if let sel = self.selected, let account = self.account, let box = try? await account.mailbox(sel.id) {
            self.line("* OK [HIGHESTMODSEQ \(max(box.modSeq.rawValue, 1))] condstore enabled")
        }
    }

    // MARK: - IDLE

    /// RFC 2177: changes are sent as they happen until the client sends DONE.
    func idle(tag: String) async throws(SessionEnd) -> Completion {
        self.line("+ idling")
        while true {
            await self.pushChanges(allowExpunge: true)
            switch self.reader.next() {
            case .frame(let frame):
                if frame.literals.isEmpty, frame.lines.count == 1, IMAPCommandParser.isIdleDone(frame.lines[0]) {
                    return .ok("idle done")
                }
                return .bad("expected DONE")
            case .error(let error):
                try self.refused(error)
                return .bad("expected DONE")
            case .sendContinuation:
                self.line("+ ")
            case .literalStart, .literalData:
                // Message data is not DONE; it is read and dropped.
                continue
            case .needMoreData:
                switch try await self.nextEvent() {
                case .bytes(let buffer): self.reader.append(buffer.readableBytesView)
                default: continue
                }
            }
        }
    }

    // MARK: - CLOSE, UNSELECT, EXPUNGE

    /// RFC 9051 6.4.1 (CLOSE expunges silently), RFC 3691 (UNSELECT does not).
    func closeMailbox(expunge: Bool) async -> Completion {
        guard let sel = self.selected, let account = self.account else { return .bad("no mailbox selected") }
        if expunge && !sel.readOnly {
            do {
                try await account.expunge(in: sel.id)
            } catch {
                return self.storeFailure(error, "close")
            }
        }
        self.selected = nil
        self.state = .authenticated
        self.heldChanges = []
        return .ok(expunge ? "close completed" : "unselect completed")
    }

    /// RFC 9051 6.4.3 EXPUNGE; UID EXPUNGE (RFC 9051 6.4.9, RFC 4315 2.1) only for the given UIDs.
    func expunge(uids set: IMAPSequenceSet?) async -> Completion {
        guard let sel = self.selected, let account = self.account else { return .bad("no mailbox selected") }
        if sel.readOnly { return .no("mailbox is read-only", code: "READ-ONLY") }
        // Changes first, so the sequence numbers below are the current ones.
        await self.pushChanges(allowExpunge: true)
        guard let current = self.selected else { return .bad("no mailbox selected") }
        do {
            var uids: [UID]?
            if let set {
                let indexes = current.indexes(set, uid: true, saved: self.savedResult)
                let messages = try await account.messages(in: current.id, uidRanges: current.uidRanges(indexes))
                uids = messages.filter { $0.flags.contains(.deleted) }.map(\.uid)
                if uids?.isEmpty == true { return .ok("expunge completed") }
            }
            let removed = try await account.expunge(in: current.id, uids: uids)
            self.removeExpunged(removed.map(\.rawValue))
            return .ok("expunge completed")
        } catch {
            return self.storeFailure(error, "expunge")
        }
    }

    /// Sends EXPUNGE for messages this session removed and takes them out of its view.
    func removeExpunged(_ uids: [UInt32]) {
        guard var sel = self.selected else { return }
        self.expungeFromView(&sel, uids)
        self.selected = sel
    }

    /// Takes messages out of the session's view and tells the client: EXPUNGE with sequence
    /// numbers, or with QRESYNC one VANISHED with the UIDs (RFC 7162 3.2.10). Messages the client
    /// was never told of go silently.
    func expungeFromView(_ sel: inout SelectedMailbox, _ uids: [UInt32]) {
        var vanished: [UInt32] = []
        // Descending, so each sequence number is still valid when sent.
        for uid in uids.sorted(by: >) {
            guard let i = sel.index(of: uid) else { continue }
            sel.uids.remove(at: i)
            sel.reported[uid] = nil
            sel.recent.remove(uid)
            if i < sel.announced {
                if self.qresync || self.uidOnly {
                    vanished.append(uid)
                } else {
                    self.line("* \(i + 1) EXPUNGE")
                }
                sel.announced -= 1
            }
        }
        if !vanished.isEmpty {
            self.line("* VANISHED \(IMAPSequenceSet(numbers: vanished))")
        }
    }

    // MARK: - STORE

    /// RFC 9051 6.4.6, RFC 7162 3.1.3 (UNCHANGEDSINCE, MODIFIED).
    func store(_ command: IMAPStoreCommand) async -> Completion {
        guard let sel = self.selected, let account = self.account else { return .bad("no mailbox selected") }
        if sel.readOnly { return .no("mailbox is read-only", code: "READ-ONLY") }
        guard let (flags, keywords) = Self.parseFlags(command.flags) else { return .bad("invalid flag") }
        if let refusal = sel.sequenceRefusal(command.set, uid: command.uid) { return refusal }
        if command.unchangedSince != nil { await self.enableCondstore() }
        let indexes = sel.indexes(command.set, uid: command.uid, saved: self.savedResult)
        guard !indexes.isEmpty else { return .ok("store completed") }
        let change: FlagChange
        switch command.mode {
        case .add: change = .add(flags, keywords: keywords)
        case .remove: change = .remove(flags, keywords: keywords)
        case .replace: change = .replace(flags, keywords: keywords)
        }
        let result: FlagStoreResult
        do {
            // The UNCHANGEDSINCE test runs in the store's transaction, atomically with the change.
            result = try await account.storeFlags(
                in: sel.id,
                uidRanges: sel.uidRanges(indexes),
                change,
                unchangedSince: command.unchangedSince.map { Int64(clamping: $0) }
            )
        } catch {
            return self.storeFailure(error, "store")
        }
        // The view is taken out while it changes, so its arrays are not copied.
        var current = self.selected ?? sel
        self.selected = nil
        if let own = result.modSeq {
            current.noteOwnFlagChange(own.rawValue, result.entries.lazy.filter(\.changed).map(\.uid.rawValue))
        }
        let withUID = command.uid || self.qresync
        // New keywords are announced (FLAGS) once, before any FETCH that shows them.
        if !command.silent {
            var keywords = Set<String>()
            for entry in result.entries where !entry.keywords.isEmpty { keywords.formUnion(entry.keywords) }
            if !keywords.isEmpty { self.announceKeywords(Array(keywords), &current) }
        }
        // The encoder is moved out while the responses are written, as FETCH does (no
        // exclusivity check of the connection's property at every small write).
        var out = self.out
        self.out = IMAPResponseEncoder()
        // Entries and the view are both in UID order: one walk finds each message's number.
        var i = 0
        for entry in result.entries {
            let uid = entry.uid.rawValue
            guard SelectedMailbox.seek(uid, in: current.uids, from: &i) else { continue }
            if !entry.changed { current.noteReported(uid, entry.modSeq.rawValue) }
            // RFC 9051 6.4.6: .SILENT leaves out the FETCH responses, except that with
            // UNCHANGEDSINCE changed messages still report their new MODSEQ (RFC 7162 3.1.3).
            if command.silent && !(command.unchangedSince != nil && entry.changed) { continue }
            self.writeFetchStart(&out, seq: i + 1, uid: uid)
            if withUID && !self.uidOnly {
                out.bytes += "UID ".utf8
                out.writeNumber(uid)
                out.bytes.append(UInt8(ascii: " "))
            }
            if !command.silent {
                out.bytes += "FLAGS (".utf8
                out.write(self.flagNames(entry.flags, entry.keywords, recent: current.isRecent(uid)))
                out.bytes.append(UInt8(ascii: ")"))
                if self.condstore { out.bytes.append(UInt8(ascii: " ")) }
            }
            if self.condstore {
                out.bytes += "MODSEQ (".utf8
                out.writeNumber(entry.modSeq.rawValue)
                out.bytes.append(UInt8(ascii: ")"))
            }
            out.bytes += ")\r\n".utf8
        }
        self.out = out
        self.selected = current
        if !result.modified.isEmpty {
            let numbers = result.modified.map {
                command.uid ? $0.rawValue : UInt32((current.index(of: $0.rawValue) ?? 0) + 1)
            }
            return .ok("conditional store completed", code: "MODIFIED \(IMAPSequenceSet(numbers: numbers))")
        }
        return .ok("store completed")
    }

    // MARK: - COPY, MOVE

    /// RFC 9051 6.4.7 (COPY), RFC 6851 (MOVE), RFC 4315 (COPYUID).
    func copyOrMove(uid: Bool, set: IMAPSequenceSet, to name: String, move: Bool) async -> Completion {
        guard let sel = self.selected, let account = self.account else { return .bad("no mailbox selected") }
        if move && sel.readOnly { return .no("mailbox is read-only", code: "READ-ONLY") }
        if let refusal = sel.sequenceRefusal(set, uid: uid) { return refusal }
        let destination: Mailbox
        switch await self.lookupMailbox(name) {
        case .success(let m): destination = m
        case .failure(let c):
            return c.code == "NONEXISTENT" ? .no("no such mailbox", code: "TRYCREATE") : c
        }
        let indexes = sel.indexes(set, uid: uid, saved: self.savedResult)
        guard !indexes.isEmpty else {
            // RFC 9051 6.4.7: an empty UID set is not an error.
            return .ok(move ? "move completed" : "copy completed")
        }
        let uids = indexes.map { UID(sel.uids[$0]) }
        do {
            let pairs: [(UID, UID)]
            if move && destination.id == sel.id {
                // RFC 6851 3.3: a move within the mailbox gives the messages new UIDs.
                pairs = try await account.copy(from: sel.id, uids: uids, to: sel.id)
                try await account.expunge(in: sel.id, uids: pairs.map(\.0))
            } else if move {
                pairs = try await account.move(from: sel.id, uids: uids, to: destination.id)
            } else {
                pairs = try await account.copy(from: sel.id, uids: uids, to: destination.id)
            }
            guard !pairs.isEmpty else { return .no("messages were expunged", code: "EXPUNGEISSUED") }
            let copies = Set(pairs.map(\.1.rawValue))
            self.ownChanges.append { event in
                guard case .messageAdded(let id, let uid, _, _, _, _) = event else { return false }
                return id == destination.id && copies.contains(uid.rawValue)
            }
            let code =
                "COPYUID \(destination.uidValidity) \(IMAPSequenceSet(numbers: pairs.map(\.0.rawValue))) "
                + "\(IMAPSequenceSet(numbers: pairs.map(\.1.rawValue)))"
            if move {
                // RFC 6851 3.3: COPYUID in an untagged OK before the EXPUNGE responses.
                self.line("* OK [\(code)] moved")
                self.removeExpunged(pairs.map(\.0.rawValue))
                return .ok("move completed")
            }
            return .ok("copy completed", code: code)
        } catch {
            return self.storeFailure(error, move ? "move" : "copy")
        }
    }
}

extension ChangeEvent {
    /// The MODSEQ of the commit that published the event, when it has one.
    var modSeq: Int64? {
        switch self {
        case .messageAdded(_, _, _, _, _, let m), .messagesRemoved(_, _, let m), .flagsChanged(_, _, _, _, let m):
            return m.rawValue
        default:
            return nil
        }
    }
}


