// SPF macros (RFC 7208 7): checked when a record is parsed, expanded when it is evaluated.

import MailAddress

/// What macros expand to for one check_host() evaluation.
public struct SPFMacroValues: Sendable {
    /// s: the sender, localpart@domain.
    public var localpart: String
    public var senderDomain: String
    /// d: the domain being checked now.
    public var domain: String
    public var ip: IPAddress
    /// h: the HELO/EHLO domain (or IP literal text).
    public var helo: String
    /// r: the receiving host's name (explanations only).
    public var receiver: String
    /// p: the validated domain name of the IP, looked up only when a macro uses it.
    public var validatedName: String?
    /// t: seconds since the epoch (explanations only).
    public var now: Int

    public init(localpart: String, senderDomain: String, domain: String, ip: IPAddress, helo: String, receiver: String, now: Int) {
        self.localpart = localpart
        self.senderDomain = senderDomain
        self.domain = domain
        self.ip = ip
        self.helo = helo
        self.receiver = receiver
        self.now = now
    }
}

enum SPFMacro {
    // RFC 7208 7.1: macro-letter = "s" / "l" / "o" / "d" / "i" / "p" / "h" / "c" / "r" / "t" / "v";
    // c, r and t only in explanations.
    static let letters: Set<Character> = ["s", "l", "o", "d", "i", "p", "h", "v"]
    static let explanationLetters: Set<Character> = ["c", "r", "t"]
    static let delimiters: Set<Character> = [".", "-", "+", ",", "/", "_", "="]

    /// Whether `s` is a valid macro-string (RFC 7208 7.1).
    static func check(_ s: String, term: String, explanation: Bool) throws(SPFSyntaxError) {
        _ = try self.walk(s, term: term, explanation: explanation) { _ in "" }
    }

    /// Expands the macros of `s`; `value` gives a letter's text (lower case letter).
    static func expand(_ s: String, explanation: Bool, value: (Character) -> String) throws(SPFSyntaxError) -> String {
        try self.walk(s, term: s, explanation: explanation, value: value)
    }

    static func walk(_ s: String, term: String, explanation: Bool, value: (Character) -> String) throws(SPFSyntaxError) -> String {
        var out = ""
        let chars = Array(s)
        var i = 0
        while i < chars.count {
            let c = chars[i]
            guard c == "%" else {
                // RFC 7208 7.1: macro-literal = %x21-24 / %x26-7E; in explanations also spaces.
                guard let ascii = c.asciiValue, (0x21...0x7e).contains(ascii) || (explanation && c == " ") else {
                    throw SPFSyntaxError(term: term, "invalid character in macro string")
                }
                out.append(c)
                i += 1
                continue
            }
            guard i + 1 < chars.count else { throw SPFSyntaxError(term: term, "lone % at the end") }
            switch chars[i + 1] {
            case "%": out.append("%"); i += 2; continue
            case "_": out.append(" "); i += 2; continue
            case "-": out.append("%20"); i += 2; continue
            case "{": break
            default: throw SPFSyntaxError(term: term, "invalid macro \"%\(chars[i + 1])\"")
            }
            guard let close = chars[(i + 2)...].firstIndex(of: "}") else { throw SPFSyntaxError(term: term, "unclosed macro") }
            let body = chars[(i + 2)..<close]
            guard let letter = body.first, letter.isASCII, letter.isLetter else {
                throw SPFSyntaxError(term: term, "macro without a letter")
            }
            let lower = Character(letter.lowercased())
            guard Self.letters.contains(lower) || (explanation && Self.explanationLetters.contains(lower)) else {
                throw SPFSyntaxError(term: term, "unknown macro letter \"\(letter)\"")
            }
            // transformers = *DIGIT [ "r" ], then *delimiter.
            var j = body.startIndex + 1
            var digits = ""
            while j < body.endIndex, body[j].isASCII, body[j].isNumber {
                digits.append(body[j])
                j += 1
            }
            var reverse = false
            if j < body.endIndex, body[j] == "r" || body[j] == "R" {
                reverse = true
                j += 1
            }
            var delims: Set<Character> = []
            while j < body.endIndex {
                guard Self.delimiters.contains(body[j]) else {
                    throw SPFSyntaxError(term: term, "invalid delimiter \"\(body[j])\" in macro")
                }
                delims.insert(body[j])
                j += 1
            }
            // RFC 7208 7.3: a digit transformer of 0 is invalid; large values keep everything.
            var keep: Int?
            if !digits.isEmpty {
                guard let n = Int(digits.prefix(4)), n > 0 else { throw SPFSyntaxError(term: term, "macro keeps zero labels") }
                keep = n
            }
            var text = value(lower)
            if keep != nil || reverse || !delims.isEmpty {
                let separators = delims.isEmpty ? ["."] : delims
                var parts = text.split(omittingEmptySubsequences: false, whereSeparator: { separators.contains($0) }).map(String.init)
                if reverse { parts.reverse() }
                if let keep, parts.count > keep { parts = Array(parts.suffix(keep)) }
                text = parts.joined(separator: ".")
            }
            // RFC 7208 7.3: an upper-case letter URL-escapes the expansion.
            if letter.isUppercase { text = Self.urlEscape(text) }
            out += text
            i = close + 1
        }
        return out
    }

    // RFC 3986 2.3 unreserved characters stay; everything else as %XX.
    static func urlEscape(_ s: String) -> String {
        var out = ""
        for b in s.utf8 {
            let c = Character(UnicodeScalar(b))
            if c.isASCII, c.isLetter || c.isNumber || "-._~".contains(c) {
                out.append(c)
            } else {
                let hex = Array("0123456789ABCDEF")
                out += "%" + String(hex[Int(b >> 4)]) + String(hex[Int(b & 0x0f)])
            }
        }
        return out
    }

    /// The text of a letter for `values` (p must be filled in by the caller when used).
    static func letterValue(_ letter: Character, _ v: SPFMacroValues) -> String {
        switch letter {
        case "s": return "\(v.localpart)@\(v.senderDomain)"
        case "l": return v.localpart
        case "o": return v.senderDomain
        case "d": return v.domain
        case "i":
            // RFC 7208 7.3: IPv6 as dot-separated nibbles.
            let ip = v.ip.unmapped
            if ip.isIPv4 { return ip.description }
            return ip.bytes.flatMap { [String($0 >> 4, radix: 16), String($0 & 0x0f, radix: 16)] }.joined(separator: ".")
        case "p": return v.validatedName ?? "unknown"
        case "h": return v.helo
        case "v": return v.ip.unmapped.isIPv4 ? "in-addr" : "ip6"
        case "c": return v.ip.unmapped.description
        case "r": return v.receiver
        case "t": return String(v.now)
        default: return ""
        }
    }

    /// Whether a macro string uses the "p" letter (which costs DNS lookups to fill in).
    static func usesP(_ s: String) -> Bool {
        s.contains("%{p") || s.contains("%{P")
    }
}
