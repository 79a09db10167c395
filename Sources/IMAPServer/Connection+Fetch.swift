// FETCH and UID FETCH: every data item of RFC 9051 6.4.5, BINARY (RFC 3516), MODSEQ and
// CHANGEDSINCE (RFC 7162), PREVIEW (RFC 8970). Metadata comes from the database; message files
// are read only for the items that need them, many at a time.

import IMAPProtocol
import MailMessage
import MailStore

extension IMAPConnection {
    func fetch(_ command: IMAPFetchCommand) async -> Completion {
        guard let sel = self.selected, let account = self.account else { return .bad("no mailbox selected") }
        if let refusal = sel.sequenceRefusal(command.set, uid: command.uid) { return refusal }
        let attributes = command.attributes
        if command.changedSince != nil || attributes.contains(.modSeq) {
            // RFC 7162 3.1: a CONDSTORE-enabling command.
            await self.enableCondstore()
        }
        if command.vanished {
            // RFC 7162 3.2.6: VANISHED (EARLIER) for the set's messages expunged since CHANGEDSINCE.
            guard self.qresync else { return .bad("VANISHED needs QRESYNC, which is not enabled") }
            let since = ModSeq(Int64(clamping: command.changedSince ?? 0))
            let last = sel.uids.last ?? 0
            if let vanished = try? await account.changes(in: sel.id, since: since).vanished.map(\.rawValue) {
                // Messages still in the session's view get their VANISHED when it takes their
                // expunge; telling the client twice would shift its sequence numbers.
                let inSet = vanished.filter { command.set.contains($0, max: max(last, $0)) && sel.index(of: $0) == nil }
                if !inSet.isEmpty {
                    self.line("* VANISHED (EARLIER) \(IMAPSequenceSet(numbers: inSet))")
                }
            }
        }
        let indexes = sel.indexes(command.set, uid: command.uid, saved: self.savedResult)
        guard !indexes.isEmpty else { return .ok("fetch completed") }
        // ENVELOPE and BODYSTRUCTURE come from the stored structures when that is all the files
        // would be needed for.
        let onlyCached = attributes.allSatisfy {
            switch $0 {
            case .envelope, .bodyStructure, .flags, .uid, .internalDate, .rfc822Size, .modSeq, .saveDate: return true
            default: return false
            }
        }
        let useStructures = onlyCached && !self.utf8Accept
        var messages: [StoredMessage]
        var structures: [MessageStructure?] = []
        var prefixes = MessagePrefixes()
        do {
            (messages, structures, prefixes) = try await account.fetchRows(
                in: sel.id,
                uidRanges: sel.uidRanges(indexes),
                envelopes: useStructures && attributes.contains(.envelope),
                bodyStructures: useStructures && attributes.contains(.bodyStructure),
                changedSince: command.changedSince.map { Int64(clamping: $0) }
            )
        } catch {
            return self.storeFailure(error, "fetch")
        }
        var needsFile = false
        var needsParse = false
        var setsSeen = false
        for a in attributes {
            switch a {
            case .envelope:
                needsFile = true
            case .body, .bodyStructure, .preview, .binary, .binarySize:
                needsFile = true
                needsParse = true
                if case .binary = a { self.outputHasMessageData = true }
            case .rfc822, .rfc822Header, .rfc822Text:
                needsFile = true
                self.outputHasMessageData = true
            case .bodySection(let section, _, _):
                needsFile = true
                self.outputHasMessageData = true
                if !section.part.isEmpty || section.text != nil { needsParse = true }
            case .flags, .uid, .internalDate, .rfc822Size, .modSeq, .saveDate:
                break
            }
            switch a {
            case .bodySection(_, _, let peek), .binary(_, _, let peek):
                if !peek { setsSeen = true }
            case .rfc822, .rfc822Text:
                setsSeen = true
            default:
                break
            }
        }
        // RFC 9051 6.4.5: BODY[...] without PEEK sets \Seen, and the new flags are reported.
        var seenChanged = Set<UInt32>()
        if setsSeen && !sel.readOnly {
            let unseen = messages.filter { !$0.flags.contains(.seen) }
            if !unseen.isEmpty {
                do {
                    let changed = try await account.setFlags(in: sel.id, uids: unseen.map(\.uid), .add(.seen))
                    var byUID: [UInt32: MessageFlagsEntry] = [:]
                    for c in changed { byUID[c.uid.rawValue] = c }
                    for k in messages.indices {
                        if let c = byUID[messages[k].uid.rawValue] {
                            messages[k].flags = c.flags
                            messages[k].modSeq = c.modSeq
                            seenChanged.insert(c.uid.rawValue)
                        }
                    }
                    // This FETCH shows every message it changed: the change's events are not shown again.
                    if let own = changed.first?.modSeq {
                        self.selected?.noteOwnFlagChange(own.rawValue, changed.map(\.uid.rawValue))
                    }
                } catch {
                    return self.storeFailure(error, "fetch")
                }
            }
        }
        var failed: Completion?
        // RFC 9051 6.4.8: UID FETCH always returns UID, and so does every FETCH with QRESYNC
        // (RFC 7162 3.2.4); RFC 9586 3.3: a UIDFETCH response carries the UID as its number.
        var items = attributes
        if (command.uid || self.qresync) && !items.contains(.uid) { items.insert(.uid, at: 0) }
        if self.uidOnly { items.removeAll { $0 == .uid } }
        if self.condstore && command.changedSince != nil && !items.contains(.modSeq) { items.append(.modSeq) }
        // Flags changed by the fetch are reported, with their MODSEQ under CONDSTORE.
        var itemsWithFlags = items
        if !itemsWithFlags.contains(.flags) { itemsWithFlags.append(.flags) }
        if self.condstore && !itemsWithFlags.contains(.modSeq) { itemsWithFlags.append(.modSeq) }
        // Files are read a chunk ahead, while the previous chunk is encoded and sent.
        let rows = messages
        let stored = structures
        let knownPrefixes = prefixes
        // `structures` is aligned with `rows`, or empty when no structure was asked for.
        func structure(_ j: Int) -> MessageStructure? { stored.isEmpty ? nil : stored[j] }
        let chunkSize = 256
        let chunks = stride(from: 0, to: rows.count, by: chunkSize).map { $0..<min(rows.count, $0 + chunkSize) }
        func startReading(_ k: Int) -> Task<[[UInt8]?], Never>? {
            guard needsFile, k < chunks.count else { return nil }
            let wanted = chunks[k].filter { structure($0) == nil }
            guard !wanted.isEmpty else { return nil }
            let ids = wanted.map { rows[$0].id }
            let sizes = wanted.map { rows[$0].size }
            return Task { await account.readMessageFiles(ids, sizes: sizes, prefixes: knownPrefixes) }
        }
        // Rows and the view are both in UID order: one walk finds each message's number.
        let view = sel.uids
        var position = 0
        var nextRead = startReading(0)
        for k in chunks.indices {
            let reading = nextRead
            nextRead = startReading(k + 1)
            // One entry per row of the chunk without a stored structure, in order.
            let read: [[UInt8]?] = await reading?.value ?? []
            var nextFile = 0
            for j in chunks[k] {
                let m = rows[j]
                let structure = structure(j)
                var bytes: [UInt8] = []
                var missing = false
                if needsFile && structure == nil {
                    // nil: gone meanwhile, expunged by another session; its EXPUNGE comes later.
                    if let b = read[nextFile] { bytes = b } else { missing = true }
                    nextFile += 1
                }
                let uid = m.uid.rawValue
                guard SelectedMailbox.seek(uid, in: view, from: &position), !missing else { continue }
                let message = needsParse && structure == nil ? Message(parsing: bytes) : nil
                let addFlags = !seenChanged.isEmpty && seenChanged.contains(uid)
                if let error = self.writeFetch(
                    seq: position + 1,
                    m,
                    bytes,
                    message,
                    structure: structure,
                    items: addFlags ? itemsWithFlags : items,
                    addFlags: addFlags
                ) {
                    failed = error
                }
            }
            await self.flushIfLarge()
        }
        return failed ?? .ok("fetch completed")
    }

    /// One FETCH response; returns a completion when an item could not be given.
    func writeFetch(
        seq: Int,
        _ m: StoredMessage,
        _ bytes: [UInt8],
        _ message: Message?,
        structure: MessageStructure?,
        items attributes: [IMAPFetchAttribute],
        addFlags: Bool
    ) -> Completion? {
        var failure: Completion?
        if addFlags || attributes.contains(.flags) {
            if !m.keywords.isEmpty, var sel = self.selected {
                self.announceKeywords(m.keywords, &sel)
                self.selected = sel
            }
            // The client now knows this state: older change events for it must not follow.
            // (Mutated in place: a copy of the view per message would cost quadratic time.)
            self.selected?.noteReported(m.uid.rawValue, m.modSeq.rawValue)
        }
        let recent = self.selected?.isRecent(m.uid.rawValue) ?? false
        // The encoder is moved out while this response is written: the connection's property
        // would be checked for exclusive access at every one of the many small writes.
        var out = self.out
        self.out = IMAPResponseEncoder()
        defer { self.out = out }
        self.writeFetchStart(&out, seq: seq, uid: m.uid.rawValue)
        var first = true
        func itemText(_ name: String) {
            if !first { out.bytes.append(UInt8(ascii: " ")) }
            first = false
            out.write(name)
        }
        // The fixed item names, copied as they are in the binary.
        func item(_ name: StaticString) {
            if !first { out.bytes.append(UInt8(ascii: " ")) }
            first = false
            out.bytes.append(contentsOf: UnsafeBufferPointer(start: name.utf8Start, count: name.utf8CodeUnitCount))
        }
        for a in attributes {
            switch a {
            case .uid:
                item("UID ")
                out.writeNumber(m.uid.rawValue)
            case .flags:
                item("FLAGS (")
                out.write(self.flagNames(m.flags, m.keywords, recent: recent))
                out.bytes.append(UInt8(ascii: ")"))
            case .internalDate:
                item("INTERNALDATE ")
                out.writeDateTime(Self.dateTime(m.received))
            case .rfc822Size:
                item("RFC822.SIZE ")
                out.writeNumber(m.size)
            case .modSeq:
                item("MODSEQ (")
                out.writeNumber(m.modSeq.rawValue)
                out.bytes.append(UInt8(ascii: ")"))
            case .saveDate:
                // RFC 8514 4: NIL where the save date is not known (messages stored before it was kept).
                if let saved = m.saveDate {
                    item("SAVEDATE ")
                    out.writeDateTime(Self.dateTime(saved))
                } else {
                    item("SAVEDATE NIL")
                }
            case .envelope:
                item("ENVELOPE ")
                if let structure {
                    out.bytes += structure.envelope
                    continue
                }
                let header = message?.header ?? Header(parsing: bytes)
                MessageEncoding.writeEnvelope(Envelope(header: header), into: &out)
            case .body:
                item("BODY ")
                MessageEncoding.writeBody(BodyStructure((message ?? Message(parsing: bytes)).root), extended: false, into: &out)
            case .bodyStructure:
                item("BODYSTRUCTURE ")
                if let structure {
                    out.bytes += structure.bodyStructure
                    continue
                }
                MessageEncoding.writeBody(BodyStructure((message ?? Message(parsing: bytes)).root), extended: true, into: &out)
            case .rfc822:
                item("RFC822 ")
                Self.writeLiteral(&out, bytes[...])
            case .rfc822Header:
                item("RFC822.HEADER ")
                Self.writeLiteral(&out, bytes[0..<Self.headerEnd(bytes)])
            case .rfc822Text:
                item("RFC822.TEXT ")
                Self.writeLiteral(&out, bytes[Self.headerEnd(bytes)...])
            case .preview:
                item("PREVIEW ")
                out.writeNstring(Self.preview(message ?? Message(parsing: bytes)))
            case .bodySection(let section, let partial, _):
                let spec = "BODY[\(MessageEncoding.sectionSpec(section))]" + (partial.map { "<\($0.offset)>" } ?? "")
                itemText(spec + " ")
                if section.part.isEmpty && section.text == nil {
                    Self.writeLiteral(&out, MessageEncoding.apply(partial, to: bytes[...]))
                } else if let message {
                    do {
                        let data = try MessageEncoding.section(section, of: message)
                        Self.writeLiteral(&out, MessageEncoding.apply(partial, to: data))
                    } catch {
                        out.write("NIL")
                    }
                }
            case .binary(let part, let partial, _):
                let spec = "BINARY[\(part.map(String.init).joined(separator: "."))]" + (partial.map { "<\($0.offset)>" } ?? "")
                itemText(spec + " ")
                do {
                    let data = try MessageEncoding.binary(part, of: message ?? Message(parsing: bytes))
                    let sliced = MessageEncoding.apply(partial, to: data[...])
                    // RFC 3516 4.2: literal8 when the data holds NUL.
                    if sliced.contains(0) { out.write("~") }
                    Self.writeLiteral(&out, sliced)
                } catch .unknownEncoding {
                    out.write("NIL")
                    failure = .no("unknown content-transfer-encoding", code: "UNKNOWN-CTE")
                } catch {
                    out.write("NIL")
                }
            case .binarySize(let part):
                let spec = "BINARY.SIZE[\(part.map(String.init).joined(separator: "."))]"
                do {
                    let data = try MessageEncoding.binary(part, of: message ?? Message(parsing: bytes))
                    itemText(spec + " \(data.count)")
                } catch .unknownEncoding {
                    itemText(spec + " NIL")
                    failure = .no("unknown content-transfer-encoding", code: "UNKNOWN-CTE")
                } catch {
                    itemText(spec + " 0")
                }
            }
        }
        out.write(")")
        out.writeCRLF()
        return failure
    }

    /// "{n}" CRLF and the bytes.
    static func writeLiteral(_ out: inout IMAPResponseEncoder, _ data: ArraySlice<UInt8>) {
        out.bytes.append(UInt8(ascii: "{"))
        out.writeNumber(data.count)
        out.bytes.append(UInt8(ascii: "}"))
        out.writeCRLF()
        out.bytes.append(contentsOf: data)
    }


    /// Where the body starts: after the header's empty line.
    static func headerEnd(_ bytes: [UInt8]) -> Int {
        var i = 0
        while i < bytes.count {
            if bytes[i] == UInt8(ascii: "\n") {
                if i + 1 < bytes.count, bytes[i + 1] == UInt8(ascii: "\n") { return i + 2 }
                if i + 2 < bytes.count, bytes[i + 1] == UInt8(ascii: "\r"), bytes[i + 2] == UInt8(ascii: "\n") {
                    return i + 3
                }
            }
            i += 1
        }
        return bytes.count
    }

    /// RFC 8970 3: up to 256 characters of the message's text, whitespace runs as one space.
    static func preview(_ message: Message) -> String {
        let text = TextExtraction.text(of: message)
        var out = ""
        var count = 0
        var space = false
        for c in text {
            if c.isWhitespace {
                space = !out.isEmpty
                continue
            }
            if space {
                out.append(" ")
                count += 1
                space = false
            }
            out.append(c)
            count += 1
            if count >= 256 { break }
        }
        return out
    }

    /// An internal date (seconds since 1970) as an IMAP date-time in UTC.
    static func dateTime(_ t: Int64) -> IMAPDateTime {
        let d = MessageDate(unixTime: t)
        return IMAPDateTime(
            date: IMAPDate(year: d.year, month: d.month, day: d.day),
            hour: d.hour,
            minute: d.minute,
            second: d.second,
            zoneMinutes: 0
        )
    }
}
