// A small JSON reader (RFC 8259) for the command tree. Foundation's JSONDecoder spent more
// time on this one document than rendering every other page together (protocol conformance
// lookups and Codable's generic paths), so the tree is read into plain values and picked
// apart by hand.

/// A parsed JSON value. Objects keep their members in document order.
enum JSONValue: Equatable {
    case null
    case bool(Bool)
    case number(String)
    case string(String)
    case array([JSONValue])
    case object([(key: String, value: JSONValue)])

    static func == (a: JSONValue, b: JSONValue) -> Bool {
        switch (a, b) {
        case (.null, .null): return true
        case (.bool(let x), .bool(let y)): return x == y
        case (.number(let x), .number(let y)): return x == y
        case (.string(let x), .string(let y)): return x == y
        case (.array(let x), .array(let y)): return x == y
        case (.object(let x), .object(let y)):
            return x.count == y.count && zip(x, y).allSatisfy { $0.key == $1.key && $0.value == $1.value }
        default: return false
        }
    }

    /// The member named `key` of an object, nil for a missing member or a non-object.
    subscript(key: String) -> JSONValue? {
        guard case .object(let members) = self else { return nil }
        return members.first { $0.key == key }?.value
    }

    var stringValue: String? {
        if case .string(let s) = self { return s }
        return nil
    }

    var boolValue: Bool? {
        if case .bool(let b) = self { return b }
        return nil
    }

    var arrayValue: [JSONValue]? {
        if case .array(let a) = self { return a }
        return nil
    }
}

/// Why a document is not JSON, with the byte offset where reading stopped.
struct JSONError: Error, CustomStringConvertible {
    var offset: Int
    var message: String
    var description: String { "invalid JSON at byte \(self.offset): \(self.message)" }
}

/// Reads one JSON document from bytes.
struct JSONReader {
    private let bytes: [UInt8]
    private var pos = 0
    private var depth = 0
    /// Nesting beyond this is refused rather than risking the stack.
    static let maxDepth = 200

    static func parse(_ bytes: [UInt8]) throws(JSONError) -> JSONValue {
        var reader = JSONReader(bytes: bytes)
        reader.skipSpace()
        let value = try reader.value()
        reader.skipSpace()
        guard reader.pos == bytes.count else { throw reader.fail("trailing data after the document") }
        return value
    }

    private init(bytes: [UInt8]) {
        self.bytes = bytes
    }

    private func fail(_ message: String) -> JSONError {
        JSONError(offset: self.pos, message: message)
    }

    // RFC 8259 2: insignificant whitespace is space, tab, line feed and carriage return.
    private mutating func skipSpace() {
        while self.pos < self.bytes.count {
            switch self.bytes[self.pos] {
            case 0x20, 0x09, 0x0A, 0x0D: self.pos += 1
            default: return
            }
        }
    }

    private mutating func literal(_ word: String, _ value: JSONValue) throws(JSONError) -> JSONValue {
        let w = Array(word.utf8)
        guard self.pos + w.count <= self.bytes.count else { throw self.fail("unexpected end of input") }
        guard self.bytes[self.pos..<self.pos + w.count].elementsEqual(w) else { throw self.fail("unknown literal") }
        let n = w.count
        self.pos += n
        return value
    }

    private mutating func value() throws(JSONError) -> JSONValue {
        guard self.pos < self.bytes.count else { throw self.fail("unexpected end of input") }
        switch self.bytes[self.pos] {
        case UInt8(ascii: "{"): return try self.object()
        case UInt8(ascii: "["): return try self.array()
        case UInt8(ascii: "\""): return .string(try self.string())
        case UInt8(ascii: "t"): return try self.literal("true", .bool(true))
        case UInt8(ascii: "f"): return try self.literal("false", .bool(false))
        case UInt8(ascii: "n"): return try self.literal("null", .null)
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try self.number()
        default: throw self.fail("expected a value")
        }
    }

    private mutating func nest() throws(JSONError) {
        self.depth += 1
        if self.depth > Self.maxDepth { throw self.fail("nested more than \(Self.maxDepth) levels deep") }
    }

    private mutating func object() throws(JSONError) -> JSONValue {
        try self.nest()
        self.pos += 1
        var members: [(key: String, value: JSONValue)] = []
        self.skipSpace()
        if self.pos < self.bytes.count, self.bytes[self.pos] == UInt8(ascii: "}") {
            self.pos += 1
            self.depth -= 1
            return .object(members)
        }
        while true {
            self.skipSpace()
            guard self.pos < self.bytes.count, self.bytes[self.pos] == UInt8(ascii: "\"") else {
                throw self.fail("expected a member name")
            }
            let key = try self.string()
            self.skipSpace()
            guard self.pos < self.bytes.count, self.bytes[self.pos] == UInt8(ascii: ":") else {
                throw self.fail("expected ':' after a member name")
            }
            self.pos += 1
            self.skipSpace()
            members.append((key, try self.value()))
            self.skipSpace()
            guard self.pos < self.bytes.count else { throw self.fail("unexpected end of input in an object") }
            if self.bytes[self.pos] == UInt8(ascii: ",") {
                self.pos += 1
                continue
            }
            guard self.bytes[self.pos] == UInt8(ascii: "}") else { throw self.fail("expected ',' or '}'") }
            self.pos += 1
            self.depth -= 1
            return .object(members)
        }
    }

    private mutating func array() throws(JSONError) -> JSONValue {
        try self.nest()
        self.pos += 1
        var items: [JSONValue] = []
        self.skipSpace()
        if self.pos < self.bytes.count, self.bytes[self.pos] == UInt8(ascii: "]") {
            self.pos += 1
            self.depth -= 1
            return .array(items)
        }
        while true {
            self.skipSpace()
            items.append(try self.value())
            self.skipSpace()
            guard self.pos < self.bytes.count else { throw self.fail("unexpected end of input in an array") }
            if self.bytes[self.pos] == UInt8(ascii: ",") {
                self.pos += 1
                continue
            }
            guard self.bytes[self.pos] == UInt8(ascii: "]") else { throw self.fail("expected ',' or ']'") }
            self.pos += 1
            self.depth -= 1
            return .array(items)
        }
    }

    // RFC 8259 6: -? int frac? exp?, kept as its text (the tree has no numbers it uses).
    private mutating func number() throws(JSONError) -> JSONValue {
        let start = self.pos
        func digits(_ r: inout JSONReader) -> Int {
            let s = r.pos
            while r.pos < r.bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(r.bytes[r.pos]) { r.pos += 1 }
            return r.pos - s
        }
        if self.bytes[self.pos] == UInt8(ascii: "-") { self.pos += 1 }
        let intStart = self.pos
        let n = digits(&self)
        guard n > 0 else { throw self.fail("expected digits") }
        if n > 1, self.bytes[intStart] == UInt8(ascii: "0") {
            throw JSONError(offset: intStart, message: "leading zero in a number")
        }
        if self.pos < self.bytes.count, self.bytes[self.pos] == UInt8(ascii: ".") {
            self.pos += 1
            guard digits(&self) > 0 else { throw self.fail("expected digits after '.'") }
        }
        if self.pos < self.bytes.count, self.bytes[self.pos] | 0x20 == UInt8(ascii: "e") {
            self.pos += 1
            if self.pos < self.bytes.count, self.bytes[self.pos] == UInt8(ascii: "+") || self.bytes[self.pos] == UInt8(ascii: "-") {
                self.pos += 1
            }
            guard digits(&self) > 0 else { throw self.fail("expected digits in an exponent") }
        }
        return .number(String(decoding: self.bytes[start..<self.pos], as: UTF8.self))
    }

    private mutating func hex4() throws(JSONError) -> UInt32 {
        guard self.pos + 4 <= self.bytes.count else { throw self.fail("unexpected end of input in \\u") }
        var v: UInt32 = 0
        for _ in 0..<4 {
            let c = self.bytes[self.pos]
            let d: UInt8
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): d = c - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): d = c - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): d = c - UInt8(ascii: "A") + 10
            default: throw self.fail("bad hex digit in \\u")
            }
            v = v << 4 | UInt32(d)
            self.pos += 1
        }
        return v
    }

    // RFC 8259 7: strings, with escapes and \u including UTF-16 surrogate pairs.
    private mutating func string() throws(JSONError) -> String {
        self.pos += 1
        var out: [UInt8] = []
        var runStart = self.pos
        while true {
            guard self.pos < self.bytes.count else { throw self.fail("unterminated string") }
            let c = self.bytes[self.pos]
            if c == UInt8(ascii: "\"") {
                out.append(contentsOf: self.bytes[runStart..<self.pos])
                self.pos += 1
                break
            }
            if c < 0x20 { throw self.fail("control character in a string") }
            if c != UInt8(ascii: "\\") {
                self.pos += 1
                continue
            }
            out.append(contentsOf: self.bytes[runStart..<self.pos])
            self.pos += 1
            guard self.pos < self.bytes.count else { throw self.fail("unterminated escape") }
            let e = self.bytes[self.pos]
            self.pos += 1
            switch e {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(e)
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "f"): out.append(0x0C)
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "u"):
                var scalar = try self.hex4()
                if (0xD800..<0xDC00).contains(scalar) {
                    guard self.pos + 1 < self.bytes.count, self.bytes[self.pos] == UInt8(ascii: "\\"),
                        self.bytes[self.pos + 1] == UInt8(ascii: "u")
                    else { throw self.fail("high surrogate without its low half") }
                    self.pos += 2
                    let low = try self.hex4()
                    guard (0xDC00..<0xE000).contains(low) else { throw self.fail("bad low surrogate") }
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                } else if (0xDC00..<0xE000).contains(scalar) {
                    throw self.fail("low surrogate without its high half")
                }
                out.append(contentsOf: String(Unicode.Scalar(scalar)!).utf8)
            default:
                throw self.fail("unknown escape")
            }
            runStart = self.pos
        }
        return String(decoding: out, as: UTF8.self)
    }
}
