/// One MIME entity: a header section and a body, as offsets into the whole message, with its
/// subparts (multipart) or encapsulated message (message/rfc822, message/global).
/// - SeeAlso: RFC 2045, RFC 2046
public struct Part: Sendable {
    /// The header section of this part (fields point into the message bytes).
    public var header: Header
    /// Offset of the first header byte.
    public var headerStart: Int
    /// Offset of the first body byte (after the empty line ending the header).
    public var bodyStart: Int
    /// Offset just past the body. For a multipart child this excludes the line ending before the
    /// next boundary, which RFC 2046 5.1.1 assigns to the boundary.
    public var end: Int
    /// The effective content type: the RFC 2045 5.2 default when absent, application/octet-stream when
    /// unreadable or when a multipart has no parts.
    public var contentType: ContentType
    /// Whether a Content-Type field was present.
    public var hasContentType: Bool
    /// Lower-case Content-Transfer-Encoding; "7bit" when absent (RFC 2045 6.1).
    public var transferEncoding: String
    public var contentID: String?
    public var contentDescription: String?
    public var contentMD5: String?
    public var contentLocation: String?
    public var disposition: ContentDisposition?
    /// Content-Language tags (RFC 3282).
    public var languages: [String]
    /// Children of a multipart.
    public var parts: [Part]
    /// The encapsulated message of a message/rfc822 or message/global part, as a one-element array
    /// (structs cannot contain themselves directly).
    public var encapsulated: [Part]
    /// Number of lines in the body (line endings counted, plus a final unterminated line).
    public var bodyLines: Int
    /// Multipart only: offsets of the preamble and epilogue (RFC 2046 5.1.1), possibly empty.
    public var preamble: Range<Int>?
    public var epilogue: Range<Int>?
    /// Multipart only: whether the closing boundary was found.
    public var hasClosingBoundary: Bool

    /// Body size in bytes.
    public var bodySize: Int { self.end - self.bodyStart }
    public var isMultipart: Bool { self.contentType.type == "multipart" }
    /// The message inside a message/rfc822 or message/global part.
    public var message: Part? { self.encapsulated.first }

    /// The header bytes, including the empty line that ends them (IMAP BODY[n.MIME] / BODY[HEADER]).
    public var headerBytes: ArraySlice<UInt8> { self.header.bytes[self.headerStart..<self.bodyStart] }
    /// The undecoded body bytes (IMAP BODY[n] / BODY[TEXT]).
    public var bodyBytes: ArraySlice<UInt8> { self.header.bytes[self.bodyStart..<self.end] }
    /// Header and body together.
    public var rawBytes: ArraySlice<UInt8> { self.header.bytes[self.headerStart..<self.end] }

    /// The body with the transfer encoding undone.
    public var decodedBody: [UInt8] {
        TransferEncoding.decode(self.bodyBytes, encoding: self.transferEncoding)
    }

    /// The body decoded to text using the charset parameter (us-ascii when absent).
    public var decodedText: String {
        Charset.decode(self.decodedBody, charset: self.contentType.parameter("charset") ?? "us-ascii")
    }

    /// Resolves an IMAP section part number (RFC 9051 6.4.5): "1.2" is `[1, 2]`. A non-multipart
    /// part has a single part "1", itself; numbers of a message/rfc822 part refer to its message's parts.
    public func subpart(_ path: [Int]) -> Part? {
        // The part whose body the next number indexes: the message itself at first, then the
        // selected part, or for message/rfc822 the message inside it.
        var container = self
        var current = self
        for n in path {
            guard n >= 1 else { return nil }
            if container.isMultipart {
                guard n <= container.parts.count else { return nil }
                current = container.parts[n - 1]
            } else {
                guard n == 1 else { return nil }
                current = container
            }
            container = current.message ?? current
        }
        return current
    }
}

/// A parsed message: the bytes and the root part.
public struct Message: Sendable {
    public let bytes: [UInt8]
    public let root: Part

    /// Parses a message. Never fails: broken structure gives the best tree that can be read.
    /// Cost is linear in the message size times the nesting depth, which `limits` bounds.
    public init(parsing bytes: [UInt8], limits: MessageLimits = .default) {
        self.bytes = bytes
        var parser = PartParser(bytes: bytes, limits: limits)
        self.root = parser.parse(start: 0, end: bytes.count, depth: 0, defaultType: ContentType.defaultType)
    }

    public var header: Header { self.root.header }

    /// The IMAP envelope of the message.
    public var envelope: Envelope { Envelope(header: self.root.header) }

    /// The IMAP body structure of the message.
    public var bodyStructure: BodyStructure { BodyStructure(self.root) }
}

struct PartParser {
    let bytes: [UInt8]
    let limits: MessageLimits
    var partCount = 0

    init(bytes: [UInt8], limits: MessageLimits) {
        self.bytes = bytes
        self.limits = limits
    }

    mutating func parse(start: Int, end: Int, depth: Int, defaultType: ContentType) -> Part {
        self.partCount += 1
        let (header, bodyStart) = Header.parse(self.bytes, start: start, limit: end, limits: self.limits)
        let fields = PartFields(header: header, defaultType: defaultType)
        let ct = fields.contentType
        var part = Part(
            header: header,
            headerStart: start,
            bodyStart: bodyStart,
            end: end,
            contentType: ct,
            hasContentType: fields.hasContentType,
            transferEncoding: fields.transferEncoding,
            contentID: fields.contentID,
            contentDescription: fields.contentDescription,
            contentMD5: fields.contentMD5,
            contentLocation: fields.contentLocation,
            disposition: fields.disposition,
            languages: fields.languages,
            parts: [],
            encapsulated: [],
            bodyLines: Self.countLines(self.bytes, bodyStart, end),
            preamble: nil,
            epilogue: nil,
            hasClosingBoundary: false
        )
        // Past the limits, parts are kept whole as leaves.
        let descend = depth < self.limits.maxDepth && self.partCount < self.limits.maxParts
        if ct.type == "multipart" {
            if descend, let boundary = fields.boundary {
                self.splitMultipart(&part, boundary: Array(boundary.utf8), depth: depth)
            }
            if part.parts.isEmpty {
                // Without a boundary parameter or any delimiter line there are no parts (RFC 2046 5.1.1
                // requires at least one); the body is kept as opaque data, as mox does. The same holds
                // for a multipart past the nesting limit.
                part.contentType = ContentType(
                    type: "application",
                    subtype: "octet-stream",
                    parameters: ct.parameters
                )
            }
        } else if descend, fields.encapsulatesMessage {
            // RFC 2046 5.2.1: message/rfc822 bodies are not encoded, so the inner message is parsed in place.
            let inner = self.parse(start: bodyStart, end: end, depth: depth + 1, defaultType: ContentType.defaultType)
            part.encapsulated = [inner]
        }
        return part
    }

    /// RFC 2046 5.1.1:
    ///     dash-boundary := "--" boundary
    ///     delimiter := CRLF dash-boundary
    ///     close-delimiter := delimiter "--"
    ///     body-part lines: the CRLF before a delimiter belongs to the delimiter.
    /// Boundary lines may end in linear whitespace. A missing close-delimiter ends the last part at
    /// the end of the enclosing body.
    mutating func splitMultipart(_ part: inout Part, boundary: [UInt8], depth: Int) {
        let defaultType = PartFields.childDefaultType(of: part.contentType)
        var ranges: [Range<Int>] = []
        var currentStart: Int?
        var pos = part.bodyStart
        let end = part.end
        var closed = false
        var firstDelimiter: Int?
        while pos < end {
            let lineStart = pos
            let next = Header.lineEnd(self.bytes, from: pos, limit: end)
            if let kind = self.delimiterKind(at: lineStart, lineEnd: next, boundary: boundary) {
                // The line ending before the delimiter belongs to it.
                var contentEnd = lineStart
                if contentEnd > part.bodyStart, self.bytes[contentEnd - 1] == lf {
                    contentEnd -= 1
                    if contentEnd > part.bodyStart, self.bytes[contentEnd - 1] == cr { contentEnd -= 1 }
                }
                if firstDelimiter == nil {
                    firstDelimiter = contentEnd
                }
                if let s = currentStart {
                    ranges.append(s..<max(s, contentEnd))
                }
                if kind == .close {
                    closed = true
                    part.epilogue = next..<end
                    currentStart = nil
                    break
                }
                currentStart = next
                if self.partCount + ranges.count >= self.limits.maxParts {
                    break
                }
            }
            pos = next
        }
        if let s = currentStart {
            ranges.append(s..<end)
        }
        if let f = firstDelimiter {
            part.preamble = part.bodyStart..<f
        }
        part.hasClosingBoundary = closed
        for r in ranges {
            part.parts.append(
                self.parse(start: r.lowerBound, end: r.upperBound, depth: depth + 1, defaultType: defaultType)
            )
        }
    }

    enum DelimiterKind { case open, close }

    func delimiterKind(at start: Int, lineEnd: Int, boundary: [UInt8]) -> DelimiterKind? {
        let need = 2 + boundary.count
        guard lineEnd - start >= need, self.bytes[start] == UInt8(ascii: "-"),
            self.bytes[start + 1] == UInt8(ascii: "-")
        else { return nil }
        for k in 0..<boundary.count where self.bytes[start + 2 + k] != boundary[k] {
            return nil
        }
        var i = start + need
        var kind = DelimiterKind.open
        if i + 1 < lineEnd, self.bytes[i] == UInt8(ascii: "-"), self.bytes[i + 1] == UInt8(ascii: "-") {
            kind = .close
            i += 2
        }
        // Only transport padding (whitespace) may follow (RFC 2046 5.1.1).
        while i < lineEnd {
            let c = self.bytes[i]
            guard isWSP(c) || c == cr || c == lf else { return nil }
            i += 1
        }
        return kind
    }

    static func countLines(_ b: [UInt8], _ start: Int, _ end: Int) -> Int {
        guard start >= 0, end > start, end <= b.count else { return 0 }
        var n = 0
        var i = start
        while i < end {
            i = Header.lineEnd(b, from: i, limit: end)
            n += 1
        }
        return n
    }
}

/// What a part's header says about it: the fields the part tree and IMAP's body structure read.
/// Shared by the in-memory parser (`Message`) and the streaming one (`MessageScanner`).
struct PartFields {
    var contentType: ContentType
    var hasContentType: Bool
    var transferEncoding: String
    var contentID: String?
    var contentDescription: String?
    var contentMD5: String?
    var contentLocation: String?
    var disposition: ContentDisposition?
    var languages: [String]

    init(header: Header, defaultType: ContentType) {
        var ct = defaultType
        var hasCT = false
        if let v = header.first("content-type") {
            hasCT = true
            if let parsed = ContentType(parsing: v) {
                ct = parsed
            } else {
                // RFC 2045 5.2 suggests the text/plain default for an invalid Content-Type; like mox,
                // use application/octet-stream so unreadable content is not shown as text.
                ct = ContentType(type: "application", subtype: "octet-stream")
            }
        }
        let cte = header.first("content-transfer-encoding").map { asciiLowercased(trimmedWhitespace($0)) } ?? "7bit"
        self.contentType = ct
        self.hasContentType = hasCT
        self.transferEncoding = cte.isEmpty ? "7bit" : cte
        self.contentID = header.first("content-id")
        self.contentDescription = header.first("content-description")
        self.contentMD5 = header.first("content-md5")
        self.contentLocation = header.first("content-location")
        self.disposition = header.first("content-disposition").flatMap { ContentDisposition(parsing: $0) }
        self.languages =
            header.first("content-language").map { v in
                v.split(separator: ",").map { String(trimmedWhitespace($0)) }.filter { !$0.isEmpty }
            } ?? []
    }

    /// A multipart's boundary parameter, when it has a usable one.
    var boundary: String? {
        guard self.contentType.type == "multipart", let b = self.contentType.parameter("boundary"), !b.isEmpty else {
            return nil
        }
        return b
    }

    /// RFC 2046 5.2.1: message/rfc822 (and RFC 6532 message/global) bodies are not encoded, so
    /// the inner message is parsed in place; with another transfer encoding it stays a leaf.
    var encapsulatesMessage: Bool {
        self.contentType.type == "message"
            && (self.contentType.subtype == "rfc822" || self.contentType.subtype == "global")
            && (self.transferEncoding == "7bit" || self.transferEncoding == "8bit" || self.transferEncoding == "binary")
    }

    /// RFC 2046 5.1.5: in multipart/digest the parts default to message/rfc822.
    static func childDefaultType(of multipart: ContentType) -> ContentType {
        multipart.subtype == "digest" ? ContentType.digestDefault : ContentType.defaultType
    }
}
