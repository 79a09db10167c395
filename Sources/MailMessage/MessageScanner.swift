#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A MIME part as the streaming parser sees it: offsets into the message, what its header says,
/// its subparts, but not its bytes. Its `header` holds only this part's header section (field
/// offsets are relative to that), so memory stays bounded whatever the size of the message.
/// - SeeAlso: RFC 2045, RFC 2046
public struct PartOutline: Sendable, MIMEPartShape {
    /// This part's header section alone; its field offsets count from the section's first byte.
    public var header: Header
    /// Offsets in the message: first header byte, first body byte, just past the body (for a
    /// multipart child, before the line ending that RFC 2046 5.1.1 gives to the next boundary).
    public var headerStart: Int
    public var bodyStart: Int
    public var end: Int
    public var contentType: ContentType
    public var hasContentType: Bool
    public var transferEncoding: String
    public var contentID: String?
    public var contentDescription: String?
    public var contentMD5: String?
    public var contentLocation: String?
    public var disposition: ContentDisposition?
    public var languages: [String]
    public var parts: [PartOutline]
    /// The message of a message/rfc822 or message/global part, as a one-element array.
    public var encapsulated: [PartOutline]
    public var bodyLines: Int

    public var bodySize: Int { self.end - self.bodyStart }
    public var childParts: [PartOutline] { self.parts }
    public var encapsulatedMessage: PartOutline? { self.encapsulated.first }
}

/// What the streaming parser found in a message.
public struct ScannedMessage: Sendable {
    public var root: PartOutline
    /// Octets scanned.
    public var size: Int
    /// The inline text/plain parts and text/html parts without tags, decoded and joined with
    /// newlines, as `TextExtraction.text(of:)` gives them; cut off after the scanner's text limit.
    public var text: String
    /// Whether `text` was cut off at the limit.
    public var textTruncated: Bool
    /// Whether any octet is above 127 (8BITMIME, RFC 6152) or is NUL.
    public var has8bit: Bool
    public var hasNUL: Bool

    public var header: Header { self.root.header }
    public var envelope: Envelope { Envelope(header: self.root.header) }
    public var bodyStructure: BodyStructure { BodyStructure(self.root) }
}

/// Parses a message's MIME structure from its bytes as they arrive, in chunks of any size, with
/// memory bounded by the limits (header sections and captured text), never by the message size.
/// The result describes the same tree the in-memory parser (`Message(parsing:)`) builds, so the
/// IMAP body structure and envelope of a message received as a stream are the ones it would get
/// from the whole file.
///
/// It works line by line. The part on top of a stack is being read; each line is first checked
/// against the boundaries of the open multiparts, outermost first (an outer delimiter ends every
/// part inside it, RFC 2046 5.1.1), then belongs to the header or body of the top part.
public struct MessageScanner: Sendable {
    public struct Limits: Sendable {
        public var message: MessageLimits
        /// The most header bytes kept for one part; a longer header section is ended there.
        public var maxHeaderBytes: Int
        /// The most text-part bytes kept for `ScannedMessage.text` (undecoded), for the whole message.
        public var maxTextBytes: Int

        public init(message: MessageLimits = .default, maxHeaderBytes: Int = 1 << 20, maxTextBytes: Int = 1 << 20) {
            self.message = message
            self.maxHeaderBytes = maxHeaderBytes
            self.maxTextBytes = maxTextBytes
        }
    }

    enum Kind: Sendable {
        case leaf
        case multipart
        case message
    }

    /// A part whose end has not been seen.
    struct Frame: Sendable {
        var depth: Int
        var defaultType: ContentType
        var headerStart: Int
        var headerBytes: [UInt8] = []
        var inHeader = true
        var hasFields = false
        var bodyStart = 0
        var lfsAtBodyStart = 0
        var header = Header(bytes: [], fields: [], start: 0, end: 0)
        var fields: PartFields?
        var kind = Kind.leaf
        /// The boundary a multipart's lines are checked against; empty once closed or past the limits.
        var boundary: [UInt8] = []
        var parts: [PartOutline] = []
        var encapsulated: [PartOutline] = []
        /// Index into `pieces` of the text this part's body is captured into, or -1.
        var piece = -1
        /// The first piece of this part or a part inside it.
        var firstPiece = 0
        /// The line that ended the header when it is not part of the header (a line that is not a
        /// field starts the body), and where the deciding line ended: a part that ends before that
        /// (the line ending given to a delimiter) is read again, as `Header.parse` would see it.
        var decidingLine: [UInt8] = []
        var decidingLineEnd = 0
    }

    struct Piece: Sendable {
        var bytes: [UInt8] = []
        var encoding: String
        var charset: String
        var html: Bool
    }

    public let limits: Limits
    var stack: [Frame]
    var pieces: [Piece] = []
    var textBytes = 0
    var textTruncated = false
    var partCount = 1
    var has8bit = false
    var hasNUL = false

    /// Octets and LFs seen so far.
    var offset = 0
    var lfs = 0
    /// The last three octets seen, newest first (0 before the start).
    var last: (UInt8, UInt8, UInt8) = (0, 0, 0)

    // The current line.
    var lineStart = 0
    var lfsBeforeLine = 0
    /// The three octets before the line, newest first.
    var before: (UInt8, UInt8, UInt8) = (0, 0, 0)
    var line: [UInt8] = []
    var lineLength = 0
    /// How much of the line is kept in `line`: all of it in a header (within the header limit),
    /// else enough to tell a boundary delimiter.
    var lineCap = 0
    /// Whether the octets past `lineCap` are only whitespace and line ends (transport padding).
    var tailIsPadding = true
    /// Length of the top part's captured text when the line started, to drop a delimiter line.
    var pieceLengthAtLineStart = 0
    /// The longest boundary being checked, plus room for "--" on both sides.
    var delimiterCap = 0

    public init(limits: Limits = Limits()) {
        self.init(limits: limits, depth: 0, defaultType: ContentType.defaultType)
    }

    /// A scanner for a part at `depth` whose type defaults to `defaultType`.
    init(limits: Limits, depth: Int, defaultType: ContentType) {
        self.limits = limits
        self.stack = [Frame(depth: depth, defaultType: defaultType, headerStart: 0)]
        self.startLine()
    }

    // MARK: - Input

    public mutating func feed(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { self.feed($0) }
    }

    public mutating func feed(_ bytes: ArraySlice<UInt8>) {
        bytes.withUnsafeBytes { self.feed($0) }
    }

    public mutating func feed(_ buffer: UnsafeRawBufferPointer) {
        guard let base = buffer.baseAddress, buffer.count > 0 else { return }
        var i = 0
        let n = buffer.count
        while i < n {
            let hit = memchr(base + i, Int32(lf), n - i)
            let segmentEnd = hit.map { base.distance(to: UnsafeRawPointer($0)) + 1 } ?? n
            self.append(UnsafeRawBufferPointer(rebasing: buffer[i..<segmentEnd]))
            i = segmentEnd
            if hit != nil {
                self.lfs += 1
                self.endLine()
                self.startLine()
            }
        }
    }

    /// Ends the message: the last line (if it has no line ending) and every open part.
    public mutating func finish() -> ScannedMessage {
        if self.lineLength > 0 {
            self.endLine()
        }
        let end = self.offset
        while self.stack.count > 1 {
            let outline = self.close(self.stack.removeLast(), end: end, lfsAtEnd: self.lfs, lastByte: self.last.0)
            self.attach(outline)
        }
        let root = self.close(self.stack.removeLast(), end: end, lfsAtEnd: self.lfs, lastByte: self.last.0)
        var texts: [String] = []
        for piece in self.pieces {
            let decoded = Charset.decode(TransferEncoding.decode(piece.bytes[...], encoding: piece.encoding), charset: piece.charset)
            texts.append(piece.html ? TextExtraction.stripHTML(decoded) : decoded)
        }
        return ScannedMessage(
            root: root,
            size: end,
            text: texts.joined(separator: "\n"),
            textTruncated: self.textTruncated,
            has8bit: self.has8bit,
            hasNUL: self.hasNUL
        )
    }

    /// Scans a whole message held in memory.
    public static func scan(_ bytes: [UInt8], limits: Limits = Limits()) -> ScannedMessage {
        var scanner = MessageScanner(limits: limits)
        scanner.feed(bytes)
        return scanner.finish()
    }

    // MARK: - Lines

    mutating func startLine() {
        self.lineStart = self.offset
        self.lfsBeforeLine = self.lfs
        self.before = self.last
        self.line.removeAll(keepingCapacity: true)
        self.lineLength = 0
        self.tailIsPadding = true
        let top = self.stack[self.stack.count - 1]
        if top.inHeader {
            self.lineCap = max(0, self.limits.maxHeaderBytes - top.headerBytes.count)
        } else {
            self.lineCap = self.delimiterCap
        }
        self.pieceLengthAtLineStart = top.piece >= 0 ? self.pieces[top.piece].bytes.count : 0
    }

    mutating func append(_ segment: UnsafeRawBufferPointer) {
        let n = segment.count
        guard n > 0 else { return }
        if !(self.hasNUL && self.has8bit) {
            Self.scanFlags(segment, has8bit: &self.has8bit, hasNUL: &self.hasNUL)
        }
        let keep = min(n, max(0, self.lineCap - self.line.count))
        if keep > 0 {
            self.line.append(contentsOf: segment[0..<keep])
        }
        if keep < n, self.tailIsPadding, self.line.count >= 2, self.line[0] == UInt8(ascii: "-"),
            self.line[1] == UInt8(ascii: "-")
        {
            for b in segment[keep...] where !(isWSP(b) || b == cr || b == lf) {
                self.tailIsPadding = false
                break
            }
        }
        let top = self.stack.count - 1
        if !self.stack[top].inHeader, self.stack[top].piece >= 0 {
            self.capture(segment, into: self.stack[top].piece)
        }
        self.lineLength += n
        self.offset += n
        switch n {
        case 1: self.last = (segment[0], self.last.0, self.last.1)
        case 2: self.last = (segment[1], segment[0], self.last.0)
        default: self.last = (segment[n - 1], segment[n - 2], segment[n - 3])
        }
    }

    /// Sets the flags for octets above 127 and NUL, eight octets at a time.
    static func scanFlags(_ bytes: UnsafeRawBufferPointer, has8bit: inout Bool, hasNUL: inout Bool) {
        let high: UInt64 = 0x8080_8080_8080_8080
        let ones: UInt64 = 0x0101_0101_0101_0101
        var i = 0
        let n = bytes.count
        while i + 8 <= n {
            let w = bytes.loadUnaligned(fromByteOffset: i, as: UInt64.self)
            if w & high != 0 { has8bit = true }
            // A zero byte: the classic "has zero byte" test.
            if (w &- ones) & ~w & high != 0 { hasNUL = true }
            if has8bit && hasNUL { return }
            i += 8
        }
        while i < n {
            let b = bytes[i]
            if b >= 0x80 { has8bit = true } else if b == 0 { hasNUL = true }
            i += 1
        }
    }

    mutating func capture(_ bytes: UnsafeRawBufferPointer, into piece: Int) {
        let room = self.limits.maxTextBytes - self.textBytes
        guard room > 0 else {
            self.textTruncated = true
            return
        }
        let take = min(room, bytes.count)
        if take < bytes.count { self.textTruncated = true }
        self.pieces[piece].bytes.append(contentsOf: bytes[0..<take])
        self.textBytes += take
    }

    /// A complete line (or the last one, without line ending): a delimiter of an open multipart,
    /// or part of the top part's header or body. A line that ends a header may start a part
    /// (a multipart body, an encapsulated message) that takes it in turn, hence the loop.
    mutating func endLine() {
        while true {
            if self.checkDelimiters() { return }
            let top = self.stack.count - 1
            guard self.stack[top].inHeader else { return }
            switch self.classifyHeaderLine(hasFields: self.stack[top].hasFields) {
            case .blank:
                self.stack[top].headerBytes += self.line
                self.stack[top].decidingLineEnd = self.lineStart + self.lineLength
                self.endHeader(bodyStart: self.lineStart + self.lineLength, lfs: self.lfs)
                return
            case .field, .continuation:
                if self.stack[top].headerBytes.count + self.lineLength > self.limits.maxHeaderBytes {
                    // Past the limit the header section ends; the line starts the body.
                    self.stack[top].decidingLine = self.line
                    self.stack[top].decidingLineEnd = self.lineStart + self.lineLength
                    self.endHeader(bodyStart: self.lineStart, lfs: self.lfsBeforeLine)
                    self.replayLineIntoBody()
                    continue
                }
                self.stack[top].headerBytes += self.line
                self.stack[top].hasFields = true
                return
            case .body:
                // Not a header field: the body starts with this line (as in `Header.parse`).
                self.stack[top].decidingLine = self.line
                self.stack[top].decidingLineEnd = self.lineStart + self.lineLength
                self.endHeader(bodyStart: self.lineStart, lfs: self.lfsBeforeLine)
                self.replayLineIntoBody()
                continue
            }
        }
    }

    /// A line that turned out to be body after the header ended: capture it as text when the
    /// new top part keeps its text, and re-check it against the boundaries now open.
    mutating func replayLineIntoBody() {
        let top = self.stack.count - 1
        self.pieceLengthAtLineStart = self.stack[top].piece >= 0 ? self.pieces[self.stack[top].piece].bytes.count : 0
        if !self.stack[top].inHeader, self.stack[top].piece >= 0 {
            let line = self.line
            line.withUnsafeBytes { self.capture($0, into: self.stack[top].piece) }
        }
    }

    enum HeaderLine {
        case blank, field, continuation, body
    }

    /// What `Header.parse` makes of a line at the start of a field.
    ///
    ///     field = field-name ":" unstructured CRLF            ; RFC 5322 3.6.8
    ///     obs-optional = field-name *WSP ":" unstructured CRLF ; RFC 5322 4.5.8
    func classifyHeaderLine(hasFields: Bool) -> HeaderLine {
        let l = self.line
        guard let b = l.first else { return .blank }
        if b == lf { return .blank }
        if b == cr, l.count == 1 || l[1] == lf { return .blank }
        var i = 0
        while i < l.count, l[i] != UInt8(ascii: ":"), l[i] != lf, l[i] != cr, !isWSP(l[i]) {
            i += 1
        }
        let nameEnd = i
        while i < l.count, isWSP(l[i]) { i += 1 }
        if nameEnd > 0, i < l.count, l[i] == UInt8(ascii: ":") { return .field }
        if isWSP(b), hasFields { return .continuation }
        return .body
    }

    /// Checks the line against the open multiparts' boundaries, outermost first; on a match,
    /// ends the parts inside that multipart and starts its next part (or its epilogue).
    mutating func checkDelimiters() -> Bool {
        guard self.delimiterCap > 0, self.line.count >= 3, self.line[0] == UInt8(ascii: "-"),
            self.line[1] == UInt8(ascii: "-")
        else { return false }
        for i in self.stack.indices where !self.stack[i].boundary.isEmpty && !self.stack[i].inHeader {
            if let close = self.delimiter(self.stack[i].boundary) {
                self.delimiterFound(multipart: i, close: close)
                return true
            }
        }
        return false
    }

    /// RFC 2046 5.1.1: "--" boundary, optionally "--" (the close delimiter), then only transport
    /// padding (whitespace) to the end of the line. Nil when the line is not a delimiter.
    func delimiter(_ boundary: [UInt8]) -> Bool? {
        let need = 2 + boundary.count
        let l = self.line
        guard self.lineLength >= need, l.count >= need else { return nil }
        for k in 0..<boundary.count where l[2 + k] != boundary[k] {
            return nil
        }
        var i = need
        var close = false
        if i + 1 < self.lineLength, i + 1 < l.count, l[i] == UInt8(ascii: "-"), l[i + 1] == UInt8(ascii: "-") {
            close = true
            i += 2
        }
        while i < l.count {
            let c = l[i]
            guard isWSP(c) || c == cr || c == lf else { return nil }
            i += 1
        }
        if self.lineLength > l.count && !self.tailIsPadding { return nil }
        return close
    }

    mutating func delimiterFound(multipart i: Int, close: Bool) {
        // The line ending before the delimiter belongs to it (RFC 2046 5.1.1).
        let bodyStart = self.stack[i].bodyStart
        var end = self.lineStart
        var lfsAtEnd = self.lfsBeforeLine
        var lastByte = self.before.0
        if end > bodyStart, self.before.0 == lf {
            end -= 1
            lfsAtEnd -= 1
            lastByte = self.before.1
            if end > bodyStart, self.before.1 == cr {
                end -= 1
                lastByte = self.before.2
            }
        }
        // The delimiter line is not text of the part it ends.
        let top = self.stack.count - 1
        if top > i, self.stack[top].piece >= 0 {
            let p = self.stack[top].piece
            self.textBytes -= self.pieces[p].bytes.count - self.pieceLengthAtLineStart
            self.pieces[p].bytes.removeSubrange(self.pieceLengthAtLineStart...)
        }
        // The part that ends runs to the delimiter's line ending, or is empty; parts inside it end
        // there too, and one that would start later starts there, empty.
        if self.stack.count > i + 1 {
            let partEnd = max(self.stack[i + 1].headerStart, end)
            while self.stack.count > i + 1 {
                var frame = self.stack.removeLast()
                frame.headerStart = min(frame.headerStart, partEnd)
                let outline = self.close(frame, end: partEnd, lfsAtEnd: lfsAtEnd, lastByte: lastByte)
                self.attach(outline)
            }
        }
        if close {
            self.stack[i].boundary = []
        } else {
            self.partCount += 1
            var child = Frame(
                depth: self.stack[i].depth + 1,
                defaultType: PartFields.childDefaultType(of: self.stack[i].fields?.contentType ?? ContentType.defaultType),
                headerStart: self.lineStart + self.lineLength
            )
            child.firstPiece = self.pieces.count
            if self.partCount + self.stack[i].parts.count >= self.limits.message.maxParts {
                // Past the limit the rest of the multipart is its last part.
                self.stack[i].boundary = []
            }
            self.stack.append(child)
        }
        self.updateDelimiterCap()
    }

    // MARK: - Parts

    /// The top part's header has ended at `bodyStart`: what it says decides what its body is.
    mutating func endHeader(bodyStart: Int, lfs: Int) {
        let top = self.stack.count - 1
        var frame = self.stack[top]
        frame.inHeader = false
        frame.bodyStart = bodyStart
        frame.lfsAtBodyStart = lfs
        let bytes = frame.headerBytes
        frame.header = Header.parse(bytes, start: 0, limit: bytes.count, limits: self.limits.message).0
        let fields = PartFields(header: frame.header, defaultType: frame.defaultType)
        frame.fields = fields
        frame.headerBytes = []
        let descend = frame.depth < self.limits.message.maxDepth && self.partCount < self.limits.message.maxParts
        var inner: Frame?
        if fields.contentType.type == "multipart" {
            frame.kind = .multipart
            if descend, let boundary = fields.boundary {
                frame.boundary = Array(boundary.utf8)
            }
        } else if descend, fields.encapsulatesMessage {
            frame.kind = .message
            self.partCount += 1
            inner = Frame(depth: frame.depth + 1, defaultType: ContentType.defaultType, headerStart: bodyStart)
            inner?.firstPiece = self.pieces.count
        } else if fields.contentType.type == "text", fields.disposition?.type != "attachment",
            fields.contentType.subtype == "plain" || fields.contentType.subtype == "html"
        {
            frame.piece = self.pieces.count
            self.pieces.append(
                Piece(
                    encoding: fields.transferEncoding,
                    charset: fields.contentType.parameter("charset") ?? "us-ascii",
                    html: fields.contentType.subtype == "html"
                )
            )
        }
        self.stack[top] = frame
        if let inner {
            self.stack.append(inner)
        }
        self.updateDelimiterCap()
    }

    mutating func updateDelimiterCap() {
        var cap = 0
        for frame in self.stack where !frame.boundary.isEmpty {
            cap = max(cap, frame.boundary.count + 4)
        }
        self.delimiterCap = cap
        // The current line keeps what the new state needs from here on.
        let top = self.stack[self.stack.count - 1]
        self.lineCap = top.inHeader ? max(0, self.limits.maxHeaderBytes - top.headerBytes.count) : max(cap, self.line.count)
    }

    /// Gives a finished part to the part below it on the stack.
    mutating func attach(_ outline: PartOutline) {
        let parent = self.stack.count - 1
        switch self.stack[parent].kind {
        case .multipart: self.stack[parent].parts.append(outline)
        case .message: self.stack[parent].encapsulated = [outline]
        case .leaf: break
        }
    }

    /// The outline of a part that ends at `end`. When the end falls inside what was taken as its
    /// header (the line ending before a delimiter ends the part), the header is read again up to
    /// the end, as the in-memory parser reads it.
    mutating func close(_ frame: Frame, end: Int, lfsAtEnd: Int, lastByte: UInt8) -> PartOutline {
        if frame.inHeader, frame.headerStart + frame.headerBytes.count == end {
            return self.closeInHeader(frame)
        }
        if frame.inHeader || frame.bodyStart > end || end < frame.decidingLineEnd {
            return self.rescan(frame, end: end)
        }
        let lines = (lfsAtEnd - frame.lfsAtBodyStart) + (end > frame.bodyStart && lastByte != lf ? 1 : 0)
        if frame.piece >= 0 {
            // The capture may hold the line ending that went to the delimiter.
            let p = frame.piece
            let keep = max(0, end - frame.bodyStart)
            if self.pieces[p].bytes.count > keep {
                self.textBytes -= self.pieces[p].bytes.count - keep
                self.pieces[p].bytes.removeSubrange(keep...)
            }
        }
        let fields = frame.fields ?? PartFields(header: frame.header, defaultType: frame.defaultType)
        var outline = PartOutline(
            header: frame.header,
            headerStart: frame.headerStart,
            bodyStart: frame.bodyStart,
            end: end,
            fields: fields,
            bodyLines: max(0, lines)
        )
        switch frame.kind {
        case .multipart:
            outline.parts = frame.parts
            if frame.parts.isEmpty {
                // No delimiter line (or no boundary): the body is opaque data (see `Message`).
                outline.contentType = ContentType(type: "application", subtype: "octet-stream", parameters: fields.contentType.parameters)
            }
        case .message:
            outline.encapsulated = frame.encapsulated.isEmpty ? [self.emptyMessage(at: end)] : frame.encapsulated
        case .leaf:
            break
        }
        return outline
    }

    /// A part that ends inside the line that ended its header (or before its header ended): all
    /// of it is in the bytes kept for the header and that line, so it is scanned again from them,
    /// cut at its end, and replaces what was found for it, text included.
    mutating func rescan(_ frame: Frame, end: Int) -> PartOutline {
        var bytes = frame.inHeader ? frame.headerBytes : frame.header.bytes + frame.decidingLine
        bytes = Array(bytes.prefix(max(0, end - frame.headerStart)))
        var limits = self.limits
        limits.maxTextBytes = max(0, self.limits.maxTextBytes - self.textBytes)
        for p in self.pieces[frame.firstPiece...] {
            limits.maxTextBytes += p.bytes.count
        }
        var inner = MessageScanner(limits: limits, depth: frame.depth, defaultType: frame.defaultType)
        inner.partCount = self.partCount
        inner.feed(bytes)
        if inner.lineLength > 0 { inner.endLine() }
        let innerEnd = inner.offset
        while inner.stack.count > 1 {
            let outline = inner.close(inner.stack.removeLast(), end: innerEnd, lfsAtEnd: inner.lfs, lastByte: inner.last.0)
            inner.attach(outline)
        }
        let outline = inner.close(inner.stack.removeLast(), end: innerEnd, lfsAtEnd: inner.lfs, lastByte: inner.last.0)
        for p in self.pieces[frame.firstPiece...] {
            self.textBytes -= p.bytes.count
        }
        self.pieces.removeSubrange(frame.firstPiece...)
        self.pieces += inner.pieces
        self.textBytes += inner.textBytes
        self.textTruncated = self.textTruncated || inner.textTruncated
        self.partCount = inner.partCount
        return Self.shifted(outline, by: frame.headerStart)
    }

    /// A part whose data ended while its header was being read: all of it is header.
    mutating func closeInHeader(_ frame: Frame) -> PartOutline {
        let bytes = frame.headerBytes
        let (header, bodyStart) = Header.parse(bytes, start: 0, limit: bytes.count, limits: self.limits.message)
        let fields = PartFields(header: header, defaultType: frame.defaultType)
        var outline = PartOutline(
            header: Header(bytes: Array(bytes[0..<bodyStart]), fields: header.fields, start: 0, end: bodyStart),
            headerStart: frame.headerStart,
            bodyStart: frame.headerStart + bodyStart,
            end: frame.headerStart + bytes.count,
            fields: fields,
            bodyLines: bodyStart < bytes.count ? PartParser.countLines(bytes, bodyStart, bytes.count) : 0
        )
        let ct = fields.contentType
        if ct.type == "multipart" {
            outline.contentType = ContentType(type: "application", subtype: "octet-stream", parameters: ct.parameters)
        } else if frame.depth < self.limits.message.maxDepth, self.partCount < self.limits.message.maxParts,
            fields.encapsulatesMessage
        {
            self.partCount += 1
            outline.encapsulated = [self.emptyMessage(at: outline.end)]
        } else if ct.type == "text", fields.disposition?.type != "attachment", ct.subtype == "plain" || ct.subtype == "html" {
            var piece = Piece(encoding: fields.transferEncoding, charset: ct.parameter("charset") ?? "us-ascii", html: ct.subtype == "html")
            let body = bytes[bodyStart...]
            let take = min(body.count, max(0, self.limits.maxTextBytes - self.textBytes))
            piece.bytes = Array(body.prefix(take))
            self.textBytes += take
            self.pieces.append(piece)
        }
        return outline
    }

    static func shifted(_ outline: PartOutline, by delta: Int) -> PartOutline {
        var o = outline
        o.headerStart += delta
        o.bodyStart += delta
        o.end += delta
        o.parts = o.parts.map { Self.shifted($0, by: delta) }
        o.encapsulated = o.encapsulated.map { Self.shifted($0, by: delta) }
        return o
    }

    /// An encapsulated message without bytes: a text/plain part with an empty body, whose (empty)
    /// text counts as a piece of the message's text, as for the in-memory parser.
    mutating func emptyMessage(at offset: Int) -> PartOutline {
        self.pieces.append(Piece(encoding: "7bit", charset: "us-ascii", html: false))
        return Self.emptyOutline(at: offset)
    }

    static func emptyOutline(at offset: Int) -> PartOutline {
        let header = Header(bytes: [], fields: [], start: 0, end: 0)
        return PartOutline(
            header: header,
            headerStart: offset,
            bodyStart: offset,
            end: offset,
            fields: PartFields(header: header, defaultType: ContentType.defaultType),
            bodyLines: 0
        )
    }
}

extension PartOutline {
    init(header: Header, headerStart: Int, bodyStart: Int, end: Int, fields: PartFields, bodyLines: Int) {
        self.init(
            header: header,
            headerStart: headerStart,
            bodyStart: bodyStart,
            end: end,
            contentType: fields.contentType,
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
            bodyLines: bodyLines
        )
    }
}

extension ScannedMessage {
    /// The message as stored with header lines put in front of it (Received and other trace
    /// fields the server adds without rewriting the file): the root header gains them and every
    /// offset moves by their length.
    public func prefixed(with prefix: [UInt8], limits: MessageLimits = .default) -> ScannedMessage {
        guard !prefix.isEmpty else { return self }
        var copy = self
        copy.root = MessageScanner.shifted(self.root, by: prefix.count)
        copy.root.headerStart = 0
        let bytes = prefix + self.root.header.bytes
        let header = Header.parse(bytes, start: 0, limit: bytes.count, limits: limits).0
        copy.root.header = header
        copy.size += prefix.count
        return copy
    }

    /// The text the full-text index keeps for the message: its header and its text parts.
    public var searchText: String {
        String(decoding: self.root.header.bytes, as: UTF8.self) + "\n" + self.text
    }
}
