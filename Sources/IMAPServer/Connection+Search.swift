// SEARCH and UID SEARCH (RFC 9051 6.4.4) with ESEARCH results (RFC 4731), SEARCHRES (RFC 5182)
// and MODSEQ (RFC 7162 3.1.5). TEXT and BODY use the store's full-text index; header keys read
// the message files only when a key needs them.

import IMAPProtocol
import MailMessage
import MailStore

/// A message being searched, with its file and parsed parts loaded on first use.
final class SearchCandidate {
    let meta: StoredMessage
    let seq: Int
    var bytes: [UInt8]?
    private var parsedHeader: Header?
    private var parsedMessage: Message?
    private var bodyText: String?

    init(meta: StoredMessage, seq: Int) {
        self.meta = meta
        self.seq = seq
    }

    var header: Header {
        if let h = self.parsedHeader { return h }
        let h = Header(parsing: self.bytes ?? [])
        self.parsedHeader = h
        return h
    }

    var message: Message {
        if let m = self.parsedMessage { return m }
        let m = Message(parsing: self.bytes ?? [])
        self.parsedMessage = m
        return m
    }

    /// The decoded text parts, folded to lower case.
    var lowerBodyText: String {
        if let t = self.bodyText { return t }
        let t = TextExtraction.text(of: self.message).lowercased()
        self.bodyText = t
        return t
    }
}

/// What a search needs beyond each message's metadata.
struct SearchNeeds {
    var header = false
    var body = false
    var texts: Set<String> = []
    var modSeq = false
    /// Some key needs the messages' flags, dates or sizes (not only UIDs and the text index).
    var metadata = false

    mutating func collect(_ key: IMAPSearchKey) {
        switch key {
        case .bcc, .cc, .from, .to, .subject, .header, .sentBefore, .sentOn, .sentSince:
            self.header = true
        case .body(let s):
            self.body = true
            self.texts.insert(s)
        case .text(let s):
            self.texts.insert(s)
        case .modSeq:
            self.modSeq = true
            self.metadata = true
        case .all, .uid, .sequenceSet:
            break
        case .not(let k):
            self.collect(k)
        case .or(let a, let b):
            self.collect(a)
            self.collect(b)
        case .and(let keys):
            for k in keys { self.collect(k) }
        default:
            self.metadata = true
        }
        if self.header || self.body { self.metadata = true }
    }
}

extension IMAPConnection {
    func search(_ command: IMAPSearchCommand, tag: String) async -> Completion {
        guard let sel = self.selected, let account = self.account else { return .bad("no mailbox selected") }
        if let charset = command.charset, !["UTF-8", "US-ASCII"].contains(charset.uppercased()) {
            // RFC 9051 6.4.4: BADCHARSET with the charsets that are supported.
            return .no("unsupported charset", code: "BADCHARSET (UTF-8)")
        }
        var needs = SearchNeeds()
        needs.collect(command.key)
        if needs.modSeq { await self.enableCondstore() }
        let count = min(sel.announced, sel.uids.count)
        guard count > 0 else {
            self.writeSearchResult(command, tag: tag, matches: [], highestModSeq: nil)
            return .ok("search completed")
        }
        do {
            var textHits: [String: Set<UInt32>] = [:]
            for text in needs.texts {
                textHits[text] = Set(try await account.search(in: sel.id, substring: text).map(\.rawValue))
            }
            let now = Int64(WallClock.seconds())
            let context = SearchContext(
                textHits: textHits,
                maxSeq: UInt32(count),
                maxUID: sel.uids[count - 1],
                saved: self.savedResult,
                now: now,
                recent: sel.recent
            )
            if !needs.metadata {
                // Keys answered by UIDs and the text index alone (e.g. TEXT): no message rows.
                var matches: [SearchCandidate] = []
                for i in 0..<count where context.matchesIndexOnly(command.key, uid: sel.uids[i], seq: i + 1) {
                    matches.append(
                        SearchCandidate(meta: StoredMessage(id: MessageID(0), mailboxID: sel.id, uid: UID(sel.uids[i])), seq: i + 1)
                    )
                }
                self.writeSearchResult(command, tag: tag, matches: matches, highestModSeq: nil)
                return .ok("search completed")
            }
            let metas = try await account.messages(in: sel.id, uidRanges: [sel.uids[0]...sel.uids[count - 1]])
            var candidates: [SearchCandidate] = []
            candidates.reserveCapacity(metas.count)
            for m in metas {
                guard let i = sel.index(of: m.uid.rawValue), i < count else { continue }
                candidates.append(SearchCandidate(meta: m, seq: i + 1))
            }
            if needs.header || needs.body {
                let files = await account.readMessageFiles(candidates.map(\.meta.id))
                for (c, bytes) in zip(candidates, files) {
                    c.bytes = bytes
                }
            }
            let matches = candidates.filter { context.matches(command.key, $0) }
            self.writeSearchResult(command, tag: tag, matches: matches, highestModSeq: needs.modSeq ? 0 : nil)
            return .ok("search completed")
        } catch {
            return self.storeFailure(error, "search")
        }
    }

    func writeSearchResult(
        _ command: IMAPSearchCommand,
        tag: String,
        matches: [SearchCandidate],
        highestModSeq: Int64?
    ) {
        let numbers = matches.map { command.uid ? $0.meta.uid.rawValue : UInt32($0.seq) }
        var options = command.returnOptions.map { Set($0) }
        if options?.isEmpty == true { options = [.all] }
        // RFC 7162 3.1.5, RFC 4731 3.2: the highest MODSEQ of the messages returned: with only MIN
        // and/or MAX, of those.
        var highestModSeq = highestModSeq
        if highestModSeq != nil {
            var returned = matches
            if let o = options, !o.contains(.all), !o.contains(.count), o.contains(.min) || o.contains(.max) {
                returned = (o.contains(.min) ? Array(matches.prefix(1)) : []) + (o.contains(.max) ? Array(matches.suffix(1)) : [])
            }
            highestModSeq = returned.map(\.meta.modSeq.rawValue).max()
        }
        if let options, options.contains(.save) {
            // RFC 5182 2.4: with only MIN and/or MAX, those are saved.
            let uids = matches.map(\.meta.uid.rawValue)
            if !options.contains(.all) && !options.contains(.count) && (options.contains(.min) || options.contains(.max)) {
                var saved: [UInt32] = []
                if options.contains(.min), let f = uids.first { saved.append(f) }
                if options.contains(.max), let l = uids.last, l != saved.first { saved.append(l) }
                self.savedResult = saved
            } else {
                self.savedResult = uids
            }
            // RFC 5182 2.1: SAVE alone gives no ESEARCH response.
            if options == [.save] { return }
        }
        if options == nil && !self.rev2 {
            // RFC 3501 7.2.5: the IMAP4rev1 SEARCH response.
            var line = "* SEARCH" + numbers.map { " \($0)" }.joined()
            if let highestModSeq, !numbers.isEmpty { line += " (MODSEQ \(highestModSeq))" }
            self.line(line)
            return
        }
        // RFC 4731 3.1, RFC 9051 7.3.4: ESEARCH; an IMAP4rev2 SEARCH without RETURN means ALL.
        let want = options ?? [.all]
        var line = "* ESEARCH (TAG \"\(tag.replacing("\\", with: "\\\\").replacing("\"", with: "\\\""))\")"
        if command.uid { line += " UID" }
        if want.contains(.min), let v = numbers.first { line += " MIN \(v)" }
        if want.contains(.max), let v = numbers.last { line += " MAX \(v)" }
        if want.contains(.count) { line += " COUNT \(numbers.count)" }
        if want.contains(.all), !numbers.isEmpty { line += " ALL \(IMAPSequenceSet(numbers: numbers))" }
        if let highestModSeq, !numbers.isEmpty { line += " MODSEQ \(highestModSeq)" }
        self.line(line)
    }
}

/// Evaluates search keys against one message.
struct SearchContext {
    var textHits: [String: Set<UInt32>]
    var maxSeq: UInt32
    var maxUID: UInt32
    var saved: [UInt32]
    var now: Int64
    var recent: Set<UInt32>

    func matches(_ key: IMAPSearchKey, _ c: SearchCandidate) -> Bool {
        let m = c.meta
        switch key {
        case .all: return true
        case .answered: return m.flags.contains(.answered)
        case .deleted: return m.flags.contains(.deleted)
        case .draft: return m.flags.contains(.draft)
        case .flagged: return m.flags.contains(.flagged)
        case .seen: return m.flags.contains(.seen)
        case .unanswered: return !m.flags.contains(.answered)
        case .undeleted: return !m.flags.contains(.deleted)
        case .undraft: return !m.flags.contains(.draft)
        case .unflagged: return !m.flags.contains(.flagged)
        case .unseen: return !m.flags.contains(.seen)
        // RFC 3501 6.4.4: NEW is RECENT UNSEEN; OLD is NOT RECENT.
        case .new: return self.recent.contains(m.uid.rawValue) && !m.flags.contains(.seen)
        case .recent: return self.recent.contains(m.uid.rawValue)
        case .old: return !self.recent.contains(m.uid.rawValue)
        case .keyword(let k): return Self.hasKeyword(m, k)
        case .unkeyword(let k): return !Self.hasKeyword(m, k)
        case .bcc(let s): return self.headerContains(c, "bcc", s)
        case .cc(let s): return self.headerContains(c, "cc", s)
        case .from(let s): return self.headerContains(c, "from", s)
        case .to(let s): return self.headerContains(c, "to", s)
        case .subject(let s): return self.headerContains(c, "subject", s)
        case .header(let field, let value):
            // RFC 9051 6.4.4: an empty string matches every message that has the field.
            if value.isEmpty { return !c.header.fields(named: field).isEmpty }
            return self.headerContains(c, field, value)
        case .body(let s):
            guard self.textHits[s]?.contains(m.uid.rawValue) == true else { return false }
            return c.lowerBodyText.contains(s.lowercased())
        case .text(let s):
            return self.textHits[s]?.contains(m.uid.rawValue) == true
        // RFC 9051 6.4.4: internal date, disregarding time and timezone (taken as UTC).
        case .before(let d): return Self.day(m.received) < Self.day(d)
        case .on(let d): return Self.day(m.received) == Self.day(d)
        case .since(let d): return Self.day(m.received) >= Self.day(d)
        case .sentBefore(let d): return self.sentDay(c).map { $0 < Self.day(d) } ?? false
        case .sentOn(let d): return self.sentDay(c).map { $0 == Self.day(d) } ?? false
        case .sentSince(let d): return self.sentDay(c).map { $0 >= Self.day(d) } ?? false
        // RFC 8514 5: messages without a known save date do not match.
        case .savedBefore(let d): return m.saveDate.map { Self.day($0) < Self.day(d) } ?? false
        case .savedOn(let d): return m.saveDate.map { Self.day($0) == Self.day(d) } ?? false
        case .savedSince(let d): return m.saveDate.map { Self.day($0) >= Self.day(d) } ?? false
        case .savedDateSupported: return true
        case .larger(let n): return m.size > Int64(clamping: n)
        case .smaller(let n): return m.size < Int64(clamping: n)
        // RFC 5032 3
        case .older(let s): return m.received <= self.now - Int64(s)
        case .younger(let s): return m.received >= self.now - Int64(s)
        case .uid(let set):
            if case .searchResult = set { return self.saved.contains(m.uid.rawValue) }
            return set.contains(m.uid.rawValue, max: self.maxUID)
        case .sequenceSet(let set):
            if case .searchResult = set { return self.saved.contains(m.uid.rawValue) }
            return set.contains(UInt32(c.seq), max: self.maxSeq)
        case .modSeq(let v): return m.modSeq.rawValue >= Int64(clamping: v)
        case .not(let k): return !self.matches(k, c)
        case .or(let a, let b): return self.matches(a, c) || self.matches(b, c)
        case .and(let keys): return keys.allSatisfy { self.matches($0, c) }
        }
    }

    /// `matches` for keys that need only the UID, the sequence number and the text index (see
    /// `SearchNeeds.metadata`).
    func matchesIndexOnly(_ key: IMAPSearchKey, uid: UInt32, seq: Int) -> Bool {
        switch key {
        case .all: return true
        case .text(let s): return self.textHits[s]?.contains(uid) == true
        case .uid(let set):
            if case .searchResult = set { return self.saved.contains(uid) }
            return set.contains(uid, max: self.maxUID)
        case .sequenceSet(let set):
            if case .searchResult = set { return self.saved.contains(uid) }
            return set.contains(UInt32(seq), max: self.maxSeq)
        case .not(let k): return !self.matchesIndexOnly(k, uid: uid, seq: seq)
        case .or(let a, let b): return self.matchesIndexOnly(a, uid: uid, seq: seq) || self.matchesIndexOnly(b, uid: uid, seq: seq)
        case .and(let keys): return keys.allSatisfy { self.matchesIndexOnly($0, uid: uid, seq: seq) }
        default: return false
        }
    }

    static func hasKeyword(_ m: StoredMessage, _ k: String) -> Bool {
        switch k.lowercased() {
        case "$forwarded": return m.flags.contains(.forwarded)
        case "$junk": return m.flags.contains(.junk)
        case "$notjunk": return m.flags.contains(.notJunk)
        case "$phishing": return m.flags.contains(.phishing)
        case "$mdnsent": return m.flags.contains(.mdnSent)
        default: return m.keywords.contains(k.lowercased())
        }
    }

    /// RFC 9051 6.4.4: a case-insensitive substring of the field's value, raw or decoded.
    /// For address fields also in their parsed form, "Name <local@domain>", so comments and
    /// spaces inside an address do not hide it.
    func headerContains(_ c: SearchCandidate, _ name: String, _ s: String) -> Bool {
        let needle = s.lowercased()
        let header = c.header
        let isAddressField = ["from", "to", "cc", "bcc", "sender", "reply-to"].contains(name.lowercased())
        for field in header.fields(named: name) {
            let raw = header.value(of: field)
            if raw.lowercased().contains(needle) { return true }
            if EncodedWords.decode(raw).lowercased().contains(needle) { return true }
            if isAddressField {
                for m in AddressList.mailboxes(raw) {
                    let text = (m.name.isEmpty ? "" : m.name + " ") + "<" + m.localpart + "@" + m.domain + ">"
                    if text.lowercased().contains(needle) { return true }
                }
            }
        }
        return false
    }

    func sentDay(_ c: SearchCandidate) -> Int64? {
        guard let value = c.header.first("date"), let date = MessageDate(parsing: value) else { return nil }
        return Self.day(year: date.year, month: date.month, day: date.day)
    }

    static func day(_ t: Int64) -> Int64 {
        t >= 0 ? t / 86400 : (t - 86399) / 86400
    }

    static func day(_ d: IMAPDate) -> Int64 {
        Self.day(year: d.year, month: d.month, day: d.day)
    }

    /// Days since 1970 of a civil date.
    static func day(year: Int, month: Int, day: Int) -> Int64 {
        let y = Int64(month <= 2 ? year - 1 : year)
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let m = Int64(month)
        let doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + Int64(day) - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }
}
