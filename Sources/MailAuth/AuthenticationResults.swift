// The Authentication-Results header (RFC 8601 2.2) that records the checks of a message, one
// method per line as mox writes it.

public struct AuthResults: Hashable, Sendable {
    /// The authserv-id: this server's host name.
    public var hostname: String
    /// A comment after the host name (its ASCII form when the name is internationalized).
    public var comment: String
    public var methods: [Method]

    public init(hostname: String, comment: String = "", methods: [Method] = []) {
        self.hostname = hostname
        self.comment = comment
        self.methods = methods
    }

    /// RFC 8601 2.2 resinfo: "method=result (comment) reason=... ptype.property=value".
    public struct Method: Hashable, Sendable {
        public var method: String
        public var result: String
        public var comment: String
        public var reason: String
        public var properties: [Property]

        public init(_ method: String, _ result: String, comment: String = "", reason: String = "", properties: [Property] = []) {
            self.method = method
            self.result = result
            self.comment = comment
            self.reason = reason
            self.properties = properties
        }
    }

    public struct Property: Hashable, Sendable {
        /// "smtp", "header", "policy".
        public var type: String
        public var name: String
        public var value: String
        /// The value may hold an "@" without quoting (RFC 8601 2.2 pvalue allows addresses).
        public var addressLike: Bool
        public var comment: String

        public init(_ type: String, _ name: String, _ value: String, addressLike: Bool = false, comment: String = "") {
            self.type = type
            self.name = name
            self.value = value
            self.addressLike = addressLike
            self.comment = comment
        }
    }

    /// The header field with CRLF. Without methods it says "none" (RFC 8601 2.2).
    public var header: String {
        var w = HeaderWriter()
        let comment = self.comment.isEmpty ? "" : " (\(self.comment))"
        w.add("", "Authentication-Results:\(comment) \(Self.value(self.hostname, addressLike: false));")
        if self.methods.isEmpty {
            w.add(" ", "none")
        }
        for (i, m) in self.methods.enumerated() {
            w.newline()
            var tokens = ["\(m.method)=\(m.result)"]
            // mox writes the comment only when something follows it.
            if !m.comment.isEmpty && (!m.reason.isEmpty || !m.properties.isEmpty) {
                tokens.append("(\(Self.commentText(m.comment)))")
            }
            if !m.reason.isEmpty {
                tokens.append("reason=\(Self.value(m.reason, addressLike: false))")
            }
            for p in m.properties {
                let pc = p.comment.isEmpty ? "" : " (\(Self.commentText(p.comment)))"
                tokens.append("\(p.type).\(p.name)=\(Self.value(p.value, addressLike: p.addressLike))\(pc)")
            }
            for (j, var token) in tokens.enumerated() {
                if j == tokens.count - 1 && i < self.methods.count - 1 { token += ";" }
                w.add(j > 0 ? " " : "", token)
            }
        }
        return w.text + "\r\n"
    }

    /// RFC 2045 value: a token, else a quoted-string; "@" is allowed unquoted in address-like
    /// values (RFC 8601 2.2 pvalue).
    static func value(_ s: String, addressLike: Bool) -> String {
        var quote = s.isEmpty
        for b in s.utf8 where b <= 0x20 || b == 0x7f || (b == UInt8(ascii: "@") && !addressLike) || Self.specials[Int(b)] {
            quote = true
            break
        }
        if !quote { return s }
        return HeaderFolding.quoted(s)
    }

    /// RFC 2045 tspecials (and space), by octet.
    static let specials: [Bool] = {
        var t = [Bool](repeating: false, count: 256)
        for c in #"()<>,;:\"/[]?= "#.utf8 { t[Int(c)] = true }
        return t
    }()

    /// Comment text with parentheses and line breaks taken out, so it cannot end the comment
    /// early or break the header.
    static func commentText(_ s: String) -> String {
        String(s.map { $0 == "(" || $0 == ")" || $0 == "\r" || $0 == "\n" ? " " : $0 })
    }
}

/// Header text folded at 76 characters between the pieces added, with forced line breaks.
struct HeaderWriter {
    var text = ""
    var lineLength = 0
    var started = false

    mutating func add(_ separator: String, _ piece: String) {
        // Octets, not characters: a line's limit is in octets (RFC 5322 2.1.1).
        let pieceLength = piece.utf8.count
        let separatorLength = separator.utf8.count
        if self.started && self.lineLength > 1 && self.lineLength + separatorLength + pieceLength > 76 {
            self.text += "\r\n\t"
            self.lineLength = 1
        } else if self.started && separatorLength > 0 {
            self.text += separator
            self.lineLength += separatorLength
        }
        self.text += piece
        self.lineLength += pieceLength
        self.started = true
    }

    mutating func newline() {
        self.text += "\r\n\t"
        self.lineLength = 1
        self.started = true
    }
}
