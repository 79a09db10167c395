extension IMAPCursor {
    /// RFC 9051 9, RFC 4731 3:
    ///
    ///     search = "SEARCH" [search-return-opts] SP search-program
    ///     search-return-opts = SP "RETURN" SP "(" [search-return-opt *(SP search-return-opt)] ")"
    ///     search-program = ["CHARSET" SP charset SP] search-key *(SP search-key)
    mutating func search(uid: Bool) throws(IMAPParseError) -> IMAPSearchCommand {
        try self.space()
        var ret: [IMAPSearchReturnOption]?
        if self.takeWord("RETURN ") {
            ret = try self.list { (p: inout IMAPCursor) throws(IMAPParseError) in
                let o = try p.requiredAtom("return option").uppercased()
                guard let opt = IMAPSearchReturnOption(rawValue: o) else { throw p.error("unknown return option") }
                return opt
            }
            try self.space()
        }
        var charset: String?
        if self.takeWord("CHARSET ") {
            charset = try self.astring("charset").uppercased()
            try self.space()
        }
        var keys = [try self.searchKey()]
        while self.take(UInt8(ascii: " ")) {
            keys.append(try self.searchKey())
        }
        return IMAPSearchCommand(
            uid: uid,
            returnOptions: ret,
            charset: charset,
            key: keys.count == 1 ? keys[0] : .and(keys)
        )
    }

    /// RFC 7377 2:
    ///
    ///     esearch = "ESEARCH" [SP esearch-source-opts] [SP search-return-opts] SP search-program
    ///     esearch-source-opts = "IN" SP "(" source-mbox [SP "(" scope-options ")"] ")"
    ///     source-mbox = filter-mailboxes *(SP filter-mailboxes)
    ///     filter-mailboxes-other = "inboxes" / "personal" / "subscribed" /
    ///                              ("subtree" / "mailboxes" / "subtree-one") SP one-or-more-mailbox
    ///     one-or-more-mailbox = mailbox / "(" mailbox *(SP mailbox) ")"
    mutating func esearch() throws(IMAPParseError) -> IMAPCommandKind {
        var sources: [IMAPSearchSource] = []
        if self.takeWord(" IN (") {
            while true {
                sources.append(try self.filterMailboxes(subtreeOne: true))
                if self.take(UInt8(ascii: ")")) { break }
                try self.space()
                // RFC 7377 2: no scope options are defined; refuse any.
                if self.peek() == UInt8(ascii: "(") { throw self.error("unsupported scope options") }
            }
        }
        return .esearch(sources: sources, try self.search(uid: false))
    }

    /// RFC 7377 2, RFC 5465 8 "filter-mailboxes"; "subtree-one" only in ESEARCH.
    mutating func filterMailboxes(subtreeOne: Bool) throws(IMAPParseError) -> IMAPSearchSource {
        let name = try self.requiredAtom("mailbox filter").lowercased()
        switch name {
        case "selected": return .selected
        case "selected-delayed": return .selectedDelayed
        case "inboxes": return .inboxes
        case "personal": return .personal
        case "subscribed": return .subscribed
        case "subtree", "mailboxes",
            "subtree-one" where subtreeOne || name != "subtree-one":
            try self.space()
            var list: [String]
            if self.peek() == UInt8(ascii: "(") {
                list = try self.list(allowEmpty: false) { (p: inout IMAPCursor) throws(IMAPParseError) in
                    try p.mailbox()
                }
            } else {
                list = [try self.mailbox()]
            }
            switch name {
            case "subtree": return .subtree(list)
            case "subtree-one": return .subtreeOne(list)
            default: return .mailboxes(list)
            }
        default: throw self.error("unknown mailbox filter")
        }
    }

    /// RFC 5465 8:
    ///
    ///     notify = "NOTIFY" SP (notify-set / notify-none)
    ///     notify-set = "SET" [SP "STATUS"] SP event-group *(SP event-group)
    ///     event-group = "(" filter-mailboxes SP events ")"
    ///     events = ("(" event *(SP event) ")") / "NONE"
    ///     message-event = ("MessageNew" [SP "(" fetch-att *(SP fetch-att) ")"]) / "MessageExpunge" /
    ///                     "FlagChange" / "AnnotationChange"
    mutating func notify() throws(IMAPParseError) -> IMAPCommandKind {
        try self.space()
        if self.takeWord("NONE") { return .notify(nil) }
        guard self.takeWord("SET") else { throw self.error("expected SET or NONE") }
        let status = self.takeWord(" STATUS")
        var groups: [IMAPNotifyEventGroup] = []
        while self.take(UInt8(ascii: " ")) {
            try self.expect(UInt8(ascii: "("), "(")
            let source = try self.filterMailboxes(subtreeOne: false)
            try self.space()
            var events: [IMAPNotifyEvent] = []
            if !self.takeWord("NONE") {
                events = try self.list(allowEmpty: false) { (p: inout IMAPCursor) throws(IMAPParseError) in
                    try p.notifyEvent()
                }
            }
            try self.expect(UInt8(ascii: ")"), ")")
            groups.append(IMAPNotifyEventGroup(source: source, events: events))
        }
        guard !groups.isEmpty else { throw self.error("expected event group") }
        return .notify(IMAPNotifyCommand(status: status, groups: groups))
    }

    mutating func notifyEvent() throws(IMAPParseError) -> IMAPNotifyEvent {
        let name = try self.requiredAtom("event")
        switch name.uppercased() {
        case "MESSAGENEW":
            var atts: [IMAPFetchAttribute] = []
            if self.peek() == UInt8(ascii: " "), self.pos + 1 < self.bytes.count,
                self.bytes[self.pos + 1] == UInt8(ascii: "(")
            {
                self.pos += 1
                atts = try self.list(allowEmpty: false) { (p: inout IMAPCursor) throws(IMAPParseError) in
                    try p.fetchAttribute()
                }
            }
            return .messageNew(atts)
        case "MESSAGEEXPUNGE": return .messageExpunge
        case "FLAGCHANGE": return .flagChange
        case "ANNOTATIONCHANGE": return .annotationChange
        case "MAILBOXNAME": return .mailboxName
        case "SUBSCRIPTIONCHANGE": return .subscriptionChange
        case "MAILBOXMETADATACHANGE": return .mailboxMetadataChange
        case "SERVERMETADATACHANGE": return .serverMetadataChange
        default: return .other(name)
        }
    }

    /// RFC 9051 9 "search-key", RFC 7162 3.1.5 (MODSEQ), RFC 5032 (OLDER, YOUNGER), RFC 8514 6
    /// (SAVEDBEFORE, SAVEDON, SAVEDSINCE, SAVEDATESUPPORTED).
    mutating func searchKey() throws(IMAPParseError) -> IMAPSearchKey {
        if self.peek() == UInt8(ascii: "(") {
            // search-key =/ "(" search-key *(SP search-key) ")"
            self.depth += 1
            defer { self.depth -= 1 }
            guard self.depth <= self.options.limits.maxNesting else {
                throw self.error("search keys nested too deeply")
            }
            let keys = try self.list(allowEmpty: false) { (p: inout IMAPCursor) throws(IMAPParseError) in
                try p.searchKey()
            }
            return keys.count == 1 ? keys[0] : .and(keys)
        }
        if let c = self.peek(), isDigit(c) || c == UInt8(ascii: "*") || c == UInt8(ascii: "$") {
            return .sequenceSet(try self.sequenceSet())
        }
        let name = try self.requiredAtom("search key").uppercased()
        switch name {
        case "ALL": return .all
        case "ANSWERED": return .answered
        case "DELETED": return .deleted
        case "DRAFT": return .draft
        case "FLAGGED": return .flagged
        case "SEEN": return .seen
        case "UNANSWERED": return .unanswered
        case "UNDELETED": return .undeleted
        case "UNDRAFT": return .undraft
        case "UNFLAGGED": return .unflagged
        case "UNSEEN": return .unseen
        case "NEW": return .new
        case "OLD": return .old
        case "RECENT": return .recent
        case "KEYWORD", "UNKEYWORD":
            try self.space()
            let k = try self.flag()
            return name == "KEYWORD" ? .keyword(k) : .unkeyword(k)
        case "BCC": return .bcc(try self.spaceAstring())
        case "CC": return .cc(try self.spaceAstring())
        case "FROM": return .from(try self.spaceAstring())
        case "TO": return .to(try self.spaceAstring())
        case "SUBJECT": return .subject(try self.spaceAstring())
        case "BODY": return .body(try self.spaceAstring())
        case "TEXT": return .text(try self.spaceAstring())
        case "HEADER":
            let field = try self.spaceAstring()
            return .header(field: field, value: try self.spaceAstring())
        case "BEFORE": return .before(try self.spaceDate())
        case "ON": return .on(try self.spaceDate())
        case "SINCE": return .since(try self.spaceDate())
        case "SENTBEFORE": return .sentBefore(try self.spaceDate())
        case "SENTON": return .sentOn(try self.spaceDate())
        case "SENTSINCE": return .sentSince(try self.spaceDate())
        case "SAVEDBEFORE": return .savedBefore(try self.spaceDate())
        case "SAVEDON": return .savedOn(try self.spaceDate())
        case "SAVEDSINCE": return .savedSince(try self.spaceDate())
        case "SAVEDATESUPPORTED": return .savedDateSupported
        case "LARGER", "SMALLER":
            try self.space()
            let n = try self.number64("size")
            return name == "LARGER" ? .larger(n) : .smaller(n)
        case "OLDER", "YOUNGER":
            try self.space()
            let n = try self.nzNumber("interval")
            return name == "OLDER" ? .older(n) : .younger(n)
        case "UID":
            try self.space()
            return .uid(try self.sequenceSet())
        case "NOT":
            try self.space()
            return .not(try self.nested())
        case "OR":
            try self.space()
            let a = try self.nested()
            try self.space()
            return .or(a, try self.nested())
        case "MODSEQ":
            // search-modsequence = "MODSEQ" [search-modseq-ext] SP mod-sequence-valzer
            // search-modseq-ext = SP entry-name SP entry-type-req
            try self.space()
            if self.peek() == UInt8(ascii: "\"") {
                _ = try self.quoted()
                try self.space()
                let t = try self.requiredAtom("entry type").lowercased()
                guard ["priv", "shared", "all"].contains(t) else { throw self.error("bad entry type") }
                try self.space()
            }
            return .modSeq(try self.number64("modseq"))
        default:
            throw self.error("unknown search key \(name.prefix(32))")
        }
    }

    private mutating func nested() throws(IMAPParseError) -> IMAPSearchKey {
        self.depth += 1
        defer { self.depth -= 1 }
        guard self.depth <= self.options.limits.maxNesting else { throw self.error("search keys nested too deeply") }
        return try self.searchKey()
    }

    private mutating func spaceAstring() throws(IMAPParseError) -> String {
        try self.space()
        return try self.astring()
    }

    private mutating func spaceDate() throws(IMAPParseError) -> IMAPDate {
        try self.space()
        return try self.date()
    }
}
