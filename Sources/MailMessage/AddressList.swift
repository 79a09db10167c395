import MailAddress

/// An address as found in a message header: display name and the raw localpart and domain, kept
/// even when they are not valid (so broken headers still show something).
public struct MessageAddress: Sendable, Equatable, Hashable {
    /// Display name with RFC 2047 words decoded; empty if none.
    public var name: String
    /// Source route (obs-route, RFC 5322 4.4), e.g. "@a.example,@b.example"; empty if none.
    public var route: String
    /// Localpart as decoded text (quotes removed).
    public var localpart: String
    /// Domain as written (lower-casing is left to `address`).
    public var domain: String

    public init(name: String = "", route: String = "", localpart: String, domain: String) {
        self.name = name
        self.route = route
        self.localpart = localpart
        self.domain = domain
    }

    /// The address as a validated `Address`, if it is one.
    public var address: Address? {
        guard let d = Domain.parse(self.domain) else { return nil }
        guard let lp = try? Localpart(parsing: Localpart(uncheckedValue: self.localpart).formatted) else { return nil }
        return Address(localpart: lp, domain: d)
    }
}

/// An entry in an address list: a mailbox or a named group of mailboxes (RFC 5322 3.4).
public enum AddressListItem: Sendable, Equatable {
    case mailbox(MessageAddress)
    case group(name: String, members: [MessageAddress])

    /// The mailboxes this entry stands for.
    public var mailboxes: [MessageAddress] {
        switch self {
        case .mailbox(let m): return [m]
        case .group(_, let members): return members
        }
    }
}

/// Parsing of address lists in From, To, Cc, Bcc, Reply-To, Sender.
public enum AddressList {
    /// Lexical tokens of an address list.
    enum Token: Equatable {
        case atom(String)  // atom or dot-atom pieces; "." is a special
        case quoted(String)
        case literal(String)  // [domain literal], with brackets
        case special(UInt8)
        /// A comment's text; only used as a display name (see `mailbox`).
        case comment(String)
    }

    ///     address-list = (address *("," address)) / obs-addr-list        ; RFC 5322 3.4
    ///     address      = mailbox / group
    ///     mailbox      = name-addr / addr-spec
    ///     name-addr    = [display-name] angle-addr
    ///     angle-addr   = [CFWS] "<" addr-spec ">" [CFWS] / obs-angle-addr
    ///     group        = display-name ":" [group-list] ";" [CFWS]
    ///     obs-angle-addr = [CFWS] "<" obs-route addr-spec ">" [CFWS]   ; RFC 5322 4.4
    /// Never fails: whatever cannot be read is skipped up to the next ",".
    public static func parse(_ value: String) -> [AddressListItem] {
        let tokens = Self.lex(value)
        var items: [AddressListItem] = []
        var i = 0
        var group: (name: String, members: [MessageAddress])?
        while i < tokens.count {
            // Collect one address: up to a top-level "," (or ";" closing a group); "<...>" is one unit.
            var j = i
            var inAngle = false
            var sawColon = -1
            while j < tokens.count {
                let t = tokens[j]
                if t == .special(UInt8(ascii: "<")) { inAngle = true }
                if t == .special(UInt8(ascii: ">")) { inAngle = false }
                if !inAngle {
                    if t == .special(UInt8(ascii: ",")) || t == .special(UInt8(ascii: ";")) { break }
                    if t == .special(UInt8(ascii: ":")) && group == nil && sawColon < 0 {
                        sawColon = j
                        break
                    }
                }
                j += 1
            }
            if sawColon >= 0 {
                // Start of a group: display-name ":".
                group = (Self.displayName(tokens[i..<sawColon]), [])
                i = sawColon + 1
                continue
            }
            if let m = Self.mailbox(tokens[i..<j]) {
                if group != nil {
                    group?.members.append(m)
                } else {
                    items.append(.mailbox(m))
                }
            }
            if j < tokens.count, tokens[j] == .special(UInt8(ascii: ";")), let g = group {
                items.append(.group(name: g.name, members: g.members))
                group = nil
            }
            i = j + 1
        }
        // RFC 5322 3.4: a group ends with ";"; an unterminated group is still reported.
        if let g = group {
            items.append(.group(name: g.name, members: g.members))
        }
        return items
    }

    /// All mailboxes in the list, groups flattened.
    public static func mailboxes(_ value: String) -> [MessageAddress] {
        Self.parse(value).flatMap { $0.mailboxes }
    }

    static func displayName(_ tokens: ArraySlice<Token>) -> String {
        var text = ""
        for t in tokens {
            let word: String
            switch t {
            case .atom(let a): word = a
            case .quoted(let q): word = q
            case .literal(let l): word = l
            case .special(let c): word = String(Unicode.Scalar(c))
            case .comment: continue
            }
            // RFC 5322 4.1: obs-phrase allows "." in names ("Joe Q. Public"); no space goes before it.
            if !text.isEmpty && t != .special(UInt8(ascii: ".")) {
                text += " "
            }
            text += word
        }
        // RFC 2047 5(3): encoded words may appear in a phrase; they are also decoded in quoted
        // strings, which the RFC forbids but many senders do.
        return EncodedWords.decode(text)
    }

    static func mailbox(_ all: ArraySlice<Token>) -> MessageAddress? {
        // A comment after a bare addr-spec, "user@domain (Real Name)", is the old way of giving a
        // display name (RFC 822 6.1); it is used as the name when there is no other.
        var comment: String?
        if case .comment(let c)? = all.last, !c.isEmpty { comment = c }
        let tokens = all.filter { if case .comment = $0 { return false } else { return true } }[...]
        guard !tokens.isEmpty else { return nil }
        if let lt = tokens.firstIndex(of: .special(UInt8(ascii: "<"))) {
            let name = Self.displayName(tokens[tokens.startIndex..<lt])
            var inner = tokens[(lt + 1)...]
            if let gt = inner.firstIndex(of: .special(UInt8(ascii: ">"))) {
                inner = inner[inner.startIndex..<gt]
            }
            // obs-route = obs-domain-list ":"
            var route = ""
            if inner.first == .special(UInt8(ascii: "@")), let colon = inner.firstIndex(of: .special(UInt8(ascii: ":")))
            {
                route = Self.text(inner[inner.startIndex..<colon])
                inner = inner[(colon + 1)...]
            }
            if inner.isEmpty {
                // "<>" (seen in Return-Path) or empty: keep the name only if there is one.
                return name.isEmpty ? nil : MessageAddress(name: name, route: route, localpart: "", domain: "")
            }
            var m = Self.addrSpec(inner)
            m.name = name
            m.route = route
            return m
        }
        var m = Self.addrSpec(tokens)
        if m.localpart.isEmpty && m.domain.isEmpty { return nil }
        m.name = comment.map { EncodedWords.decode($0) } ?? ""
        return m
    }

    ///     addr-spec  = local-part "@" domain       ; RFC 5322 3.4.1
    ///     local-part = dot-atom / quoted-string / obs-local-part
    ///     domain     = dot-atom / domain-literal / obs-domain
    static func addrSpec(_ tokens: ArraySlice<Token>) -> MessageAddress {
        if let at = tokens.lastIndex(of: .special(UInt8(ascii: "@"))) {
            return MessageAddress(
                localpart: Self.text(tokens[tokens.startIndex..<at]),
                domain: Self.text(tokens[(at + 1)...])
            )
        }
        return MessageAddress(localpart: Self.text(tokens), domain: "")
    }

    /// Joins tokens without spaces (CFWS between dot-atom parts is allowed by obs syntax and dropped).
    static func text(_ tokens: ArraySlice<Token>) -> String {
        var s = ""
        for t in tokens {
            switch t {
            case .atom(let a): s += a
            case .quoted(let q): s += q
            case .literal(let l): s += l
            case .special(let c): s.unicodeScalars.append(Unicode.Scalar(c))
            case .comment: continue
            }
        }
        return s
    }

    static func lex(_ value: String) -> [Token] {
        var lx = StructuredLexer(value)
        var tokens: [Token] = []
        while true {
            // Whitespace skipped, comments kept as tokens.
            while lx.i < lx.b.count, lx.b[lx.i] <= 32 { lx.i += 1 }
            guard lx.i < lx.b.count else { break }
            let c = lx.b[lx.i]
            if c == UInt8(ascii: "(") {
                tokens.append(.comment(lx.comment()))
                continue
            }
            if c == UInt8(ascii: "\"") {
                tokens.append(.quoted(lx.quotedString() ?? ""))
                continue
            }
            if c == UInt8(ascii: "[") {
                let start = lx.i
                while lx.i < lx.b.count, lx.b[lx.i] != UInt8(ascii: "]") { lx.i += 1 }
                if lx.i < lx.b.count { lx.i += 1 }
                tokens.append(.literal(headerString(lx.b[start..<lx.i])))
                continue
            }
            // RFC 5322 3.2.3: specials = "(" / ")" / "<" / ">" / "[" / "]" / ":" / ";" / "@" / "\" / "," / "."
            if "<>:;@,.\\])".utf8.contains(c) {
                tokens.append(.special(c))
                lx.i += 1
                continue
            }
            let start = lx.i
            while lx.i < lx.b.count {
                let d = lx.b[lx.i]
                if d <= 32 || d == 127 || "()<>[]:;@\\,.\"".utf8.contains(d) { break }
                lx.i += 1
            }
            if lx.i == start {
                lx.i += 1
                continue
            }
            tokens.append(.atom(headerString(lx.b[start..<lx.i])))
        }
        return tokens
    }
}
