import MailAddress

/// Errors from composing a message.
public enum ComposeError: Error, Sendable, Equatable {
    /// An address has non-ASCII characters but SMTPUTF8 (RFC 6531/6532) was not declared available.
    case nonASCIIAddress(String)
    /// A header field name is empty or has characters outside printable ASCII without ":".
    case invalidFieldName(String)
    /// An address has control characters, or a domain has characters no domain can have.
    case invalidAddress(String)
    /// A structured value has control characters (CR or LF would inject header fields).
    case invalidValue(String)
}

// MARK: - Header field encoding

/// Builds header fields: RFC 2047 encoded words for non-ASCII text, quoting of display names and
/// folding at 78 columns.
public enum HeaderEncoder {
    // RFC 5322 2.1.1: lines SHOULD be at most 78 characters, excluding CRLF.
    static let foldColumn = 78
    // RFC 2047 2: an encoded word is at most 75 characters.
    static let maxEncodedWord = 75

    /// One header field, folded: `tokens` are joined with single spaces, and a line break is put before a
    /// space where a line would otherwise pass 78 columns (RFC 5322 2.2.3). Tokens are never split.
    /// A token longer than 900 octets is split on a character boundary as a last resort, so a line never passes
    /// 998 octets (RFC 5322 2.1.1); unfolding then shows a space at the split.
    static func fold(name: String, tokens: [String]) -> [UInt8] {
        var tokens = tokens
        if tokens.contains(where: { $0.utf8.count > 900 }) {
            tokens = tokens.flatMap { Self.splitLong($0) }
        }
        var out = Array(name.utf8)
        out.append(UInt8(ascii: ":"))
        var column = out.count
        for token in tokens where !token.isEmpty {
            let n = token.utf8.count
            // RFC 5322 2.2.3: folding may also come right after the colon, for a first token that is long.
            if column + 1 + n > Self.foldColumn && column > 0 {
                out += [cr, lf]
                column = 0
            }
            out.append(sp)
            out += token.utf8
            column += 1 + n
        }
        out += [cr, lf]
        return out
    }

    static func splitLong(_ token: String) -> [String] {
        guard token.utf8.count > 900 else { return [token] }
        var pieces: [String] = []
        var current = ""
        for ch in token.unicodeScalars {
            if current.utf8.count + 4 > 900 {
                pieces.append(current)
                current = ""
            }
            current.unicodeScalars.append(ch)
        }
        pieces.append(current)
        return pieces
    }

    /// Tokens for unstructured text (Subject, Comments, ...; RFC 5322 3.2.5). Non-ASCII text becomes
    /// encoded words unless `smtputf8`, in which case it is kept as UTF-8 (RFC 6532 3.2).
    public static func unstructuredTokens(_ text: String, smtputf8: Bool) -> [String] {
        let words = text.split(separator: " ", omittingEmptySubsequences: false).map(String.init)
        let plain = words.allSatisfy { w in
            // A literal "=?" could be taken for an encoded word by readers; very long words could not be
            // folded below 998 octets (RFC 5322 2.1.1).
            w.utf8.count < 900 && !w.contains("=?")
                && w.unicodeScalars.allSatisfy {
                    ($0.value >= 0x21 && $0.value < 0x7f) || (smtputf8 && $0.value >= 0x80)
                }
        }
        if plain && !words.contains(where: { $0.isEmpty }) {
            return words
        }
        return Self.encodedWords(text)
    }

    /// Tokens for a display name (a phrase, RFC 5322 3.2.5): atoms as they are, otherwise a quoted string, or
    /// encoded words for non-ASCII names without SMTPUTF8.
    public static func phraseTokens(_ name: String, smtputf8: Bool) -> [String] {
        let words = name.split(separator: " ", omittingEmptySubsequences: false)
        if !words.contains(where: { $0.isEmpty }),
            words.allSatisfy({ w in
                w.utf8.count < 900 && !w.contains("=?")
                    && w.unicodeScalars.allSatisfy { Self.isAtext($0, utf8: smtputf8) }
            })
        {
            return words.map(String.init)
        }
        let quotable = name.unicodeScalars.allSatisfy {
            ($0.value >= 0x20 && $0.value < 0x7f) || (smtputf8 && $0.value >= 0x80)
        }
        if quotable && name.utf8.count < 900 && !name.contains("=?") {
            var q = "\""
            for c in name.unicodeScalars {
                if c == "\"" || c == "\\" { q += "\\" }
                q.unicodeScalars.append(c)
            }
            return [q + "\""]
        }
        return Self.encodedWords(name)
    }

    /// Tokens for a list of addresses, with the separating commas attached.
    public static func addressTokens(_ addresses: [MessageAddress], smtputf8: Bool) throws(ComposeError) -> [String] {
        var tokens: [String] = []
        for (k, a) in addresses.enumerated() {
            let spec = try Self.addrSpec(a, smtputf8: smtputf8)
            var these: [String]
            if a.name.isEmpty {
                these = [spec]
            } else {
                these = Self.phraseTokens(a.name, smtputf8: smtputf8) + ["<" + spec + ">"]
            }
            if k < addresses.count - 1 { these[these.count - 1] += "," }
            tokens += these
        }
        return tokens
    }

    /// `localpart@domain`, with the localpart quoted when it is not a dot-atom (RFC 5322 3.4.1).
    public static func addrSpec(_ a: MessageAddress, smtputf8: Bool) throws(ComposeError) -> String {
        let all = a.localpart + "@" + a.domain
        // No control characters anywhere (a CR or LF would start a new header field), and a domain is a
        // dot-separated name or an address literal without spaces or delimiters.
        if all.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7f })
            || a.domain.isEmpty
            || a.domain.unicodeScalars.contains(where: { " \"<>(),;:@\\".unicodeScalars.contains($0) })
        {
            throw .invalidAddress(all)
        }
        if !smtputf8, all.unicodeScalars.contains(where: { $0.value >= 0x80 }) {
            throw .nonASCIIAddress(all)
        }
        let atoms = a.localpart.split(separator: ".", omittingEmptySubsequences: false)
        let dotAtom =
            !a.localpart.isEmpty
            && atoms.allSatisfy { !$0.isEmpty && $0.unicodeScalars.allSatisfy { Self.isAtext($0, utf8: true) } }
        var lp = ""
        if dotAtom {
            lp = a.localpart
        } else {
            lp = "\""
            for c in a.localpart.unicodeScalars {
                if c == "\"" || c == "\\" { lp += "\\" }
                lp.unicodeScalars.append(c)
            }
            lp += "\""
        }
        return lp + "@" + a.domain
    }

    // RFC 5322 3.2.3 atext, plus UTF8-non-ascii with RFC 6532 3.2.
    static func isAtext(_ c: Unicode.Scalar, utf8: Bool) -> Bool {
        if c.value >= 0x80 { return utf8 }
        switch c {
        case "a"..."z", "A"..."Z", "0"..."9": return true
        default: return "!#$%&'*+-/=?^_`{|}~".unicodeScalars.contains(c)
        }
    }

    // MARK: - RFC 2047 encoded words

    /// Encodes `text` as one or more UTF-8 encoded words of at most 75 characters each, split on character
    /// boundaries, using B or Q, whichever gives the shorter result (RFC 2047 4). All spaces are inside the
    /// words, so decoding (which drops whitespace between adjacent words, RFC 2047 6.2) gives `text` back.
    public static func encodedWords(_ text: String) -> [String] {
        let q = Self.encodeWords(text, bEncoding: false)
        let b = Self.encodeWords(text, bEncoding: true)
        return q.reduce(0) { $0 + $1.utf8.count } <= b.reduce(0) { $0 + $1.utf8.count } ? q : b
    }

    static func encodeWords(_ text: String, bEncoding: Bool) -> [String] {
        let prefix = bEncoding ? "=?utf-8?b?" : "=?utf-8?q?"
        let budget = Self.maxEncodedWord - prefix.utf8.count - 2
        func size(_ bytes: Int, _ raw: [UInt8]) -> Int {
            bEncoding ? (bytes + 2) / 3 * 4 : Self.qEncode(raw).utf8.count
        }
        var words: [String] = []
        var current: [UInt8] = []
        func flush() {
            guard !current.isEmpty else { return }
            let enc = bEncoding ? Self.base64(current) : Self.qEncode(current)
            words.append(prefix + enc + "?=")
            current = []
        }
        // Pieces that must not be split: characters, or scalars of a character too large for one word.
        var pieces: [[UInt8]] = []
        for ch in text {
            let bytes = Array(String(ch).utf8)
            if size(bytes.count, bytes) <= budget {
                pieces.append(bytes)
            } else {
                for s in ch.unicodeScalars { pieces.append(Array(String(s).utf8)) }
            }
        }
        for p in pieces {
            let next = current + p
            if !current.isEmpty && size(next.count, next) > budget { flush() }
            current += p
        }
        flush()
        return words
    }

    // RFC 2047 5(3): in a phrase only letters, digits, "!", "*", "+", "-", "/" may appear unencoded; using
    // that set everywhere keeps the words valid in any context. Space is written as "_" (RFC 2047 4.2(2)).
    static func qEncode(_ bytes: [UInt8]) -> String {
        var s = ""
        for b in bytes {
            switch b {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "!"), UInt8(ascii: "*"), UInt8(ascii: "+"),
                UInt8(ascii: "-"), UInt8(ascii: "/"):
                s.unicodeScalars.append(Unicode.Scalar(b))
            case sp:
                s += "_"
            default:
                s += "=" + Self.hex2(b)
            }
        }
        return s
    }

    static func hex2(_ b: UInt8) -> String {
        let digits = Array("0123456789ABCDEF".utf8)
        return String(decoding: [digits[Int(b >> 4)], digits[Int(b & 15)]], as: UTF8.self)
    }

    static func base64(_ bytes: [UInt8]) -> String {
        Base64.encode(bytes)
    }
}

// MARK: - Dates and message ids

extension MessageDate {
    /// The date for a Unix time, shown in the zone `zoneMinutes` east of UTC.
    public init(unixTime: Int64, zoneMinutes: Int = 0) {
        let t = unixTime + Int64(zoneMinutes) * 60
        var days = t / 86400
        var secs = t % 86400
        if secs < 0 {
            secs += 86400
            days -= 1
        }
        // Civil from days, after Howard Hinnant's published algorithm.
        let z = days + 719468
        let era = (z >= 0 ? z : z - 146096) / 146097
        let doe = z - era * 146097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        let y = yoe + era * 400 + (m <= 2 ? 1 : 0)
        self.init(
            year: Int(y),
            month: Int(m),
            day: Int(d),
            hour: Int(secs / 3600),
            minute: Int(secs % 3600 / 60),
            second: Int(secs % 60),
            zoneMinutes: zoneMinutes
        )
    }

    /// The date as RFC 5322 3.3 writes it: "Mon, 2 Jan 2006 15:04:05 -0700".
    public var formatted: String {
        let days = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"]
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        let local = self.unixTime + Int64(self.zoneMinutes) * 60
        var dayNumber = local / 86400
        if local < 0 && local % 86400 != 0 { dayNumber -= 1 }
        let wd = Int(((dayNumber % 7) + 7) % 7)
        func two(_ v: Int) -> String { v < 10 ? "0\(v)" : "\(v)" }
        let z = abs(self.zoneMinutes)
        let zone = (self.zoneMinutes < 0 ? "-" : "+") + two(z / 60) + two(z % 60)
        let month = months[max(0, min(11, self.month - 1))]
        return
            "\(days[wd]), \(self.day) \(month) \(self.year) \(two(self.hour)):\(two(self.minute)):\(two(self.second)) "
            + zone
    }
}

extension MessageIDs {
    /// A new Message-ID value, "<id@host>", from caller-supplied random bytes (16 are plenty) and a host
    /// name (RFC 5322 3.6.4). The random part is written in lower-case base32 so it is a dot-atom.
    public static func generate(random: [UInt8], host: String) -> String {
        let alphabet = Array("abcdefghijklmnopqrstuvwxyz234567".utf8)
        var out: [UInt8] = []
        var acc: UInt32 = 0
        var bits = 0
        for b in random {
            acc = (acc << 8) | UInt32(b)
            bits += 8
            while bits >= 5 {
                bits -= 5
                out.append(alphabet[Int((acc >> UInt32(bits)) & 31)])
            }
        }
        if bits > 0 { out.append(alphabet[Int((acc << UInt32(5 - bits)) & 31)]) }
        return "<" + String(decoding: out, as: UTF8.self) + "@" + host + ">"
    }
}
