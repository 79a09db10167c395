// Commands on mailboxes in the authenticated state: CREATE, DELETE, RENAME, SUBSCRIBE, LIST
// (with LIST-EXTENDED, LIST-STATUS, SPECIAL-USE), LSUB, STATUS and APPEND (with MULTIAPPEND).

import MailSASL
import IMAPProtocol
import MailMessage
import MailSpool
import MailStore

extension IMAPConnection {
    /// Flags as the store keeps them, from a client's flag list; nil names an invalid flag.
    static func parseFlags(_ list: [String]) -> (MessageFlags, [String])? {
        var flags: MessageFlags = []
        var keywords: [String] = []
        for f in list {
            switch f.lowercased() {
            case "\\seen": flags.insert(.seen)
            case "\\answered": flags.insert(.answered)
            case "\\flagged": flags.insert(.flagged)
            case "\\deleted": flags.insert(.deleted)
            case "\\draft": flags.insert(.draft)
            case "\\recent": continue
            default:
                // RFC 9051 2.3.2: other flags starting with "\" are system flags we do not know.
                if f.hasPrefix("\\") { return nil }
                keywords.append(f)
            }
        }
        return (flags, keywords)
    }

    /// The flag list of a message as IMAP shows it.
    static func flagNames(_ flags: MessageFlags, _ keywords: [String]) -> [String] {
        var names: [String] = []
        if flags.contains(.seen) { names.append("\\Seen") }
        if flags.contains(.answered) { names.append("\\Answered") }
        if flags.contains(.flagged) { names.append("\\Flagged") }
        if flags.contains(.deleted) { names.append("\\Deleted") }
        if flags.contains(.draft) { names.append("\\Draft") }
        if flags.contains(.forwarded) { names.append("$Forwarded") }
        if flags.contains(.junk) { names.append("$Junk") }
        if flags.contains(.notJunk) { names.append("$NotJunk") }
        if flags.contains(.phishing) { names.append("$Phishing") }
        if flags.contains(.mdnSent) { names.append("$MDNSent") }
        return names + keywords
    }

    /// RFC 6154 2: special-use attributes.
    static func specialUseAttributes(_ use: SpecialUse) -> [String] {
        var a: [String] = []
        if use.contains(.archive) { a.append("\\Archive") }
        if use.contains(.drafts) { a.append("\\Drafts") }
        if use.contains(.junk) { a.append("\\Junk") }
        if use.contains(.sent) { a.append("\\Sent") }
        if use.contains(.trash) { a.append("\\Trash") }
        return a
    }

    static func specialUse(_ names: [String]) -> SpecialUse? {
        var use: SpecialUse = []
        for n in names {
            switch n.lowercased() {
            case "\\archive": use.insert(.archive)
            case "\\drafts": use.insert(.drafts)
            case "\\junk": use.insert(.junk)
            case "\\sent": use.insert(.sent)
            case "\\trash": use.insert(.trash)
            default: return nil
            }
        }
        return use
    }

    func lookupMailbox(_ name: String) async -> Result<Mailbox, Completion> {
        guard let account = self.account else { return .failure(.bad("not authenticated")) }
        do {
            guard let mailbox = try await account.mailbox(named: name) else {
                return .failure(.no("no such mailbox", code: "NONEXISTENT"))
            }
            return .success(mailbox)
        } catch {
            if error.kind == .invalidName { return .failure(.no("no such mailbox", code: "NONEXISTENT")) }
            return .failure(self.storeFailure(error, "mailbox"))
        }
    }

    // MARK: - CREATE, DELETE, RENAME, SUBSCRIBE

    /// RFC 9051 6.3.4, RFC 6154 3 (USE).
    func create(_ name: String, specialUse: [String]) async -> Completion {
        guard let account = self.account else { return .bad("not authenticated") }
        var name = name
        // RFC 9051 6.3.4: a trailing separator only says the client means to create children.
        if name.hasSuffix("/") { name.removeLast() }
        guard let use = Self.specialUse(specialUse) else {
            return .no("unknown special-use attribute", code: "USEATTR")
        }
        if name.uppercased() == "INBOX" {
            return .no("INBOX exists", code: "ALREADYEXISTS")
        }
        do {
            let box = try await account.createMailbox(name, specialUse: use, subscribe: false)
            self.ownChanges.append { if case .mailboxAdded(let b) = $0 { return b.id == box.id } else { return false } }
            return .ok("create completed")
        } catch {
            return self.storeFailure(error, "create")
        }
    }

    /// RFC 9051 6.3.5
    func delete(_ name: String) async -> Completion {
        guard let account = self.account else { return .bad("not authenticated") }
        let mailbox: Mailbox
        switch await self.lookupMailbox(name) {
        case .success(let m): mailbox = m
        case .failure(let c): return c
        }
        if mailbox.name == "Inbox" { return .no("INBOX cannot be deleted", code: "CANNOT") }
        do {
            try await account.deleteMailbox(mailbox.id)
            self.ownChanges.append { if case .mailboxRemoved(let id, _) = $0 { return id == mailbox.id } else { return false } }
            if self.selected?.id == mailbox.id {
                self.selected = nil
                self.state = .authenticated
            }
            return .ok("delete completed")
        } catch {
            if error.kind == .notAllowed {
                // RFC 9051 6.3.5: a mailbox with inferiors; mox answers the same way.
                return .no("mailbox has children, delete them first", code: "HASCHILDREN")
            }
            return self.storeFailure(error, "delete")
        }
    }

    /// RFC 9051 6.3.6. Renaming INBOX moves its messages to the new mailbox and leaves it empty.
    func rename(_ from: String, _ to: String) async -> Completion {
        guard let account = self.account else { return .bad("not authenticated") }
        let mailbox: Mailbox
        switch await self.lookupMailbox(from) {
        case .success(let m): mailbox = m
        case .failure(let c): return c
        }
        var to = to
        if to.hasSuffix("/") { to.removeLast() }
        do {
            if mailbox.name == "Inbox" {
                let target = try await account.createMailbox(to, subscribe: false)
                self.ownChanges.append { event in
                    switch event {
                    case .mailboxAdded(let b): return b.id == target.id
                    case .messageAdded(let id, _, _, _, _, _): return id == target.id
                    default: return false
                    }
                }
                let uids = try await account.messageFlags(in: mailbox.id).map(\.uid)
                if !uids.isEmpty {
                    try await account.move(from: mailbox.id, uids: uids, to: target.id)
                }
                return .ok("rename completed")
            }
            try await account.renameMailbox(mailbox.id, to: to)
            let old = mailbox.name
            self.ownChanges.append { event in
                guard case .mailboxRenamed(_, let from, _) = event else { return false }
                return from == old || from.hasPrefix(old + "/")
            }
            if self.selected?.id == mailbox.id {
                self.selected?.name = MailboxNames.imap(to)
            }
            return .ok("rename completed")
        } catch {
            return self.storeFailure(error, "rename")
        }
    }

    /// RFC 9051 6.3.7, 6.3.8: a name may be subscribed whether it exists or not.
    func subscribe(_ name: String, _ on: Bool) async -> Completion {
        guard let account = self.account else { return .bad("not authenticated") }
        do {
            try await account.setSubscribed(name, on)
            let stored = MailboxNames.store(name)
            self.ownChanges.append { if case .subscriptionChanged(let n, _) = $0 { return n == stored } else { return false } }
            return .ok(on ? "subscribe completed" : "unsubscribe completed")
        } catch {
            return self.storeFailure(error, on ? "subscribe" : "unsubscribe")
        }
    }

    // MARK: - LIST, LSUB

    /// Whether `name` matches an IMAP LIST pattern: "*" matches anything, "%" anything but the
    /// hierarchy separator (RFC 9051 6.3.9). INBOX matches case-insensitively.
    static func matches(_ name: String, pattern: String) -> Bool {
        var n = Array(name.unicodeScalars)
        var p = Array(pattern.unicodeScalars)
        if name.uppercased() == "INBOX" || name.uppercased().hasPrefix("INBOX/") {
            let pu = pattern.uppercased()
            if pu.hasPrefix("INBOX") {
                n = Array(("INBOX" + name.dropFirst(5)).unicodeScalars)
                p = Array(("INBOX" + pattern.dropFirst(5)).unicodeScalars)
            }
        }
        return Self.match(n[...], p[...])
    }

    private static func match(_ n: ArraySlice<Unicode.Scalar>, _ p: ArraySlice<Unicode.Scalar>) -> Bool {
        guard let first = p.first else { return n.isEmpty }
        switch first {
        case "*":
            let rest = p.dropFirst()
            var i = n.startIndex
            while true {
                if Self.match(n[i...], rest) { return true }
                if i == n.endIndex { return false }
                i += 1
            }
        case "%":
            let rest = p.dropFirst()
            var i = n.startIndex
            while true {
                if Self.match(n[i...], rest) { return true }
                if i == n.endIndex || n[i] == "/" { return false }
                i += 1
            }
        default:
            guard let c = n.first, c == first else { return false }
            return Self.match(n.dropFirst(), p.dropFirst())
        }
    }

    /// RFC 9051 6.3.9 with RFC 5258 (LIST-EXTENDED), RFC 5819 (LIST-STATUS), RFC 6154.
    func list(_ command: IMAPListCommand) async -> Completion {
        guard let account = self.account else { return .bad("not authenticated") }
        let selection = Set(command.selectionOptions.map { $0.uppercased() })
        // RFC 5258 3.1: unknown options are errors; RECURSIVEMATCH needs another selection option.
        if let unknown = selection.first(where: { !["SUBSCRIBED", "REMOTE", "RECURSIVEMATCH", "SPECIAL-USE"].contains($0) }) {
            return .bad("unknown LIST selection option \(unknown)")
        }
        if selection.contains("RECURSIVEMATCH") && selection.subtracting(["RECURSIVEMATCH", "REMOTE"]).isEmpty {
            return .bad("RECURSIVEMATCH needs another selection option")
        }
        var returnSubscribed = selection.contains("SUBSCRIBED")
        var statusAttributes: [IMAPStatusAttribute]?
        for option in command.returnOptions {
            switch option {
            case .subscribed: returnSubscribed = true
            case .status(let attributes): statusAttributes = attributes
            case .children, .specialUse: break
            case .other(let name): return .bad("unknown LIST return option \(name)")
            }
        }
        // RFC 9051 6.3.9: an empty pattern asks for the separator and the root.
        if command.patterns.count == 1, command.patterns[0].isEmpty {
            self.line("* LIST (\\Noselect) \"/\" \"\"")
            return .ok("list completed")
        }
        let mailboxes: [Mailbox]
        let subscribed: Set<String>
        do {
            mailboxes = try await account.mailboxes()
            subscribed = Set(try await account.subscriptions())
        } catch {
            return self.storeFailure(error, "list")
        }
        let patterns = command.patterns.map { pattern -> String in
            // RFC 9051 6.3.9: the reference and the pattern are joined.
            if command.reference.isEmpty || pattern.hasPrefix("/") { return pattern }
            return command.reference.hasSuffix("/") ? command.reference + pattern : command.reference + "/" + pattern
        }
        func hasChildren(_ name: String) -> Bool {
            mailboxes.contains { $0.name.hasPrefix(name + "/") }
        }
        struct Entry {
            var name: String
            var attributes: [String]
            var mailbox: Mailbox?
            var childInfo = false
        }
        var entries: [Entry] = []
        if selection.contains("SUBSCRIBED") {
            // RFC 5258 3.1: subscribed names, existing or not.
            for name in subscribed.sorted() {
                let imapName = MailboxNames.imap(name)
                guard patterns.contains(where: { Self.matches(imapName, pattern: $0) }) else { continue }
                let box = mailboxes.first { $0.name == name }
                var attributes = ["\\Subscribed"]
                if box == nil { attributes.append("\\NonExistent") }
                entries.append(Entry(name: name, attributes: attributes, mailbox: box))
            }
            if selection.contains("RECURSIVEMATCH") {
                // RFC 5258 3.5: parents of matching subscribed children get CHILDINFO.
                for box in mailboxes where !subscribed.contains(box.name) {
                    let imapName = MailboxNames.imap(box.name)
                    guard patterns.contains(where: { Self.matches(imapName, pattern: $0) }) else { continue }
                    // Only for descendants that are not listed themselves.
                    let hidden = subscribed.contains { name in
                        name.hasPrefix(box.name + "/")
                            && !patterns.contains { Self.matches(MailboxNames.imap(name), pattern: $0) }
                    }
                    if hidden {
                        entries.append(Entry(name: box.name, attributes: [], mailbox: box, childInfo: true))
                    }
                }
            }
        } else {
            for box in mailboxes {
                let imapName = MailboxNames.imap(box.name)
                guard patterns.contains(where: { Self.matches(imapName, pattern: $0) }) else { continue }
                if selection.contains("SPECIAL-USE") && box.specialUse.isEmpty { continue }
                var attributes: [String] = []
                if returnSubscribed && subscribed.contains(box.name) { attributes.append("\\Subscribed") }
                entries.append(Entry(name: box.name, attributes: attributes, mailbox: box))
            }
            // A "%" pattern would show a missing parent of matching children as \NonExistent
            // (RFC 9051 6.3.9); every parent exists in this store, so there are none.
        }
        for entry in entries {
            var attributes = entry.attributes
            if entry.mailbox != nil {
                attributes.append(hasChildren(entry.name) ? "\\HasChildren" : "\\HasNoChildren")
            }
            if let box = entry.mailbox {
                attributes += Self.specialUseAttributes(box.specialUse)
            }
            self.out.write("* LIST (" + attributes.joined(separator: " ") + ") \"/\" ")
            self.out.writeMailbox(MailboxNames.imap(entry.name))
            if entry.childInfo {
                self.out.write(" (\"CHILDINFO\" (\"SUBSCRIBED\"))")
            }
            self.out.writeCRLF()
            if let statusAttributes, let box = entry.mailbox {
                self.writeStatus(box, statusAttributes)
            }
        }
        return .ok("list completed")
    }

    /// RFC 3501 6.3.9, kept for IMAP4rev1 clients.
    func lsub(reference: String, pattern: String) async -> Completion {
        guard let account = self.account else { return .bad("not authenticated") }
        do {
            let subscribed = try await account.subscriptions()
            let existing = Set(try await account.mailboxes().map(\.name))
            let full = reference.isEmpty ? pattern : (reference.hasSuffix("/") ? reference : reference + "/") + pattern
            let subscribedSet = Set(subscribed)
            var shown = Set<String>()
            for name in subscribed {
                let imapName = MailboxNames.imap(name)
                if Self.matches(imapName, pattern: full) {
                    guard shown.insert(name).inserted else { continue }
                    self.out.write(existing.contains(name) ? "* LSUB () \"/\" " : "* LSUB (\\Noselect) \"/\" ")
                    self.out.writeMailbox(imapName)
                    self.out.writeCRLF()
                    continue
                }
                // RFC 3501 6.3.9: with "%", a parent of a subscribed mailbox that matches but is
                // not subscribed itself is listed as \Noselect.
                let parts = name.split(separator: "/")
                for i in stride(from: parts.count - 1, through: 1, by: -1) {
                    let parent = parts[0..<i].joined(separator: "/")
                    guard !subscribedSet.contains(parent), Self.matches(MailboxNames.imap(parent), pattern: full) else {
                        continue
                    }
                    if shown.insert(parent).inserted {
                        self.out.write("* LSUB (\\Noselect) \"/\" ")
                        self.out.writeMailbox(MailboxNames.imap(parent))
                        self.out.writeCRLF()
                    }
                    break
                }
            }
            return .ok("lsub completed")
        } catch {
            return self.storeFailure(error, "lsub")
        }
    }

    // MARK: - STATUS

    /// RFC 9051 6.3.11
    func status(_ name: String, _ attributes: [IMAPStatusAttribute]) async -> Completion {
        switch await self.lookupMailbox(name) {
        case .success(let box):
            var recent = 0
            var deletedStorage: Int64 = 0
            if attributes.contains(.recent), let account = self.account {
                recent = (try? await account.unclaimedRecentCount(box.id)) ?? 0
            }
            if attributes.contains(.deletedStorage), let account = self.account {
                deletedStorage = (try? await account.deletedSize(in: box.id)) ?? 0
            }
            self.writeStatus(box, attributes, recent: recent, deletedStorage: deletedStorage)
            return .ok("status completed")
        case .failure(let c):
            return c
        }
    }

    func writeStatus(_ box: Mailbox, _ attributes: [IMAPStatusAttribute], recent: Int = 0, deletedStorage: Int64 = 0) {
        var items: [String] = []
        for a in attributes {
            let value: String
            switch a {
            case .messages: value = "\(box.counts.total + box.counts.deleted)"
            case .uidNext: value = "\(box.uidNext.rawValue)"
            case .uidValidity: value = "\(box.uidValidity)"
            case .unseen: value = "\(box.counts.unseen)"
            case .deleted: value = "\(box.counts.deleted)"
            case .size: value = "\(box.counts.size)"
            case .recent: value = "\(recent)"
            case .highestModSeq: value = "\(box.modSeq.rawValue)"
            case .appendLimit: value = "\(self.options.limits.maxAppendLiteralSize)"
            // RFC 9208 4.4: in units of 1024 octets.
            case .deletedStorage: value = "\((deletedStorage + 1023) / 1024)"
            }
            items.append("\(a.rawValue) \(value)")
        }
        self.out.write("* STATUS ")
        self.out.writeMailbox(MailboxNames.imap(box.name))
        self.out.write(" (" + items.joined(separator: " ") + ")")
        self.out.writeCRLF()
    }

    // MARK: - APPEND

    /// RFC 9051 6.3.12, RFC 3502 (MULTIAPPEND: all or nothing), RFC 4315 (APPENDUID).
    func append(_ name: String, _ messages: [IMAPAppendMessage]) async -> Completion {
        guard let account = self.account, let user = self.user else { return .bad("not authenticated") }
        let mailbox: Mailbox
        switch await self.lookupMailbox(name) {
        case .success(let m): mailbox = m
        case .failure(let c):
            // RFC 9051 6.3.12: TRYCREATE when the mailbox does not exist.
            return c.code == "NONEXISTENT" ? .no("no such mailbox", code: "TRYCREATE") : c
        }
        var parsed: [(MessageFlags, [String], Int64, MessageSource)] = []
        for m in messages {
            guard let (flags, keywords) = Self.parseFlags(m.flags) else {
                return .bad("invalid flag in APPEND")
            }
            let source: MessageSource
            switch self.appendSource(m) {
            case .success(let s): source = s
            case .failure(let refusal): return refusal
            }
            let received = m.internalDate.map(Self.unixTime) ?? Int64(WallClock.seconds())
            parsed.append((flags, keywords, received, source))
        }
        var uids: [UInt32] = []
        let quota = self.backend.quota(account: user.account)
        for (flags, keywords, received, source) in parsed {
            do {
                let delivered = try await self.store(
                    source,
                    in: account,
                    mailbox: mailbox.id,
                    flags: flags,
                    keywords: keywords,
                    received: received,
                    quota: quota
                )
                uids.append(delivered.uid.rawValue)
            } catch {
                // RFC 3502 6: none of the messages is appended when one fails.
                if !uids.isEmpty {
                    _ = try? await account.expunge(in: mailbox.id, uids: uids.map { UID($0) })
                }
                return self.storeFailure(error, "append")
            }
        }
        let set = IMAPSequenceSet(numbers: uids)
        let appended = Set(uids)
        self.ownChanges.append { event in
            guard case .messageAdded(let id, let uid, _, _, _, _) = event else { return false }
            return id == mailbox.id && appended.contains(uid.rawValue)
        }
        // New messages in the selected mailbox are announced with the completion.
        // RFC 5465 5.2: without a FETCH for NOTIFY, the client knows what it appended.
        if self.selected?.id == mailbox.id {
            await self.pushChanges(allowExpunge: true, fetchNew: false)
        }
        return .ok("append completed", code: "APPENDUID \(mailbox.uidValidity) \(set)")
    }

    /// The message of an APPEND or REPLACE: in the frame, or in the file its literal streamed
    /// into. Refused when empty, or with NUL bytes outside a literal8 (RFC 9051 4.3); a binary
    /// (literal8) message has its parts with NULs base64-encoded (see `base64EncodingBinaryParts`).
    func appendSource(_ m: IMAPAppendMessage) -> Result<MessageSource, Completion> {
        if let index = m.streamed {
            guard index < self.streamedLiterals.count else { return .failure(.bad("missing message literal")) }
            let message: SpooledMessage
            do {
                message = try self.streamedLiterals[index].finish()
            } catch {
                return .failure(.no("storing message: \(error)", code: "SERVERBUG"))
            }
            if message.size == 0 { return .failure(.no("empty message", code: "CANNOT")) }
            guard message.scanned.hasNUL else { return .success(.spooled(message, prefix: [])) }
            guard m.binary else { return .failure(.no("message contains NUL bytes", code: "CANNOT")) }
            // Rare: a binary upload with NULs is re-encoded, which needs all of it in memory.
            guard let bytes = try? message.readAll() else { return .failure(.no("reading message", code: "SERVERBUG")) }
            return .success(.bytes(MessageEncoding.base64EncodingBinaryParts(bytes)))
        }
        if m.data.isEmpty {
            return .failure(.no("empty message", code: "CANNOT"))
        }
        if m.data.contains(0) && !m.binary {
            return .failure(.no("message contains NUL bytes", code: "CANNOT"))
        }
        return .success(.bytes(m.binary ? MessageEncoding.base64EncodingBinaryParts(m.data) : m.data))
    }

    /// Stores an appended message durably (APPEND, REPLACE), with its search text and stored
    /// structure (from the scan of a streamed message, or a parse of one in memory), indexed
    /// right away (see `Account.deliver`'s `indexNow`).
    func store(
        _ source: MessageSource,
        in account: Account,
        mailbox: MailboxID,
        flags: MessageFlags,
        keywords: [String],
        received: Int64,
        quota: Int64?
    ) async throws(StoreError) -> Delivered {
        let searchText: String
        let structure: MessageStructure
        switch source {
        case .bytes(let data):
            let parsed = Message(parsing: data)
            searchText = self.backend.searchText(of: parsed)
            structure = IMAPMessageStructure.of(parsed)
        case .spooled(let message, let prefix):
            let scanned = message.scanned.prefixed(with: prefix)
            searchText = scanned.searchText
            structure = IMAPMessageStructure.of(scanned)
        }
        return try await account.deliver(
            source,
            to: mailbox,
            flags: flags,
            keywords: keywords,
            received: received,
            searchText: searchText,
            structure: structure,
            indexNow: true,
            quota: quota
        )
    }

    /// Seconds since 1970 of an IMAP date-time.
    static func unixTime(_ d: IMAPDateTime) -> Int64 {
        SearchContext.day(d.date) * 86400 + Int64(d.hour * 3600 + d.minute * 60 + d.second) - Int64(d.zoneMinutes * 60)
    }
}
