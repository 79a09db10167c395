extension IMAPCursor {
    /// The arguments of command `name` (upper case), after its name.
    mutating func command(_ name: String) throws(IMAPParseError) -> IMAPCommandKind {
        switch name {
        case "CAPABILITY": return .capability
        case "NOOP": return .noop
        case "LOGOUT": return .logout
        case "STARTTLS": return .starttls
        case "NAMESPACE": return .namespace
        case "IDLE": return .idle
        case "CHECK": return .check
        case "CLOSE": return .close
        case "UNSELECT": return .unselect
        case "EXPUNGE": return .expunge
        case "AUTHENTICATE":
            // RFC 9051 9: authenticate = "AUTHENTICATE" SP auth-type [SP initial-resp]
            // initial-resp = (base64 / "=") ; RFC 4959
            try self.space()
            let mech = try self.requiredAtom("mechanism").uppercased()
            var initial: String?
            if self.take(UInt8(ascii: " ")) {
                let start = self.pos
                while let c = self.peek(), isBase64Char(c) {
                    self.pos += 1
                }
                guard self.pos > start else { throw self.error("bad initial response") }
                initial = String(decoding: self.bytes[start..<self.pos], as: UTF8.self)
            }
            return .authenticate(mechanism: mech, initialResponse: initial)
        case "LOGIN":
            // RFC 9051 9: login = "LOGIN" SP userid SP password
            try self.space()
            let user = try self.astring("user name")
            try self.space()
            let pass = try self.astring("password")
            return .login(username: user, password: pass)
        case "ENABLE":
            // RFC 5161 3.1: enable = "ENABLE" 1*(SP capability)
            var caps: [String] = []
            while self.take(UInt8(ascii: " ")) {
                caps.append(try self.requiredAtom("capability").uppercased())
            }
            guard !caps.isEmpty else { throw self.error("expected capability") }
            return .enable(caps)
        case "SELECT", "EXAMINE":
            // RFC 9051 9: select = "SELECT" SP mailbox [select-params]
            try self.space()
            let mailbox = try self.mailbox()
            var params: [IMAPSelectParameter] = []
            if self.take(UInt8(ascii: " ")) {
                params = try self.list(allowEmpty: false) { (p: inout IMAPCursor) throws(IMAPParseError) in
                    try p.selectParameter()
                }
            }
            return name == "SELECT"
                ? .select(mailbox: mailbox, parameters: params) : .examine(mailbox: mailbox, parameters: params)
        case "CREATE":
            // RFC 6154 3: create-param = "USE" SP "(" [use-attr *(SP use-attr)] ")"
            try self.space()
            let mailbox = try self.mailbox()
            var use: [String] = []
            if self.take(UInt8(ascii: " ")) {
                try self.expect(UInt8(ascii: "("), "(")
                guard self.takeWord("USE ") else { throw self.error("unknown CREATE parameter") }
                use = try self.flagList()
                try self.expect(UInt8(ascii: ")"), ")")
            }
            return .create(mailbox: mailbox, specialUse: use)
        case "DELETE": return .delete(mailbox: try self.spaceMailbox())
        case "SUBSCRIBE": return .subscribe(mailbox: try self.spaceMailbox())
        case "UNSUBSCRIBE": return .unsubscribe(mailbox: try self.spaceMailbox())
        case "GETQUOTAROOT": return .getQuotaRoot(mailbox: try self.spaceMailbox())
        case "GETQUOTA":
            try self.space()
            return .getQuota(root: try self.astring("quota root"))
        case "RENAME":
            let from = try self.spaceMailbox()
            return .rename(from: from, to: try self.spaceMailbox())
        case "LIST": return .list(try self.listCommand())
        case "LSUB":
            try self.space()
            let ref = try self.mailboxReference()
            try self.space()
            return .lsub(reference: ref, pattern: try self.listMailbox())
        case "STATUS":
            // RFC 9051 9: status = "STATUS" SP mailbox SP "(" status-att *(SP status-att) ")"
            let mailbox = try self.spaceMailbox()
            try self.space()
            return .status(mailbox: mailbox, attributes: try self.statusAttributes())
        case "APPEND": return try self.append()
        case "REPLACE": return try self.replace(uid: false)
        case "GETMETADATA": return try self.getMetadata()
        case "SETMETADATA": return try self.setMetadata()
        case "ID":
            // RFC 2971 4: id = "ID" SP id-params-list ; id-params-list = "(" *(string SP nstring) ")" / nil
            try self.space()
            if self.takeWord("NIL") { return .id(nil) }
            let params = try self.list { (p: inout IMAPCursor) throws(IMAPParseError) in
                let key = try p.string()
                try p.space()
                return IMAPIDParameter(key, try p.nstring())
            }
            return .id(params)
        case "COMPRESS":
            // RFC 4978 3: compress = "COMPRESS" SP algorithm
            try self.space()
            return .compress(mechanism: try self.requiredAtom("algorithm").uppercased())
        case "UID":
            try self.space()
            let sub = self.atomUpper()
            switch sub {
            case "FETCH": return .fetch(try self.fetch(uid: true))
            case "SEARCH": return .search(try self.search(uid: true))
            case "STORE": return .store(try self.store(uid: true))
            case "COPY", "MOVE":
                let (set, mailbox) = try self.setAndMailbox()
                return sub == "COPY"
                    ? .copy(uid: true, set: set, mailbox: mailbox) : .move(uid: true, set: set, mailbox: mailbox)
            case "REPLACE": return try self.replace(uid: true)
            case "EXPUNGE":
                try self.space()
                return .uidExpunge(try self.sequenceSet())
            default: throw self.error("unknown UID command")
            }
        case "FETCH": return .fetch(try self.fetch(uid: false))
        case "SEARCH": return .search(try self.search(uid: false))
        case "ESEARCH": return try self.esearch()
        case "NOTIFY": return try self.notify()
        case "STORE": return .store(try self.store(uid: false))
        case "COPY", "MOVE":
            let (set, mailbox) = try self.setAndMailbox()
            return name == "COPY"
                ? .copy(uid: false, set: set, mailbox: mailbox) : .move(uid: false, set: set, mailbox: mailbox)
        default:
            // Skip the rest of an unknown command; it is answered with BAD.
            self.line = self.lines.count - 1
            self.pos = self.bytes.count
            return .unknown(String(name.prefix(32)))
        }
    }

    mutating func spaceMailbox() throws(IMAPParseError) -> String {
        try self.space()
        return try self.mailbox()
    }

    mutating func setAndMailbox() throws(IMAPParseError) -> (IMAPSequenceSet, String) {
        try self.space()
        let set = try self.sequenceSet()
        return (set, try self.spaceMailbox())
    }

    /// RFC 7162 3.1.8, 3.2.5:
    ///
    ///     select-param = "CONDSTORE" / "QRESYNC" SP "(" uidvalidity SP mod-sequence-value
    ///                    [SP known-uids] [SP seq-match-data] ")"
    ///     seq-match-data = "(" known-sequence-set SP known-uid-set ")"
    mutating func selectParameter() throws(IMAPParseError) -> IMAPSelectParameter {
        let name = try self.requiredAtom("select parameter").uppercased()
        switch name {
        case "CONDSTORE": return .condstore
        case "QRESYNC":
            try self.space()
            try self.expect(UInt8(ascii: "("), "(")
            let validity = try self.nzNumber("uidvalidity")
            try self.space()
            let modseq = try self.number64("modseq")
            var known: IMAPSequenceSet?
            var match: IMAPQResyncSequenceMatch?
            if self.take(UInt8(ascii: " ")) {
                if self.peek() != UInt8(ascii: "(") {
                    known = try self.sequenceSet()
                    if self.take(UInt8(ascii: " ")) {
                        match = try self.sequenceMatch()
                    }
                } else {
                    match = try self.sequenceMatch()
                }
            }
            try self.expect(UInt8(ascii: ")"), ")")
            return .qresync(uidValidity: validity, modSeq: modseq, knownUIDs: known, sequenceMatch: match)
        default:
            return .other(name)
        }
    }

    mutating func sequenceMatch() throws(IMAPParseError) -> IMAPQResyncSequenceMatch {
        try self.expect(UInt8(ascii: "("), "(")
        let seqs = try self.sequenceSet()
        try self.space()
        let uids = try self.sequenceSet()
        try self.expect(UInt8(ascii: ")"), ")")
        return IMAPQResyncSequenceMatch(sequenceNumbers: seqs, uids: uids)
    }

    ///     mailbox (as a LIST reference, may be empty)
    mutating func mailboxReference() throws(IMAPParseError) -> String {
        let s = try self.astring("reference")
        if !self.options.utf8Accept, self.options.decodeModifiedUTF7, let d = try? ModifiedUTF7.decode(s) {
            return d
        }
        return s
    }

    /// RFC 9051 9, RFC 5258 6:
    ///
    ///     list = "LIST" [SP list-select-opts] SP mailbox SP mbox-or-pat [SP list-return-opts]
    ///     list-select-opts = "(" [list-select-opt *(SP list-select-opt)] ")"
    ///     mbox-or-pat = list-mailbox / patterns ; patterns = "(" list-mailbox *(SP list-mailbox) ")"
    ///     list-return-opts = "RETURN" SP "(" [return-option *(SP return-option)] ")"
    mutating func listCommand() throws(IMAPParseError) -> IMAPListCommand {
        try self.space()
        var selection: [String] = []
        if self.peek() == UInt8(ascii: "(") {
            selection = try self.list { (p: inout IMAPCursor) throws(IMAPParseError) in
                try p.requiredAtom("selection option").uppercased()
            }
            try self.space()
        }
        let ref = try self.mailboxReference()
        try self.space()
        var patterns: [String]
        if self.peek() == UInt8(ascii: "(") {
            patterns = try self.list(allowEmpty: false) { (p: inout IMAPCursor) throws(IMAPParseError) in
                try p.listMailbox()
            }
        } else {
            patterns = [try self.listMailbox()]
        }
        var ret: [IMAPListReturnOption] = []
        if self.take(UInt8(ascii: " ")) {
            guard self.takeWord("RETURN ") else { throw self.error("expected RETURN") }
            ret = try self.list { (p: inout IMAPCursor) throws(IMAPParseError) in
                let o = try p.requiredAtom("return option").uppercased()
                switch o {
                case "SUBSCRIBED": return .subscribed
                case "CHILDREN": return .children
                case "SPECIAL-USE": return .specialUse
                case "STATUS":
                    // RFC 5819 2
                    try p.space()
                    return .status(try p.statusAttributes())
                default: return .other(o)
                }
            }
        }
        return IMAPListCommand(selectionOptions: selection, reference: ref, patterns: patterns, returnOptions: ret)
    }

    mutating func statusAttributes() throws(IMAPParseError) -> [IMAPStatusAttribute] {
        try self.list(allowEmpty: false) { (p: inout IMAPCursor) throws(IMAPParseError) in
            let a = try p.requiredAtom("status attribute").uppercased()
            guard let att = IMAPStatusAttribute(rawValue: a) else { throw p.error("unknown status attribute") }
            return att
        }
    }

    /// RFC 9051 9, RFC 3502 6, RFC 3516 4.4:
    ///
    ///     append = "APPEND" SP mailbox 1*append-message
    ///     append-message = [SP flag-list] [SP date-time] SP (literal / literal8)
    ///     append-data =/ "UTF8" SP "(" literal8 ")"   ; RFC 6855 4
    mutating func append() throws(IMAPParseError) -> IMAPCommandKind {
        let mailbox = try self.spaceMailbox()
        var messages: [IMAPAppendMessage] = []
        while self.take(UInt8(ascii: " ")) {
            messages.append(try self.appendMessage())
        }
        guard !messages.isEmpty else { throw self.error("expected message literal") }
        return .append(mailbox: mailbox, messages: messages)
    }

    /// One message of APPEND or REPLACE, after its leading space.
    mutating func appendMessage() throws(IMAPParseError) -> IMAPAppendMessage {
        var flags: [String] = []
        var date: IMAPDateTime?
        if self.peek() == UInt8(ascii: "(") {
            flags = try self.flagList()
            try self.space()
        }
        if self.peek() == UInt8(ascii: "\"") {
            date = try self.dateTime()
            try self.space()
        }
        if self.takeWord("UTF8 (") {
            guard self.peek() == UInt8(ascii: "~") else { throw self.error("expected literal8 after UTF8") }
            let (data, _, streamed) = try self.messageLiteral(allowBinary: true)
            try self.expect(UInt8(ascii: ")"), ")")
            return IMAPAppendMessage(flags: flags, internalDate: date, data: data, binary: true, utf8: true, streamed: streamed)
        }
        if self.peek() != UInt8(ascii: "{") && self.peek() != UInt8(ascii: "~") {
            throw self.error("expected message literal")
        }
        let (data, binary, streamed) = try self.messageLiteral(allowBinary: true)
        return IMAPAppendMessage(flags: flags, internalDate: date, data: data, binary: binary, streamed: streamed)
    }

    /// RFC 8508 3:
    ///
    ///     replace = "REPLACE" SP seq-number SP mailbox append-message
    ///     uid-replace = "UID" SP "REPLACE" SP uniqueid SP mailbox append-message
    mutating func replace(uid: Bool) throws(IMAPParseError) -> IMAPCommandKind {
        try self.space()
        let n = try self.nzNumber(uid ? "uid" : "sequence number")
        let mailbox = try self.spaceMailbox()
        try self.space()
        return .replace(uid: uid, number: n, mailbox: mailbox, message: try self.appendMessage())
    }

    /// RFC 5464 4.2:
    ///
    ///     getmetadata = "GETMETADATA" [SP getmetadata-options] SP mailbox SP entries
    ///     getmetadata-options = "(" getmetadata-option *(SP getmetadata-option) ")"
    ///     getmetadata-option = "MAXSIZE" SP number / "DEPTH" SP ("0" / "1" / "infinity")
    ///     entries = entry / "(" entry *(SP entry) ")"
    mutating func getMetadata() throws(IMAPParseError) -> IMAPCommandKind {
        try self.space()
        var options = IMAPMetadataOptions()
        if self.peek() == UInt8(ascii: "(") {
            _ = try self.list(allowEmpty: false) { (p: inout IMAPCursor) throws(IMAPParseError) in
                if p.takeWord("MAXSIZE ") {
                    options.maxSize = try p.number("MAXSIZE")
                } else if p.takeWord("DEPTH ") {
                    if p.take(UInt8(ascii: "0")) {
                        options.depth = .zero
                    } else if p.take(UInt8(ascii: "1")) {
                        options.depth = .one
                    } else if p.takeWord("INFINITY") {
                        options.depth = .infinity
                    } else {
                        throw p.error("bad DEPTH")
                    }
                } else {
                    throw p.error("unknown GETMETADATA option")
                }
            }
            try self.space()
        }
        let mailbox = try self.metadataMailbox()
        try self.space()
        var entries: [String]
        if self.peek() == UInt8(ascii: "(") {
            entries = try self.list(allowEmpty: false) { (p: inout IMAPCursor) throws(IMAPParseError) in
                try p.astring("entry")
            }
        } else {
            entries = [try self.astring("entry")]
        }
        return .getMetadata(mailbox: mailbox, options: options, entries: entries)
    }

    /// RFC 5464 4.3:
    ///
    ///     setmetadata = "SETMETADATA" SP mailbox SP entry-values
    ///     entry-values = "(" entry-value *(SP entry-value) ")"
    ///     entry-value = entry SP value ; value = nstring / literal8
    mutating func setMetadata() throws(IMAPParseError) -> IMAPCommandKind {
        try self.space()
        let mailbox = try self.metadataMailbox()
        try self.space()
        let entries = try self.list(allowEmpty: false) { (p: inout IMAPCursor) throws(IMAPParseError) in
            let name = try p.astring("entry")
            try p.space()
            if p.takeWord("NIL") { return IMAPMetadataEntry(name: name, value: nil) }
            if p.peek() == UInt8(ascii: "~") {
                return IMAPMetadataEntry(name: name, value: try p.literal(allowBinary: true).data)
            }
            return IMAPMetadataEntry(name: name, value: try p.stringBytes())
        }
        return .setMetadata(mailbox: mailbox, entries: entries)
    }

    /// RFC 5464 4.2: the empty string names the server, not a mailbox.
    mutating func metadataMailbox() throws(IMAPParseError) -> String {
        if self.peek() == UInt8(ascii: "\""), self.pos + 1 < self.bytes.count,
            self.bytes[self.pos + 1] == UInt8(ascii: "\"")
        {
            self.pos += 2
            return ""
        }
        return try self.mailbox()
    }

    /// RFC 9051 9, RFC 7162 3.1.3:
    ///
    ///     store = "STORE" SP sequence-set [SP store-modifiers] SP store-att-flags
    ///     store-att-flags = (["+" / "-"] "FLAGS" [".SILENT"]) SP (flag-list / (flag *(SP flag)))
    mutating func store(uid: Bool) throws(IMAPParseError) -> IMAPStoreCommand {
        try self.space()
        let set = try self.sequenceSet()
        try self.space()
        var unchanged: UInt64?
        if self.take(UInt8(ascii: "(")) {
            guard self.takeWord("UNCHANGEDSINCE ") else { throw self.error("unknown STORE modifier") }
            unchanged = try self.number64("modseq")
            try self.expect(UInt8(ascii: ")"), ")")
            try self.space()
        }
        let mode: IMAPStoreCommand.Mode
        if self.take(UInt8(ascii: "+")) {
            mode = .add
        } else if self.take(UInt8(ascii: "-")) {
            mode = .remove
        } else {
            mode = .replace
        }
        guard self.takeWord("FLAGS") else { throw self.error("expected FLAGS") }
        let silent = self.takeWord(".SILENT")
        try self.space()
        var flags: [String]
        if self.peek() == UInt8(ascii: "(") {
            flags = try self.flagList()
        } else {
            flags = [try self.flag()]
            while self.take(UInt8(ascii: " ")) {
                flags.append(try self.flag())
            }
        }
        return IMAPStoreCommand(uid: uid, set: set, unchangedSince: unchanged, mode: mode, silent: silent, flags: flags)
    }
}

/// RFC 4648 base64 characters, and "=" padding.
@inline(__always)
func isBase64Char(_ b: UInt8) -> Bool {
    (b >= UInt8(ascii: "A") && b <= UInt8(ascii: "Z")) || (b >= UInt8(ascii: "a") && b <= UInt8(ascii: "z"))
        || isDigit(b) || b == UInt8(ascii: "+") || b == UInt8(ascii: "/") || b == UInt8(ascii: "=")
}
