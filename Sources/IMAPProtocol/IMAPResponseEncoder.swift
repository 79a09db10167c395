/// Writes the pieces of server responses (and of commands, see `IMAPCommand.encode`), choosing
/// the string form the grammar allows.
///
/// Strings are quoted when that is safe and short, and sent as literals otherwise: CR, LF and
/// NUL never appear in a quoted string (RFC 9051 4.3), 8-bit data is quoted only when the client
/// enabled UTF8=ACCEPT and the bytes are valid UTF-8 (RFC 6855 3), and long strings go as literals
/// so they need no escaping. Literals with NUL bytes are written as literal8 (RFC 3516 4.3), which
/// only a BINARY fetch may return.
/// - SeeAlso: RFC 9051 4.3 (strings), RFC 9051 9 "astring", "nstring", "flag-list", "date-time"
public struct IMAPResponseEncoder: Sendable {
    public var bytes: [UInt8] = []
    /// UTF8=ACCEPT is enabled: UTF-8 in quoted strings, mailbox names not in modified UTF-7.
    public var utf8Accept: Bool
    /// Longest string written quoted; longer ones become literals.
    public var maxQuotedLength: Int

    public init(utf8Accept: Bool = false, maxQuotedLength: Int = 1024) {
        self.utf8Accept = utf8Accept
        self.maxQuotedLength = maxQuotedLength
    }

    /// Text written as is (command names, numbers, spaces).
    public mutating func write(_ text: String) {
        self.bytes.append(contentsOf: text.utf8)
    }

    /// A number in decimal, without making a String of it first (a large FETCH writes
    /// several per message).
    public mutating func writeNumber(_ value: UInt64) {
        var v = value
        var count = 1
        var limit: UInt64 = 10
        while count < 20 && v >= limit {
            count += 1
            limit = limit &* 10
        }
        let start = self.bytes.count
        self.bytes.append(contentsOf: repeatElement(UInt8(ascii: "0"), count: count))
        var i = start + count - 1
        while v > 0 {
            self.bytes[i] = UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: v % 10)
            v /= 10
            i -= 1
        }
    }

    public mutating func writeNumber(_ value: Int64) {
        if value < 0 {
            self.bytes.append(UInt8(ascii: "-"))
            self.writeNumber(value.magnitude)
        } else {
            self.writeNumber(UInt64(value))
        }
    }

    public mutating func writeNumber(_ value: Int) { self.writeNumber(Int64(value)) }
    public mutating func writeNumber(_ value: UInt32) { self.writeNumber(UInt64(value)) }

    public mutating func writeCRLF() {
        self.bytes.append(contentsOf: [UInt8(ascii: "\r"), UInt8(ascii: "\n")])
    }

    /// Whether `s` may be written as a quoted string.
    public func canQuote(_ s: some Collection<UInt8>) -> Bool {
        guard s.count <= self.maxQuotedLength else { return false }
        var eightBit = false
        for b in s {
            if b == 0 || b == UInt8(ascii: "\r") || b == UInt8(ascii: "\n") { return false }
            if b >= 0x80 { eightBit = true }
        }
        guard eightBit else { return true }
        guard self.utf8Accept else { return false }
        var it = s.makeIterator()
        var d = UTF8()
        while true {
            switch d.decode(&it) {
            case .scalarValue: continue
            case .emptyInput: return true
            case .error: return false
            }
        }
    }

    /// RFC 9051 9 "string": quoted when safe, a literal otherwise.
    public mutating func writeString(_ s: String) {
        self.writeString(Array(s.utf8))
    }

    public mutating func writeString(_ s: [UInt8]) {
        if self.canQuote(s) {
            self.writeQuoted(s)
        } else {
            self.writeLiteral(s)
        }
    }

    /// A quoted string; the caller made sure `canQuote` holds.
    ///     quoted = DQUOTE *QUOTED-CHAR DQUOTE ; "\" and DQUOTE escaped
    public mutating func writeQuoted(_ s: [UInt8]) {
        self.bytes.append(UInt8(ascii: "\""))
        for b in s {
            if b == UInt8(ascii: "\"") || b == UInt8(ascii: "\\") { self.bytes.append(UInt8(ascii: "\\")) }
            self.bytes.append(b)
        }
        self.bytes.append(UInt8(ascii: "\""))
    }

    /// "{n}" CRLF data, or "~{n}" when the data holds NUL (literal8).
    public mutating func writeLiteral(_ data: [UInt8]) {
        if data.contains(0) { self.bytes.append(UInt8(ascii: "~")) }
        self.write("{\(data.count)}")
        self.writeCRLF()
        self.bytes.append(contentsOf: data)
    }

    /// RFC 9051 9 "astring": an atom when every byte is an ASTRING-CHAR, else a string.
    public mutating func writeAstring(_ s: String) {
        let b = Array(s.utf8)
        if !b.isEmpty, b.allSatisfy(isAstringChar) {
            self.bytes.append(contentsOf: b)
        } else {
            self.writeString(b)
        }
    }

    /// RFC 9051 9 "nstring": NIL or a string (never an atom, so "NIL" itself is quoted).
    public mutating func writeNstring(_ s: String?) {
        guard let s else {
            self.write("NIL")
            return
        }
        self.writeString(s)
    }

    /// RFC 9051 9 "mailbox": modified UTF-7 unless UTF8=ACCEPT is enabled (RFC 3501 5.1.3,
    /// RFC 6855 3), then as an astring.
    public mutating func writeMailbox(_ name: String) {
        self.writeAstring(self.utf8Accept ? name : ModifiedUTF7.encode(name))
    }

    /// RFC 9051 9 "flag-list": "(" [flag *(SP flag)] ")".
    public mutating func writeFlagList(_ flags: [String]) {
        self.write("(" + flags.joined(separator: " ") + ")")
    }

    public mutating func writeSequenceSet(_ set: IMAPSequenceSet) {
        self.write(set.description)
    }

    /// RFC 9051 9 "date-time", e.g. "05-Jul-2024 02:44:25 -0700" in double quotes.
    public mutating func writeDateTime(_ d: IMAPDateTime) {
        func two(_ n: Int) -> String { n < 10 ? "0\(n)" : String(n) }
        let zone = abs(d.zoneMinutes)
        let month = IMAPDate.months[max(0, min(11, d.date.month - 1))]
        let year = String(repeating: "0", count: max(0, 4 - String(d.date.year).count)) + String(d.date.year)
        self.write(
            "\"\(two(d.date.day))-\(month)-\(year) \(two(d.hour)):\(two(d.minute)):\(two(d.second)) "
                + "\(d.zoneMinutes < 0 ? "-" : "+")\(two(zone / 60))\(two(zone % 60))\""
        )
    }
}
