/// The part of an address before the "@", decoded: a quoted-string is stored without its quotes
/// and escapes. Compared case-sensitively, as RFC 5321 2.4 requires of everyone but the final host.
public struct Localpart: Hashable, Sendable, CustomStringConvertible {
    public let value: String

    public enum ParseError: Error, Equatable, Sendable {
        case empty
        case tooLong
        case invalid(String)
        case trailingData(String)
    }

    // RFC 5321 4.5.3.1.1: a local-part is at most 64 octets.
    public static let maxLength = 64

    public init(uncheckedValue value: String) {
        self.value = value
    }

    /// Parses a dot-atom or quoted-string local-part, with UTF-8 allowed (RFC 6531 3.3, RFC 6532 3.2).
    public init(parsing text: String) throws(ParseError) {
        var p = LocalpartParser(bytes: Array(text.utf8))
        let value = try p.parse()
        guard p.pos == p.bytes.count else { throw .trailingData(text) }
        self.value = value
    }

    public var description: String { self.formatted }

    /// Whether the value can be written as a dot-atom (no quoting needed).
    public var isDotAtom: Bool {
        let bytes = Array(self.value.utf8)
        guard !bytes.isEmpty, bytes.first != UInt8(ascii: "."), bytes.last != UInt8(ascii: ".") else { return false }
        var prevDot = false
        for b in bytes {
            if b == UInt8(ascii: ".") {
                if prevDot { return false }
                prevDot = true
                continue
            }
            prevDot = false
            guard isAtext(b) else { return false }
        }
        return true
    }

    /// Wire form: the dot-atom, or a quoted-string with `"` and `\` escaped.
    public var formatted: String {
        if self.isDotAtom { return self.value }
        var s = "\""
        for c in self.value.unicodeScalars {
            if c == "\"" || c == "\\" { s.append("\\") }
            s.unicodeScalars.append(c)
        }
        s.append("\"")
        return s
    }

    public var isASCII: Bool { self.value.utf8.allSatisfy { $0 < 0x80 } }
}

// RFC 5322 3.2.3: atext = ALPHA / DIGIT / "!#$%&'*+-/=?^_`{|}~"; RFC 6532 3.2: plus UTF8-non-ascii.
// Also what header writers elsewhere (Received-SPF) use to decide whether a value needs quotes.
@inline(__always)
public func isAtext(_ b: UInt8) -> Bool {
    if b >= 0x80 { return true }
    switch b {
    case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
        UInt8(ascii: "0")...UInt8(ascii: "9"):
        return true
    default:
        return "!#$%&'*+-/=?^_`{|}~".utf8.contains(b)
    }
}

struct LocalpartParser {
    let bytes: [UInt8]
    var pos = 0

    init(bytes: [UInt8], pos: Int = 0) {
        self.bytes = bytes
        self.pos = pos
    }

    // RFC 5321 4.1.2:
    //   Local-part = Dot-string / Quoted-string
    //   Dot-string = Atom *("."  Atom)
    //   Quoted-string = DQUOTE *QcontentSMTP DQUOTE
    //   QcontentSMTP = qtextSMTP / quoted-pairSMTP
    mutating func parse() throws(Localpart.ParseError) -> String {
        guard self.pos < self.bytes.count else { throw .empty }
        var out: [UInt8] = []
        if self.bytes[self.pos] == UInt8(ascii: "\"") {
            self.pos += 1
            var closed = false
            while self.pos < self.bytes.count {
                let b = self.bytes[self.pos]
                self.pos += 1
                if b == UInt8(ascii: "\"") {
                    closed = true
                    break
                }
                if b == UInt8(ascii: "\\") {
                    // quoted-pairSMTP = %d92 %d32-126
                    guard self.pos < self.bytes.count, self.bytes[self.pos] >= 32, self.bytes[self.pos] != 127
                    else { throw .invalid(self.text) }
                    out.append(self.bytes[self.pos])
                    self.pos += 1
                    continue
                }
                // qtextSMTP = %d32-33 / %d35-91 / %d93-126 / UTF8-non-ascii
                guard b >= 32, b != 127 else { throw .invalid(self.text) }
                out.append(b)
            }
            guard closed else { throw .invalid(self.text) }
        } else {
            var needAtom = true
            while self.pos < self.bytes.count {
                let b = self.bytes[self.pos]
                if isAtext(b) {
                    out.append(b)
                    needAtom = false
                } else if b == UInt8(ascii: "."), !needAtom {
                    out.append(b)
                    needAtom = true
                } else {
                    break
                }
                self.pos += 1
            }
            guard !out.isEmpty else { throw .empty }
            guard !needAtom else { throw .invalid(self.text) }
        }
        guard out.count <= Localpart.maxLength else { throw .tooLong }
        // Reject invalid UTF-8 rather than silently repairing it.
        guard let s = String(validating: out, as: UTF8.self) else { throw .invalid(self.text) }
        return s
    }

    var text: String { String(decoding: self.bytes, as: UTF8.self) }
}
