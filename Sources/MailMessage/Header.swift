#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One header field, as byte offsets into the message it came from.
public struct HeaderField: Sendable, Equatable {
    /// Offset of the field name's first byte.
    public var start: Int
    /// End of the field name (exclusive), before optional whitespace and the colon.
    public var nameEnd: Int
    /// First byte after the colon.
    public var valueStart: Int
    /// End of the field including its final line ending (exclusive).
    public var end: Int
}

/// A parsed header section: fields in order, each as offsets into `bytes`.
/// - SeeAlso: RFC 5322 2.2
public struct Header: Sendable {
    /// The whole message the offsets refer to (shared storage; not copied).
    public let bytes: [UInt8]
    public var fields: [HeaderField]
    /// Offset of the first field (start of the section).
    public var start: Int
    /// Offset just past the section, including the empty line that ends it when present.
    public var end: Int

    /// Parses a header section starting at `start` and ending no later than `limit`. Returns the
    /// header and the offset where the body begins.
    ///
    ///     fields = *(... optional-field) ; RFC 5322 3.6
    ///     field  = field-name ":" unstructured CRLF
    ///     obs-optional = field-name *WSP ":" unstructured CRLF ; RFC 5322 4.5.8
    static func parse(_ bytes: [UInt8], start: Int, limit: Int, limits: MessageLimits) -> (Header, bodyStart: Int) {
        var fields: [HeaderField] = []
        var pos = start
        var bodyStart = limit
        var found = false
        while pos < limit {
            let b = bytes[pos]
            // The empty line ends the header section (RFC 5322 2.1). A bare LF is tolerated.
            if b == lf {
                bodyStart = pos + 1
                found = true
                break
            }
            if b == cr, pos + 1 < limit, bytes[pos + 1] == lf {
                bodyStart = pos + 2
                found = true
                break
            }
            if b == cr, pos + 1 == limit {
                bodyStart = limit
                found = true
                break
            }
            // Field name: printable ASCII except colon (RFC 5322 3.6.8 ftext); obsolete WSP before the
            // colon (RFC 5322 4.5.8). 8-bit bytes in names are tolerated.
            var i = pos
            while i < limit, bytes[i] != UInt8(ascii: ":"), bytes[i] != lf, bytes[i] != cr, !isWSP(bytes[i]) {
                i += 1
            }
            let nameEnd = i
            while i < limit, isWSP(bytes[i]) { i += 1 }
            let lineStartsWithWSP = isWSP(b)
            guard nameEnd > pos, i < limit, bytes[i] == UInt8(ascii: ":") else {
                if lineStartsWithWSP, !fields.isEmpty {
                    // Continuation of the previous field (folding) that lost its field; extend it.
                    let e = Self.lineEnd(bytes, from: pos, limit: limit)
                    fields[fields.count - 1].end = e
                    pos = e
                    continue
                }
                // Not a header field: treat it as the start of the body (lenient, for messages
                // without a header or without the separating empty line).
                bodyStart = pos
                found = true
                break
            }
            let valueStart = i + 1
            // RFC 5322 2.2.3: a field continues on lines starting with WSP (folding).
            var e = Self.lineEnd(bytes, from: valueStart, limit: limit)
            while e < limit, isWSP(bytes[e]) {
                e = Self.lineEnd(bytes, from: e, limit: limit)
            }
            if fields.count < limits.maxHeaderFields {
                fields.append(HeaderField(start: pos, nameEnd: nameEnd, valueStart: valueStart, end: e))
            }
            pos = e
        }
        if !found {
            bodyStart = limit
        }
        return (Header(bytes: bytes, fields: fields, start: start, end: bodyStart), bodyStart)
    }

    /// Parses a standalone header section (or whole message) and returns it.
    public init(parsing bytes: [UInt8], limits: MessageLimits = .default) {
        self = Self.parse(bytes, start: 0, limit: bytes.count, limits: limits).0
    }

    init(bytes: [UInt8], fields: [HeaderField], start: Int, end: Int) {
        self.bytes = bytes
        self.fields = fields
        self.start = start
        self.end = end
    }

    /// Offset after the next LF (or `limit`).
    static func lineEnd(_ bytes: [UInt8], from: Int, limit: Int) -> Int {
        let limit = min(limit, bytes.count)
        guard from >= 0, from < limit else { return limit }
        return bytes.withUnsafeBufferPointer { buf -> Int in
            guard let base = buf.baseAddress, let hit = memchr(base + from, Int32(lf), limit - from) else {
                return limit
            }
            return base.distance(to: hit.assumingMemoryBound(to: UInt8.self)) + 1
        }
    }

    // MARK: - Access

    /// The field name as written.
    public func name(of field: HeaderField) -> String {
        headerString(self.bytes[field.start..<field.nameEnd])
    }

    /// The raw value bytes (after the colon, with folding line endings, without the final line ending).
    public func rawValue(of field: HeaderField) -> ArraySlice<UInt8> {
        var e = field.end
        if e > field.valueStart, self.bytes[e - 1] == lf { e -= 1 }
        if e > field.valueStart, self.bytes[e - 1] == cr { e -= 1 }
        return self.bytes[field.valueStart..<e]
    }

    /// The value unfolded (RFC 5322 2.2.3: CRLF before WSP removed) and trimmed of surrounding
    /// whitespace. 8-bit bytes are read as UTF-8 or, if invalid, ISO-8859-1.
    public func value(of field: HeaderField) -> String {
        let raw = self.rawValue(of: field)
        var out: [UInt8] = []
        out.reserveCapacity(raw.count)
        for b in raw where b != cr && b != lf {
            out.append(b)
        }
        var lo = 0
        var hi = out.count
        while lo < hi, isWSP(out[lo]) { lo += 1 }
        while hi > lo, isWSP(out[hi - 1]) { hi -= 1 }
        return headerString(out[lo..<hi])
    }

    /// Fields whose name matches case-insensitively (RFC 5322 1.2.2).
    public func fields(named name: String) -> [HeaderField] {
        let lower = asciiLowercased(name)
        return self.fields.filter { equalsLowercaseASCII(self.bytes[$0.start..<$0.nameEnd], lower) }
    }

    /// The unfolded value of the first field with this name.
    public func first(_ name: String) -> String? {
        let lower = asciiLowercased(name)
        for f in self.fields where equalsLowercaseASCII(self.bytes[f.start..<f.nameEnd], lower) {
            return self.value(of: f)
        }
        return nil
    }

    /// Unfolded values of all fields with this name, in order.
    public func values(_ name: String) -> [String] {
        self.fields(named: name).map { self.value(of: $0) }
    }

    /// Name and unfolded value of every field, in order.
    public var pairs: [(name: String, value: String)] {
        self.fields.map { (self.name(of: $0), self.value(of: $0)) }
    }

    /// The first field's value with RFC 2047 encoded words decoded.
    public func decoded(_ name: String) -> String? {
        self.first(name).map { EncodedWords.decode($0) }
    }
}
