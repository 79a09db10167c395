/// Composing messages: header fields, MIME structure and body encodings, with CRLF line endings and no
/// line longer than 998 octets (RFC 5322 2.1.1).

// MARK: - Parts

/// A MIME part to compose.
public struct ComposePart: Sendable {
    public enum Body: Sendable {
        /// Text, sent as `text/<subtype>; charset=utf-8`; line endings are normalised to CRLF.
        case text(String, subtype: String)
        /// Bytes with a content type, e.g. an attachment; base64 unless they are 7-bit text-like.
        case bytes([UInt8], ContentType)
        /// A complete message (message/rfc822, or message/global when it has 8-bit headers, RFC 6532 3.7).
        case message([UInt8])
        /// A multipart of the given subtype ("mixed", "alternative", "report", ...).
        case multipart(subtype: String, parameters: [(name: String, value: String)], parts: [ComposePart])
    }

    public var body: Body
    /// Content-Disposition type, e.g. "attachment" or "inline"; nil for none.
    public var disposition: String?
    /// File name for Content-Disposition, RFC 2231 encoded when not ASCII.
    public var filename: String?
    /// Extra header fields for this part, written as given (name, unstructured value).
    public var extraHeaders: [(name: String, value: String)]

    public init(
        _ body: Body,
        disposition: String? = nil,
        filename: String? = nil,
        extraHeaders: [(name: String, value: String)] = []
    ) {
        self.body = body
        self.disposition = disposition
        self.filename = filename
        self.extraHeaders = extraHeaders
    }

    public static func text(_ s: String) -> ComposePart { ComposePart(.text(s, subtype: "plain")) }

    /// multipart/alternative with a plain text and an HTML version (RFC 2046 5.1.4).
    public static func alternative(text: String, html: String) -> ComposePart {
        ComposePart(
            .multipart(
                subtype: "alternative",
                parameters: [],
                parts: [ComposePart(.text(text, subtype: "plain")), ComposePart(.text(html, subtype: "html"))]
            )
        )
    }

    /// An attachment with a file name.
    public static func attachment(_ data: [UInt8], type: ContentType, filename: String) -> ComposePart {
        ComposePart(.bytes(data, type), disposition: "attachment", filename: filename)
    }

    /// multipart/mixed with these parts.
    public static func mixed(_ parts: [ComposePart]) -> ComposePart {
        ComposePart(.multipart(subtype: "mixed", parameters: [], parts: parts))
    }
}

// MARK: - Composer

/// Writes a message: header fields first, then the body part. The caller states what the path to the
/// recipient allows: SMTPUTF8 (UTF-8 headers and addresses, RFC 6532) and 8BITMIME (8-bit bodies,
/// RFC 6152). With neither, the output is 7-bit only.
public struct MessageComposer: Sendable {
    public var smtputf8: Bool
    /// When false, everything is 7-bit: bodies are quoted-printable or base64 instead of 8bit.
    public var allow8bit: Bool
    /// Start of multipart boundaries; a counter is appended and a boundary is never one found in content.
    public var boundaryPrefix: String
    var boundaryCounter = 0
    /// The header written so far.
    public private(set) var header: [UInt8] = []

    public init(smtputf8: Bool = false, allow8bit: Bool = false, boundaryPrefix: String = "mox") {
        self.smtputf8 = smtputf8
        // RFC 6531 3.1: a server that offers SMTPUTF8 also offers 8BITMIME.
        self.allow8bit = allow8bit || smtputf8
        self.boundaryPrefix = boundaryPrefix
    }

    static func checkName(_ name: String) throws(ComposeError) {
        // RFC 5322 2.2: field names are printable US-ASCII except colon.
        guard !name.isEmpty, name.utf8.allSatisfy({ $0 > 32 && $0 < 127 && $0 != UInt8(ascii: ":") }) else {
            throw .invalidFieldName(name)
        }
    }

    /// An unstructured field (Subject, Comments, ...), encoded and folded.
    public mutating func add(_ name: String, text: String) throws(ComposeError) {
        try Self.checkName(name)
        self.header += HeaderEncoder.fold(
            name: name,
            tokens: HeaderEncoder.unstructuredTokens(text, smtputf8: self.smtputf8)
        )
    }

    /// An address field (From, To, Cc, Reply-To, ...).
    public mutating func add(_ name: String, addresses: [MessageAddress]) throws(ComposeError) {
        try Self.checkName(name)
        self.header += HeaderEncoder.fold(
            name: name,
            tokens: try HeaderEncoder.addressTokens(addresses, smtputf8: self.smtputf8)
        )
    }

    /// A structured field whose value the caller has formatted; folded only at spaces.
    public mutating func add(_ name: String, structured value: String) throws(ComposeError) {
        try Self.checkName(name)
        guard !value.unicodeScalars.contains(where: { ($0.value < 0x20 && $0 != "\t") || $0.value == 0x7f }) else {
            throw .invalidValue(value)
        }
        self.header += HeaderEncoder.fold(
            name: name,
            tokens: value.split(separator: " ").map(String.init)
        )
    }

    /// A Date field (RFC 5322 3.6.1).
    public mutating func add(date: MessageDate) {
        self.header += HeaderEncoder.fold(name: "Date", tokens: date.formatted.split(separator: " ").map(String.init))
    }

    /// The header written so far, then MIME-Version and the body part with its content fields.
    /// Throws for invalid extra header field names in parts.
    public mutating func finish(body: ComposePart) throws(ComposeError) -> [UInt8] {
        var out = self.header
        out += Array("MIME-Version: 1.0\r\n".utf8)
        out += try self.encode(body)
        // The message ends with a line ending, as SMTP DATA needs (RFC 5321 4.1.1.4).
        if out.count < 2 || out[out.count - 2] != cr || out[out.count - 1] != lf { out += [cr, lf] }
        return out
    }

    /// A part's header fields (content fields and extras), a blank line and its encoded body.
    mutating func encode(_ part: ComposePart) throws(ComposeError) -> [UInt8] {
        var fields: [UInt8] = []
        var body: [UInt8] = []
        switch part.body {
        case .text(let text, let subtype):
            let data = Self.normalizeLineEndings(Array(text.utf8))
            let (cte, encoded) = BodyEncoder.encode(data, text: true, allow8bit: self.allow8bit)
            fields += HeaderEncoder.fold(name: "Content-Type", tokens: ["text/\(subtype);", "charset=utf-8"])
            fields += HeaderEncoder.fold(name: "Content-Transfer-Encoding", tokens: [cte])
            body = encoded
        case .bytes(let data, let type):
            let isText = type.type == "text"
            let (cte, encoded) = BodyEncoder.encode(
                isText ? Self.normalizeLineEndings(data) : data,
                text: isText,
                allow8bit: self.allow8bit
            )
            fields += HeaderEncoder.fold(name: "Content-Type", tokens: Self.typeTokens(type))
            fields += HeaderEncoder.fold(name: "Content-Transfer-Encoding", tokens: [cte])
            body = encoded
        case .message(let data):
            let data = Self.normalizeLineEndings(data)
            let eightBit = data.contains { $0 >= 0x80 }
            let headerEnd = Header(parsing: data).end
            let utf8Header = data[0..<min(headerEnd, data.count)].contains { $0 >= 0x80 }
            // RFC 2046 5.2.1: message/rfc822 may only be 7bit, 8bit or binary; RFC 6532 3.7 lets message/global
            // use base64 or quoted-printable, which is what a 7-bit path needs.
            if eightBit && (!self.allow8bit || utf8Header) {
                fields += HeaderEncoder.fold(name: "Content-Type", tokens: ["message/global"])
                let (cte, encoded) = BodyEncoder.encode(data, text: true, allow8bit: self.allow8bit)
                fields += HeaderEncoder.fold(name: "Content-Transfer-Encoding", tokens: [cte])
                body = encoded
            } else {
                fields += HeaderEncoder.fold(name: "Content-Type", tokens: ["message/rfc822"])
                if eightBit { fields += HeaderEncoder.fold(name: "Content-Transfer-Encoding", tokens: ["8bit"]) }
                body = data
            }
        case .multipart(let subtype, let parameters, let parts):
            var encodedParts: [[UInt8]] = []
            for p in parts { encodedParts.append(try self.encode(p)) }
            let boundary = self.newBoundary(avoiding: encodedParts)
            let type = ContentType(
                type: "multipart",
                subtype: subtype,
                parameters: parameters + [("boundary", boundary)]
            )
            fields += HeaderEncoder.fold(name: "Content-Type", tokens: Self.typeTokens(type))
            let delimiter = Array("--\(boundary)".utf8)
            for p in encodedParts {
                body += delimiter + [cr, lf]
                body += p
                // RFC 2046 5.1.1: the CRLF before a delimiter belongs to the delimiter, not to the part.
                body += [cr, lf]
            }
            body += delimiter + Array("--\r\n".utf8)
        }
        if let d = part.disposition {
            var tokens = [d]
            if let f = part.filename {
                tokens[0] += ";"
                tokens += Self.parameterTokens(name: "filename", value: f)
            }
            fields += HeaderEncoder.fold(name: "Content-Disposition", tokens: tokens)
        }
        for (name, value) in part.extraHeaders {
            try Self.checkName(name)
            fields += HeaderEncoder.fold(
                name: name,
                tokens: HeaderEncoder.unstructuredTokens(value, smtputf8: self.smtputf8)
            )
        }
        return fields + [cr, lf] + body
    }

    /// A boundary that occurs in none of the encoded parts (RFC 2046 5.1.1). "=_" cannot occur in
    /// quoted-printable or base64 output, so a collision needs it literally in 7bit/8bit content.
    mutating func newBoundary(avoiding parts: [[UInt8]]) -> String {
        // RFC 2046 5.1.1: at most 70 characters from bchars; the prefix is cut to letters, digits and a few
        // punctuation characters, and to 50 characters.
        let allowed = "'()+_,-./=?"
        let prefix = String(
            String.UnicodeScalarView(
                self.boundaryPrefix.unicodeScalars.filter {
                    ($0.value < 0x80 && ($0.properties.isAlphabetic || ("0"..."9").contains($0)))
                        || allowed.unicodeScalars.contains($0)
                }
                .prefix(50)
            )
        )
        while true {
            self.boundaryCounter += 1
            let b = "=_\(prefix)_\(self.boundaryCounter)"
            let needle = Array(b.utf8)
            if !parts.contains(where: { Self.contains($0, needle) }) { return b }
        }
    }

    static func contains(_ hay: [UInt8], _ needle: [UInt8]) -> Bool {
        guard needle.count <= hay.count, let first = needle.first else { return false }
        var i = 0
        while i + needle.count <= hay.count {
            if hay[i] == first && hay[i..<(i + needle.count)].elementsEqual(needle) { return true }
            i += 1
        }
        return false
    }

    /// Bare CR and bare LF become CRLF.
    static func normalizeLineEndings(_ data: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(data.count + data.count / 40)
        var i = 0
        while i < data.count {
            let b = data[i]
            if b == cr {
                out += [cr, lf]
                if i + 1 < data.count && data[i + 1] == lf { i += 1 }
            } else if b == lf {
                out += [cr, lf]
            } else {
                out.append(b)
            }
            i += 1
        }
        return out
    }

    static func typeTokens(_ type: ContentType) -> [String] {
        var tokens = ["\(type.type)/\(type.subtype)"]
        for (name, value) in type.parameters {
            tokens[tokens.count - 1] += ";"
            tokens += Self.parameterTokens(name: name, value: value)
        }
        return tokens
    }

    /// `name=value`, quoted when not a token (RFC 2045 5.1), or RFC 2231 encoded (and split into
    /// continuations of at most 60 characters) when not ASCII or very long.
    static func parameterTokens(name: String, value: String) -> [String] {
        let tspecials = "()<>@,;:\\\"/[]?="
        let ascii = value.unicodeScalars.allSatisfy { $0.value >= 0x20 && $0.value < 0x7f }
        if ascii && value.utf8.count < 200 {
            let isToken =
                !value.isEmpty
                && value.unicodeScalars.allSatisfy { $0.value > 0x20 && !tspecials.unicodeScalars.contains($0) }
            if isToken { return ["\(name)=\(value)"] }
            var q = "\""
            for c in value.unicodeScalars {
                if c == "\"" || c == "\\" { q += "\\" }
                q.unicodeScalars.append(c)
            }
            return ["\(name)=\(q)\""]
        }
        // RFC 2231 4: charset'language'percent-encoded octets; RFC 2231 3: name*0*, name*1*, ...
        var pieces: [String] = []
        var current = ""
        for ch in value {
            var enc = ""
            for b in String(ch).utf8 {
                switch b {
                case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                    UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "."), UInt8(ascii: "-"), UInt8(ascii: "_"):
                    enc.unicodeScalars.append(Unicode.Scalar(b))
                default:
                    enc += "%" + HeaderEncoder.hex2(b)
                }
            }
            if !current.isEmpty && current.utf8.count + enc.utf8.count > 60 {
                pieces.append(current)
                current = ""
            }
            current += enc
        }
        pieces.append(current)
        if pieces.count == 1 {
            return ["\(name)*=utf-8''\(pieces[0])"]
        }
        var tokens: [String] = []
        for (k, p) in pieces.enumerated() {
            let last = k == pieces.count - 1
            tokens.append("\(name)*\(k)*=" + (k == 0 ? "utf-8''" : "") + p + (last ? "" : ";"))
        }
        return tokens
    }
}

// MARK: - Body encodings

/// Picks and applies a Content-Transfer-Encoding (RFC 2045 6).
public enum BodyEncoder {
    // RFC 5322 2.1.1 and RFC 2045 2.7: lines at most 998 octets excluding CRLF.
    static let maxLine = 998

    /// The encoding name and the encoded bytes. Text (with CRLF line endings) is 7bit when it can be,
    /// 8bit when allowed and valid UTF-8, else quoted-printable when mostly ASCII, else base64. Other data is
    /// 7bit when it is plain ASCII lines, else base64.
    public static func encode(_ data: [UInt8], text: Bool, allow8bit: Bool) -> (String, [UInt8]) {
        var longLine = false
        var bareCRorLF = false
        var nul = false
        var high = 0
        var lineLength = 0
        var i = 0
        while i < data.count {
            let b = data[i]
            if b == cr {
                if i + 1 < data.count && data[i + 1] == lf {
                    i += 2
                    lineLength = 0
                    continue
                }
                bareCRorLF = true
            } else if b == lf {
                bareCRorLF = true
            } else if b == 0 {
                nul = true
            } else if b >= 0x80 {
                high += 1
            }
            lineLength += 1
            if lineLength > Self.maxLine { longLine = true }
            i += 1
        }
        let lineSafe = !longLine && !bareCRorLF && !nul
        let body = data
        if lineSafe && high == 0 {
            return ("7bit", body)
        }
        if text && lineSafe && allow8bit && String(validating: data, as: UTF8.self) != nil {
            return ("8bit", body)
        }
        if text && !nul && !bareCRorLF && high * 4 < data.count {
            return ("quoted-printable", Self.quotedPrintable(data))
        }
        return ("base64", Self.base64Bytes(data, lineLength: 76))
    }

    /// Base64 (RFC 2045 6.8), in lines of `lineLength` characters with CRLF, or one line when 0.
    static func base64Bytes(_ data: [UInt8], lineLength: Int) -> [UInt8] {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(data.count * 4 / 3 + data.count / 50 + 4)
        var column = 0
        var i = 0
        while i < data.count {
            let n = min(3, data.count - i)
            let b0 = UInt32(data[i])
            let b1 = n > 1 ? UInt32(data[i + 1]) : 0
            let b2 = n > 2 ? UInt32(data[i + 2]) : 0
            let v = (b0 << 16) | (b1 << 8) | b2
            out.append(alphabet[Int((v >> 18) & 63)])
            out.append(alphabet[Int((v >> 12) & 63)])
            out.append(n > 1 ? alphabet[Int((v >> 6) & 63)] : UInt8(ascii: "="))
            out.append(n > 2 ? alphabet[Int(v & 63)] : UInt8(ascii: "="))
            i += 3
            column += 4
            if lineLength > 0 && column >= lineLength {
                out += [cr, lf]
                column = 0
            }
        }
        if lineLength > 0 && column > 0 { out += [cr, lf] }
        return out
    }

    /// Quoted-printable (RFC 2045 6.7) of text with CRLF line endings: CRLF stays a hard line break,
    /// lines are at most 76 characters with soft breaks, trailing whitespace is encoded.
    static func quotedPrintable(_ data: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(data.count + data.count / 8)
        var column = 0
        var i = 0
        while i < data.count {
            let b = data[i]
            if b == cr && i + 1 < data.count && data[i + 1] == lf {
                out += [cr, lf]
                column = 0
                i += 2
                continue
            }
            let atLineEnd = i + 1 == data.count || (data[i + 1] == cr && i + 2 < data.count && data[i + 2] == lf)
            var enc: [UInt8]
            // RFC 2045 6.7 (1), (2), (3): printable ASCII except "=" literal; whitespace literal except at a line end.
            if (b >= 33 && b <= 126 && b != UInt8(ascii: "=")) || (isWSP(b) && !atLineEnd) {
                enc = [b]
            } else {
                enc = Array(("=" + HeaderEncoder.hex2(b)).utf8)
            }
            // RFC 2045 6.7 (5): at most 76 characters per line, counting the "=" of a soft break.
            if column + enc.count > 75 {
                out += Array("=\r\n".utf8)
                column = 0
            }
            out += enc
            column += enc.count
            i += 1
        }
        return out
    }
}
