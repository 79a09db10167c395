/// A MIME media type with its parameters, from Content-Type (RFC 2045 5.1).
public struct ContentType: Sendable, Equatable {
    /// Lower-case type, e.g. "text".
    public var type: String
    /// Lower-case subtype, e.g. "plain".
    public var subtype: String
    /// Parameters in order, names lower case, values decoded (RFC 2231 continuations and charsets).
    public var parameters: [(name: String, value: String)]

    public init(type: String, subtype: String, parameters: [(name: String, value: String)] = []) {
        self.type = type
        self.subtype = subtype
        self.parameters = parameters
    }

    public static func == (a: ContentType, b: ContentType) -> Bool {
        a.type == b.type && a.subtype == b.subtype && a.parameters.elementsEqual(b.parameters, by: { $0 == $1 })
    }

    /// The value of a parameter by (case-insensitive) name.
    public func parameter(_ name: String) -> String? {
        let n = asciiLowercased(name)
        return self.parameters.first { $0.name == n }?.value
    }

    // RFC 2045 5.2: without a (valid) Content-Type, text/plain; charset=us-ascii is assumed.
    public static let defaultType = ContentType(
        type: "text",
        subtype: "plain",
        parameters: [("charset", "us-ascii")]
    )

    // RFC 2046 5.1.5: in multipart/digest the default is message/rfc822.
    public static let digestDefault = ContentType(type: "message", subtype: "rfc822")

    ///     content := "Content-Type" ":" type "/" subtype *(";" parameter)   ; RFC 2045 5.1
    ///     parameter := attribute "=" value
    ///     value := token / quoted-string
    /// Returns nil if no type/subtype can be read.
    public init?(parsing value: String) {
        var lx = StructuredLexer(value)
        guard let t = lx.token(), lx.consume(UInt8(ascii: "/")), let s = lx.token() else { return nil }
        self.type = asciiLowercased(t)
        self.subtype = asciiLowercased(s)
        self.parameters = parseParameters(&lx)
    }
}

/// Content-Disposition (RFC 2183).
public struct ContentDisposition: Sendable, Equatable {
    /// Lower-case disposition type, e.g. "inline" or "attachment".
    public var type: String
    public var parameters: [(name: String, value: String)]

    public static func == (a: ContentDisposition, b: ContentDisposition) -> Bool {
        a.type == b.type && a.parameters.elementsEqual(b.parameters, by: { $0 == $1 })
    }

    public func parameter(_ name: String) -> String? {
        let n = asciiLowercased(name)
        return self.parameters.first { $0.name == n }?.value
    }

    ///     disposition := "Content-Disposition" ":" disposition-type *(";" disposition-parm)  ; RFC 2183 2
    public init?(parsing value: String) {
        var lx = StructuredLexer(value)
        guard let t = lx.token() else { return nil }
        self.type = asciiLowercased(t)
        self.parameters = parseParameters(&lx)
    }
}

/// Parses `*(";" attribute "=" value)`, joining RFC 2231 continuations and decoding charsets.
/// Malformed parameters are skipped. Values that are RFC 2047 encoded words (not allowed by the
/// RFC but common in file names) are decoded too.
func parseParameters(_ lx: inout StructuredLexer) -> [(name: String, value: String)] {
    struct Segment {
        var name: String
        var index: Int?
        var extended: Bool
        var value: String
    }
    var segments: [Segment] = []
    while !lx.atEnd {
        guard lx.consume(UInt8(ascii: ";")) else {
            // Garbage: skip to the next ";".
            lx.skipPast(UInt8(ascii: ";"))
            continue
        }
        guard let rawName = lx.token() else { continue }
        guard lx.consume(UInt8(ascii: "=")) else { continue }
        let v = lx.quotedString() ?? lx.token(allowing: "/?=") ?? ""
        var name = asciiLowercased(rawName)
        // RFC 2231 3 and 4: name*N for continuations, a trailing "*" for extended (encoded) values.
        var extended = false
        if name.hasSuffix("*") {
            extended = true
            name.removeLast()
        }
        var index: Int?
        if let star = name.lastIndex(of: "*"), let n = Int(name[name.index(after: star)...]), n >= 0, n < 1000 {
            index = n
            name = String(name[..<star])
        }
        segments.append(Segment(name: name, index: index, extended: extended, value: v))
    }
    // Group segments by name, keeping the order of first appearance (one pass, no rescans).
    var order: [String] = []
    var byName: [String: [Segment]] = [:]
    for seg in segments {
        if byName[seg.name] == nil {
            order.append(seg.name)
        }
        byName[seg.name, default: []].append(seg)
    }
    var result: [(name: String, value: String)] = []
    for name in order {
        let group = byName[name] ?? []
        guard let seg = group.first else { continue }
        let parts: [Segment]
        let numbered = group.filter { $0.index != nil }
        if numbered.isEmpty {
            parts = [seg]
        } else {
            // RFC 2231 3: continuations are joined in numeric order, from 0 without gaps.
            let all = numbered.sorted { ($0.index ?? 0) < ($1.index ?? 0) }
            var ordered: [Segment] = []
            for p in all where p.index == ordered.count { ordered.append(p) }
            parts = ordered.isEmpty ? [seg] : ordered
        }
        var charset = "us-ascii"
        var bytes: [UInt8] = []
        var anyExtended = false
        for (k, p) in parts.enumerated() {
            if p.extended {
                anyExtended = true
                var text = Substring(p.value)
                // RFC 2231 4: the first extended segment is charset'language'percent-encoded.
                if k == 0 {
                    let pieces = text.split(separator: "'", maxSplits: 2, omittingEmptySubsequences: false)
                    if pieces.count == 3 {
                        charset = pieces[0].isEmpty ? "us-ascii" : String(pieces[0])
                        text = pieces[2]
                    }
                }
                bytes += percentDecode(text)
            } else {
                bytes += Array(p.value.utf8)
            }
        }
        var value: String
        if anyExtended {
            value = Charset.decode(bytes, charset: charset)
        } else {
            value = String(decoding: bytes, as: UTF8.self)
            if value.contains("=?") {
                value = EncodedWords.decode(value)
            }
        }
        result.append((name, value))
    }
    return result
}

func percentDecode(_ s: Substring) -> [UInt8] {
    let b = Array(s.utf8)
    var out: [UInt8] = []
    var i = 0
    while i < b.count {
        if b[i] == UInt8(ascii: "%"), i + 2 < b.count,
            let h = TransferEncoding.hexValue(b[i + 1]), let l = TransferEncoding.hexValue(b[i + 2])
        {
            out.append(h << 4 | l)
            i += 3
        } else {
            out.append(b[i])
            i += 1
        }
    }
    return out
}

/// A lexer for structured header values: skips CFWS (RFC 5322 3.2.2) between tokens.
struct StructuredLexer {
    let b: [UInt8]
    var i = 0

    init(_ s: String) {
        self.b = Array(s.utf8)
    }

    var atEnd: Bool {
        mutating get {
            self.skipCFWS()
            return self.i >= self.b.count
        }
    }

    // RFC 5322 3.2.2: CFWS = (1*([FWS] comment) [FWS]) / FWS; comments nest.
    mutating func skipCFWS() {
        while self.i < self.b.count {
            let c = self.b[self.i]
            if isWSP(c) || c == cr || c == lf {
                self.i += 1
            } else if c == UInt8(ascii: "(") {
                _ = self.comment()
            } else {
                return
            }
        }
    }

    /// Reads a comment at the current position (which must be "("); returns its text.
    mutating func comment() -> String {
        var depth = 0
        var out: [UInt8] = []
        while self.i < self.b.count {
            let c = self.b[self.i]
            self.i += 1
            if c == UInt8(ascii: "\\"), self.i < self.b.count {
                out.append(self.b[self.i])
                self.i += 1
                continue
            }
            if c == UInt8(ascii: "(") {
                depth += 1
                if depth == 1 { continue }
            } else if c == UInt8(ascii: ")") {
                depth -= 1
                if depth == 0 { break }
            }
            out.append(c)
        }
        return headerString(out)
    }

    mutating func consume(_ c: UInt8) -> Bool {
        self.skipCFWS()
        if self.i < self.b.count, self.b[self.i] == c {
            self.i += 1
            return true
        }
        return false
    }

    mutating func skipPast(_ c: UInt8) {
        while self.i < self.b.count {
            let x = self.b[self.i]
            if x == UInt8(ascii: "\"") {
                _ = self.quotedString()
                continue
            }
            if x == c { return }
            self.i += 1
        }
    }

    // RFC 2045 5.1: token := 1*<any (US-ASCII) CHAR except SPACE, CTLs, or tspecials>; 8-bit tolerated.
    mutating func token(allowing extra: String = "") -> String? {
        self.skipCFWS()
        let start = self.i
        while self.i < self.b.count {
            let c = self.b[self.i]
            if c <= 32 || c == 127 { break }
            if "()<>@,;:\\\"/[]?=".utf8.contains(c) && !extra.utf8.contains(c) { break }
            self.i += 1
        }
        return self.i > start ? headerString(self.b[start..<self.i]) : nil
    }

    // RFC 5322 3.2.4: quoted-string = [CFWS] DQUOTE *([FWS] qcontent) [FWS] DQUOTE [CFWS]
    // An unterminated quoted string runs to the end.
    mutating func quotedString() -> String? {
        self.skipCFWS()
        guard self.i < self.b.count, self.b[self.i] == UInt8(ascii: "\"") else { return nil }
        self.i += 1
        var out: [UInt8] = []
        while self.i < self.b.count {
            let c = self.b[self.i]
            self.i += 1
            if c == UInt8(ascii: "\"") { break }
            if c == UInt8(ascii: "\\"), self.i < self.b.count {
                out.append(self.b[self.i])
                self.i += 1
                continue
            }
            // Folding inside a quoted string: the line ending is removed, the WSP kept.
            if c == cr || c == lf { continue }
            out.append(c)
        }
        return headerString(out)
    }
}
