/// Writing commands back in wire form, for clients and for round-trip tests of the parser
/// (`parse(encode(x)) == x`). Strings are quoted or sent as synchronizing literals as
/// `IMAPResponseEncoder` decides; the result ends in CRLF.
extension IMAPCommand {
    public func encode(into e: inout IMAPResponseEncoder) {
        e.write(self.tag + " ")
        self.kind.encode(into: &e)
        e.writeCRLF()
    }

    /// The command as bytes, with its CRLF.
    public func encoded(utf8Accept: Bool = false) -> [UInt8] {
        var e = IMAPResponseEncoder(utf8Accept: utf8Accept)
        self.encode(into: &e)
        return e.bytes
    }
}

extension IMAPCommandKind {
    func encode(into e: inout IMAPResponseEncoder) {
        switch self {
        case .capability: e.write("CAPABILITY")
        case .noop: e.write("NOOP")
        case .logout: e.write("LOGOUT")
        case .starttls: e.write("STARTTLS")
        case .namespace: e.write("NAMESPACE")
        case .idle: e.write("IDLE")
        case .check: e.write("CHECK")
        case .close: e.write("CLOSE")
        case .unselect: e.write("UNSELECT")
        case .expunge: e.write("EXPUNGE")
        case .authenticate(let mech, let initial):
            e.write("AUTHENTICATE " + mech)
            if let initial { e.write(" " + initial) }
        case .login(let user, let pass):
            e.write("LOGIN ")
            e.writeAstring(user)
            e.write(" ")
            e.writeAstring(pass)
        case .enable(let caps): e.write("ENABLE " + caps.joined(separator: " "))
        case .select(let mailbox, let params), .examine(let mailbox, let params):
            if case .select = self { e.write("SELECT ") } else { e.write("EXAMINE ") }
            e.writeMailbox(mailbox)
            if !params.isEmpty {
                e.write(" (")
                for (i, p) in params.enumerated() {
                    if i > 0 { e.write(" ") }
                    switch p {
                    case .condstore: e.write("CONDSTORE")
                    case .other(let name): e.write(name)
                    case .qresync(let validity, let modseq, let known, let match):
                        e.write("QRESYNC (\(validity) \(modseq)")
                        if let known { e.write(" \(known)") }
                        if let match { e.write(" (\(match.sequenceNumbers) \(match.uids))") }
                        e.write(")")
                    }
                }
                e.write(")")
            }
        case .create(let mailbox, let use):
            e.write("CREATE ")
            e.writeMailbox(mailbox)
            if !use.isEmpty {
                e.write(" (USE ")
                e.writeFlagList(use)
                e.write(")")
            }
        case .delete(let m): Self.mailboxCommand("DELETE", m, &e)
        case .subscribe(let m): Self.mailboxCommand("SUBSCRIBE", m, &e)
        case .unsubscribe(let m): Self.mailboxCommand("UNSUBSCRIBE", m, &e)
        case .getQuotaRoot(let m): Self.mailboxCommand("GETQUOTAROOT", m, &e)
        case .getQuota(let root):
            e.write("GETQUOTA ")
            e.writeAstring(root)
        case .rename(let from, let to):
            Self.mailboxCommand("RENAME", from, &e)
            e.write(" ")
            e.writeMailbox(to)
        case .list(let l):
            e.write("LIST ")
            if !l.selectionOptions.isEmpty { e.write("(" + l.selectionOptions.joined(separator: " ") + ") ") }
            e.writeMailbox(l.reference)
            e.write(" ")
            if l.patterns.count == 1 {
                Self.pattern(l.patterns[0], &e)
            } else {
                e.write("(")
                for (i, p) in l.patterns.enumerated() {
                    if i > 0 { e.write(" ") }
                    Self.pattern(p, &e)
                }
                e.write(")")
            }
            if !l.returnOptions.isEmpty {
                let opts = l.returnOptions.map { o -> String in
                    switch o {
                    case .subscribed: return "SUBSCRIBED"
                    case .children: return "CHILDREN"
                    case .specialUse: return "SPECIAL-USE"
                    case .status(let atts): return "STATUS (" + atts.map(\.rawValue).joined(separator: " ") + ")"
                    case .other(let s): return s
                    }
                }
                e.write(" RETURN (" + opts.joined(separator: " ") + ")")
            }
        case .lsub(let ref, let pattern):
            e.write("LSUB ")
            e.writeMailbox(ref)
            e.write(" ")
            Self.pattern(pattern, &e)
        case .status(let m, let atts):
            Self.mailboxCommand("STATUS", m, &e)
            e.write(" (" + atts.map(\.rawValue).joined(separator: " ") + ")")
        case .append(let m, let messages):
            Self.mailboxCommand("APPEND", m, &e)
            for msg in messages {
                Self.appendMessage(msg, &e)
            }
        case .id(let params):
            e.write("ID ")
            guard let params else {
                e.write("NIL")
                return
            }
            e.write("(")
            for (i, p) in params.enumerated() {
                if i > 0 { e.write(" ") }
                e.writeString(p.key)
                e.write(" ")
                e.writeNstring(p.value)
            }
            e.write(")")
        case .compress(let mech): e.write("COMPRESS " + mech)
        case .replace(let uid, let n, let m, let msg):
            Self.mailboxCommand(uid ? "UID REPLACE \(n)" : "REPLACE \(n)", m, &e)
            Self.appendMessage(msg, &e)
        case .getMetadata(let m, let options, let entries):
            e.write("GETMETADATA ")
            var opts: [String] = []
            if let max = options.maxSize { opts.append("MAXSIZE \(max)") }
            switch options.depth {
            case nil: break
            case .zero: opts.append("DEPTH 0")
            case .one: opts.append("DEPTH 1")
            case .infinity: opts.append("DEPTH infinity")
            }
            if !opts.isEmpty { e.write("(" + opts.joined(separator: " ") + ") ") }
            Self.metadataMailbox(m, &e)
            e.write(" (")
            for (i, entry) in entries.enumerated() {
                if i > 0 { e.write(" ") }
                e.writeAstring(entry)
            }
            e.write(")")
        case .setMetadata(let m, let entries):
            e.write("SETMETADATA ")
            Self.metadataMailbox(m, &e)
            e.write(" (")
            for (i, entry) in entries.enumerated() {
                if i > 0 { e.write(" ") }
                e.writeAstring(entry.name)
                e.write(" ")
                if let v = entry.value {
                    e.writeString(v)
                } else {
                    e.write("NIL")
                }
            }
            e.write(")")
        case .uidExpunge(let set): e.write("UID EXPUNGE \(set)")
        case .copy(let uid, let set, let m), .move(let uid, let set, let m):
            if case .copy = self { e.write(uid ? "UID COPY " : "COPY ") } else { e.write(uid ? "UID MOVE " : "MOVE ") }
            e.write("\(set) ")
            e.writeMailbox(m)
        case .store(let s):
            e.write((s.uid ? "UID STORE " : "STORE ") + "\(s.set) ")
            if let u = s.unchangedSince { e.write("(UNCHANGEDSINCE \(u)) ") }
            switch s.mode {
            case .replace: break
            case .add: e.write("+")
            case .remove: e.write("-")
            }
            e.write(s.silent ? "FLAGS.SILENT " : "FLAGS ")
            e.writeFlagList(s.flags)
        case .search(let s):
            e.write(s.uid ? "UID SEARCH " : "SEARCH ")
            Self.searchProgram(s, &e)
        case .esearch(let sources, let s):
            e.write("ESEARCH ")
            if !sources.isEmpty {
                e.write("IN (")
                for (i, source) in sources.enumerated() {
                    if i > 0 { e.write(" ") }
                    Self.filterMailboxes(source, &e)
                }
                e.write(") ")
            }
            Self.searchProgram(s, &e)
        case .notify(let n):
            guard let n else {
                e.write("NOTIFY NONE")
                return
            }
            e.write(n.status ? "NOTIFY SET STATUS" : "NOTIFY SET")
            for g in n.groups {
                e.write(" (")
                Self.filterMailboxes(g.source, &e)
                if g.events.isEmpty {
                    e.write(" NONE)")
                    continue
                }
                e.write(" (")
                for (i, ev) in g.events.enumerated() {
                    if i > 0 { e.write(" ") }
                    switch ev {
                    case .messageNew(let atts):
                        e.write("MessageNew")
                        if !atts.isEmpty {
                            e.write(" (")
                            for (j, a) in atts.enumerated() {
                                if j > 0 { e.write(" ") }
                                a.encode(into: &e)
                            }
                            e.write(")")
                        }
                    case .messageExpunge: e.write("MessageExpunge")
                    case .flagChange: e.write("FlagChange")
                    case .annotationChange: e.write("AnnotationChange")
                    case .mailboxName: e.write("MailboxName")
                    case .subscriptionChange: e.write("SubscriptionChange")
                    case .mailboxMetadataChange: e.write("MailboxMetadataChange")
                    case .serverMetadataChange: e.write("ServerMetadataChange")
                    case .other(let name): e.write(name)
                    }
                }
                e.write("))")
            }
        case .fetch(let f):
            e.write((f.uid ? "UID FETCH " : "FETCH ") + "\(f.set) (")
            for (i, a) in f.attributes.enumerated() {
                if i > 0 { e.write(" ") }
                a.encode(into: &e)
            }
            e.write(")")
            var mods: [String] = []
            if let c = f.changedSince { mods.append("CHANGEDSINCE \(c)") }
            if f.vanished { mods.append("VANISHED") }
            if !mods.isEmpty { e.write(" (" + mods.joined(separator: " ") + ")") }
        case .unknown(let name): e.write(name)
        }
    }

    private static func filterMailboxes(_ source: IMAPSearchSource, _ e: inout IMAPResponseEncoder) {
        func list(_ name: String, _ l: [String]) {
            e.write(name + " (")
            for (j, m) in l.enumerated() {
                if j > 0 { e.write(" ") }
                e.writeMailbox(m)
            }
            e.write(")")
        }
        switch source {
        case .selected: e.write("selected")
        case .selectedDelayed: e.write("selected-delayed")
        case .inboxes: e.write("inboxes")
        case .personal: e.write("personal")
        case .subscribed: e.write("subscribed")
        case .subtree(let l): list("subtree", l)
        case .subtreeOne(let l): list("subtree-one", l)
        case .mailboxes(let l): list("mailboxes", l)
        }
    }

    /// [RETURN (...) SP] [CHARSET x SP] search-key *(SP search-key)
    private static func searchProgram(_ s: IMAPSearchCommand, _ e: inout IMAPResponseEncoder) {
        if let r = s.returnOptions { e.write("RETURN (" + r.map(\.rawValue).joined(separator: " ") + ") ") }
        if let c = s.charset {
            e.write("CHARSET ")
            e.writeAstring(c)
            e.write(" ")
        }
        if case .and(let keys) = s.key, keys.count > 1 {
            for (i, k) in keys.enumerated() {
                if i > 0 { e.write(" ") }
                k.encode(into: &e)
            }
        } else {
            s.key.encode(into: &e)
        }
    }

    /// SP [flag-list SP] [date-time SP] literal, or the RFC 6855 UTF8 form.
    private static func appendMessage(_ msg: IMAPAppendMessage, _ e: inout IMAPResponseEncoder) {
        if !msg.flags.isEmpty {
            e.write(" ")
            e.writeFlagList(msg.flags)
        }
        if let d = msg.internalDate {
            e.write(" ")
            e.writeDateTime(d)
        }
        e.write(msg.utf8 ? " UTF8 (" : " ")
        if msg.binary { e.write("~") }
        e.write("{\(msg.data.count)}")
        e.writeCRLF()
        e.bytes.append(contentsOf: msg.data)
        if msg.utf8 { e.write(")") }
    }

    private static func metadataMailbox(_ m: String, _ e: inout IMAPResponseEncoder) {
        if m.isEmpty {
            e.write("\"\"")
        } else {
            e.writeMailbox(m)
        }
    }

    private static func mailboxCommand(_ name: String, _ mailbox: String, _ e: inout IMAPResponseEncoder) {
        e.write(name + " ")
        e.writeMailbox(mailbox)
    }

    /// A LIST pattern, written like a mailbox name ("%" and "*" make it a quoted string).
    private static func pattern(_ p: String, _ e: inout IMAPResponseEncoder) {
        e.writeMailbox(p)
    }
}

extension IMAPSearchKey {
    func encode(into e: inout IMAPResponseEncoder) {
        func str(_ name: String, _ s: String) {
            e.write(name + " ")
            e.writeAstring(s)
        }
        switch self {
        case .all: e.write("ALL")
        case .answered: e.write("ANSWERED")
        case .deleted: e.write("DELETED")
        case .draft: e.write("DRAFT")
        case .flagged: e.write("FLAGGED")
        case .seen: e.write("SEEN")
        case .unanswered: e.write("UNANSWERED")
        case .undeleted: e.write("UNDELETED")
        case .undraft: e.write("UNDRAFT")
        case .unflagged: e.write("UNFLAGGED")
        case .unseen: e.write("UNSEEN")
        case .new: e.write("NEW")
        case .old: e.write("OLD")
        case .recent: e.write("RECENT")
        case .keyword(let k): e.write("KEYWORD " + k)
        case .unkeyword(let k): e.write("UNKEYWORD " + k)
        case .bcc(let s): str("BCC", s)
        case .cc(let s): str("CC", s)
        case .from(let s): str("FROM", s)
        case .to(let s): str("TO", s)
        case .subject(let s): str("SUBJECT", s)
        case .body(let s): str("BODY", s)
        case .text(let s): str("TEXT", s)
        case .header(let field, let value):
            str("HEADER", field)
            e.write(" ")
            e.writeAstring(value)
        case .before(let d): e.write("BEFORE \(d)")
        case .on(let d): e.write("ON \(d)")
        case .since(let d): e.write("SINCE \(d)")
        case .sentBefore(let d): e.write("SENTBEFORE \(d)")
        case .sentOn(let d): e.write("SENTON \(d)")
        case .sentSince(let d): e.write("SENTSINCE \(d)")
        case .savedBefore(let d): e.write("SAVEDBEFORE \(d)")
        case .savedOn(let d): e.write("SAVEDON \(d)")
        case .savedSince(let d): e.write("SAVEDSINCE \(d)")
        case .savedDateSupported: e.write("SAVEDATESUPPORTED")
        case .larger(let n): e.write("LARGER \(n)")
        case .smaller(let n): e.write("SMALLER \(n)")
        case .older(let n): e.write("OLDER \(n)")
        case .younger(let n): e.write("YOUNGER \(n)")
        case .uid(let set): e.write("UID \(set)")
        case .sequenceSet(let set): e.write(set.description)
        case .modSeq(let n): e.write("MODSEQ \(n)")
        case .not(let k):
            e.write("NOT ")
            k.encode(into: &e)
        case .or(let a, let b):
            e.write("OR ")
            a.encode(into: &e)
            e.write(" ")
            b.encode(into: &e)
        case .and(let keys):
            e.write("(")
            for (i, k) in keys.enumerated() {
                if i > 0 { e.write(" ") }
                k.encode(into: &e)
            }
            e.write(")")
        }
    }
}

extension IMAPFetchAttribute {
    func encode(into e: inout IMAPResponseEncoder) {
        func partial(_ p: IMAPPartial?) -> String { p.map { "<\($0.offset).\($0.length)>" } ?? "" }
        func part(_ p: [UInt32]) -> String { p.map(String.init).joined(separator: ".") }
        switch self {
        case .envelope: e.write("ENVELOPE")
        case .flags: e.write("FLAGS")
        case .internalDate: e.write("INTERNALDATE")
        case .rfc822Size: e.write("RFC822.SIZE")
        case .uid: e.write("UID")
        case .modSeq: e.write("MODSEQ")
        case .saveDate: e.write("SAVEDATE")
        case .rfc822: e.write("RFC822")
        case .rfc822Header: e.write("RFC822.HEADER")
        case .rfc822Text: e.write("RFC822.TEXT")
        case .body: e.write("BODY")
        case .bodyStructure: e.write("BODYSTRUCTURE")
        case .preview(let lazy): e.write(lazy ? "PREVIEW (LAZY)" : "PREVIEW")
        case .binarySize(let p): e.write("BINARY.SIZE[\(part(p))]")
        case .binary(let p, let pr, let peek):
            e.write((peek ? "BINARY.PEEK[" : "BINARY[") + part(p) + "]" + partial(pr))
        case .bodySection(let s, let pr, let peek):
            e.write(peek ? "BODY.PEEK[" : "BODY[")
            e.write(part(s.part))
            if let text = s.text {
                if !s.part.isEmpty { e.write(".") }
                switch text {
                case .header: e.write("HEADER")
                case .text: e.write("TEXT")
                case .mime: e.write("MIME")
                case .headerFields(let f), .headerFieldsNot(let f):
                    if case .headerFields = text { e.write("HEADER.FIELDS (") } else { e.write("HEADER.FIELDS.NOT (") }
                    for (i, name) in f.enumerated() {
                        if i > 0 { e.write(" ") }
                        e.writeAstring(name)
                    }
                    e.write(")")
                }
            }
            e.write("]" + partial(pr))
        }
    }
}
