/// What the parser needs to know about the session.
public struct IMAPParserOptions: Hashable, Sendable {
    /// UTF8=ACCEPT is enabled (RFC 6855 3): UTF-8 is allowed in quoted strings, and mailbox
    /// names are not modified UTF-7.
    public var utf8Accept: Bool
    /// Decode mailbox names from modified UTF-7 (RFC 3501 5.1.3) when UTF8=ACCEPT is not enabled.
    public var decodeModifiedUTF7: Bool
    public var limits: IMAPLimits

    public init(utf8Accept: Bool = false, decodeModifiedUTF7: Bool = true, limits: IMAPLimits = IMAPLimits()) {
        self.utf8Accept = utf8Accept
        self.decodeModifiedUTF7 = decodeModifiedUTF7
        self.limits = limits
    }
}

/// Parses complete commands, as framed by `IMAPFrameReader`.
/// - SeeAlso: RFC 9051 9 "command"
public enum IMAPCommandParser {
    ///     command = tag SP (command-any / command-auth / command-nonauth / command-select) CRLF
    public static func parse(
        _ frame: IMAPFrame,
        options: IMAPParserOptions = IMAPParserOptions()
    ) throws(IMAPParseError) -> IMAPCommand {
        var p = IMAPCursor(frame: frame, options: options)
        let tag = try p.readTag()
        p.tag = tag
        try p.space()
        let name = p.atomUpper()
        guard !name.isEmpty else { throw p.error("missing command") }
        let kind = try p.command(name)
        try p.end()
        return IMAPCommand(tag: tag, kind)
    }

    /// RFC 2177 3: the line that ends IDLE (case-insensitive "DONE").
    public static func isIdleDone(_ line: [UInt8]) -> Bool {
        line.map(asciiUpper) == Array("DONE".utf8)
    }
}

/// The position in a frame: a line, and a byte in it. Literals are taken at the end of a line.
struct IMAPCursor {
    let lines: [[UInt8]]
    let literals: [[UInt8]]
    /// Literal indexes whose data was streamed out of the frame (see `IMAPFrame.streamed`).
    let streamed: [Int]
    let options: IMAPParserOptions
    var line = 0
    var pos = 0
    var tag: String?
    var depth = 0

    init(frame: IMAPFrame, options: IMAPParserOptions) {
        self.lines = frame.lines.isEmpty ? [[]] : frame.lines
        self.literals = frame.literals
        self.streamed = frame.streamed
        self.options = options
    }

    var bytes: [UInt8] { self.lines[self.line] }

    func peek() -> UInt8? { self.pos < self.bytes.count ? self.bytes[self.pos] : nil }

    func error(_ reason: String) -> IMAPParseError { IMAPParseError(tag: self.tag, reason: reason) }

    /// Takes `c` if it is next.
    mutating func take(_ c: UInt8) -> Bool {
        guard self.peek() == c else { return false }
        self.pos += 1
        return true
    }

    mutating func expect(_ c: UInt8, _ what: String) throws(IMAPParseError) {
        guard self.take(c) else { throw self.error("expected \(what)") }
    }

    mutating func space() throws(IMAPParseError) { try self.expect(UInt8(ascii: " "), "space") }

    /// Takes `s` (upper case ASCII) case-insensitively if the input continues with it.
    mutating func takeWord(_ s: String) -> Bool {
        var i = self.pos
        for c in s.utf8 {
            guard i < self.bytes.count, asciiUpper(self.bytes[i]) == c else { return false }
            i += 1
        }
        self.pos = i
        return true
    }

    mutating func end() throws(IMAPParseError) {
        guard self.line == self.lines.count - 1, self.pos == self.bytes.count else {
            throw self.error("unexpected data at end of command")
        }
    }

    var atEndOfLine: Bool { self.pos >= self.bytes.count }

    /// RFC 9051 9: tag = 1*<any ASTRING-CHAR except "+">
    mutating func readTag() throws(IMAPParseError) -> String {
        let start = self.pos
        while let c = self.peek(), isTagChar(c) {
            self.pos += 1
        }
        guard self.pos > start, self.pos - start <= 64 else { throw IMAPParseError(reason: "missing or invalid tag") }
        return String(decoding: self.bytes[start..<self.pos], as: UTF8.self)
    }

    /// RFC 9051 9: atom = 1*ATOM-CHAR, returned upper-cased (possibly empty).
    mutating func atomUpper() -> String {
        String(self.atom().uppercased())
    }

    mutating func atom() -> String {
        let start = self.pos
        while let c = self.peek(), isAtomChar(c) {
            self.pos += 1
        }
        return String(decoding: self.bytes[start..<self.pos], as: UTF8.self)
    }

    mutating func requiredAtom(_ what: String) throws(IMAPParseError) -> String {
        let a = self.atom()
        guard !a.isEmpty else { throw self.error("expected \(what)") }
        return a
    }

    // MARK: - Numbers

    ///     number = 1*DIGIT ; unsigned 32-bit
    mutating func number(_ what: String = "number") throws(IMAPParseError) -> UInt32 {
        let n = try self.number64(what)
        guard n <= UInt64(UInt32.max) else { throw self.error("\(what) too large") }
        return UInt32(n)
    }

    ///     number64 = 1*DIGIT ; unsigned 63-bit
    mutating func number64(_ what: String = "number") throws(IMAPParseError) -> UInt64 {
        let start = self.pos
        var n: UInt64 = 0
        while let c = self.peek(), isDigit(c) {
            let d = UInt64(c - UInt8(ascii: "0"))
            guard n <= (UInt64(Int64.max) - d) / 10 else { throw self.error("\(what) too large") }
            n = n * 10 + d
            self.pos += 1
        }
        guard self.pos > start else { throw self.error("expected \(what)") }
        return n
    }

    ///     nz-number = digit-nz *DIGIT
    mutating func nzNumber(_ what: String = "number") throws(IMAPParseError) -> UInt32 {
        let n = try self.number(what)
        guard n > 0 else { throw self.error("\(what) must not be zero") }
        return n
    }

    mutating func sequenceSet() throws(IMAPParseError) -> IMAPSequenceSet {
        var pos = self.pos
        do {
            let s = try IMAPSequenceSet.parse(self.bytes[...], at: &pos)
            self.pos = pos
            return s
        } catch {
            throw self.error(error.reason)
        }
    }

    // MARK: - Strings

    ///     quoted = DQUOTE *QUOTED-CHAR DQUOTE
    ///     QUOTED-CHAR = <any TEXT-CHAR except quoted-specials> / "\" quoted-specials / UTF8-2 / UTF8-3 / UTF8-4
    mutating func quoted() throws(IMAPParseError) -> [UInt8] {
        try self.expect(UInt8(ascii: "\""), "quoted string")
        var out: [UInt8] = []
        while true {
            guard let c = self.peek() else { throw self.error("unterminated quoted string") }
            self.pos += 1
            switch c {
            case UInt8(ascii: "\""):
                if out.contains(where: { $0 >= 0x80 }) {
                    // RFC 6855 3: only with UTF8=ACCEPT, and only valid UTF-8.
                    guard self.options.utf8Accept else { throw self.error("8-bit data in quoted string") }
                    var it = out.makeIterator()
                    var d = UTF8()
                    loop: while true {
                        switch d.decode(&it) {
                        case .scalarValue: continue
                        case .emptyInput: break loop
                        case .error: throw self.error("invalid UTF-8 in quoted string")
                        }
                    }
                }
                return out
            case UInt8(ascii: "\\"):
                guard let e = self.peek(), e == UInt8(ascii: "\"") || e == UInt8(ascii: "\\") else {
                    throw self.error("bad escape in quoted string")
                }
                out.append(e)
                self.pos += 1
            case 0, UInt8(ascii: "\r"), UInt8(ascii: "\n"):
                throw self.error("control character in quoted string")
            default:
                out.append(c)
            }
        }
    }

    /// A literal announced at the end of this line: takes its data and moves to the next line.
    ///
    ///     literal  = "{" number64 ["+"] "}" CRLF *CHAR8
    ///     literal8 = "~{" number64 "}" CRLF *OCTET
    mutating func literal(allowBinary: Bool = false) throws(IMAPParseError) -> (data: [UInt8], binary: Bool) {
        let (data, binary, streamed) = try self.messageLiteral(allowBinary: allowBinary)
        if streamed != nil { throw self.error("literal too large") }
        return (data, binary)
    }

    /// A literal that may be message data streamed out of the frame: then `streamed` is its
    /// position among the streamed literals and `data` is empty.
    mutating func messageLiteral(allowBinary: Bool) throws(IMAPParseError) -> (data: [UInt8], binary: Bool, streamed: Int?) {
        let binary = self.take(UInt8(ascii: "~"))
        if binary, !allowBinary { throw self.error("literal8 not allowed here") }
        // The announcement must be all that is left of the line: "{" digits ["+" / "-"] "}".
        let rest = self.bytes[self.pos...]
        var inner = rest.dropFirst().dropLast()
        if let c = inner.last, c == UInt8(ascii: "+") || c == UInt8(ascii: "-") { inner = inner.dropLast() }
        guard rest.first == UInt8(ascii: "{"), rest.last == UInt8(ascii: "}"), !inner.isEmpty,
            inner.allSatisfy(isDigit), self.line < self.literals.count
        else { throw self.error("bad literal") }
        let data = self.literals[self.line]
        let streamed = self.streamed.firstIndex(of: self.line)
        self.line += 1
        self.pos = 0
        // RFC 9051 4.3: CHAR8 excludes NUL in a normal literal.
        if !binary, data.contains(0) { throw self.error("NUL in literal") }
        return (data, binary, streamed)
    }

    ///     string = quoted / literal
    mutating func stringBytes() throws(IMAPParseError) -> [UInt8] {
        switch self.peek() {
        case UInt8(ascii: "\""): return try self.quoted()
        case UInt8(ascii: "{"): return try self.literal().data
        default: throw self.error("expected string")
        }
    }

    mutating func string() throws(IMAPParseError) -> String {
        String(decoding: try self.stringBytes(), as: UTF8.self)
    }

    ///     astring = 1*ASTRING-CHAR / string
    mutating func astring(_ what: String = "string") throws(IMAPParseError) -> String {
        switch self.peek() {
        case UInt8(ascii: "\""), UInt8(ascii: "{"): return try self.string()
        default:
            let start = self.pos
            while let c = self.peek(), isAstringChar(c) {
                self.pos += 1
            }
            guard self.pos > start else { throw self.error("expected \(what)") }
            return String(decoding: self.bytes[start..<self.pos], as: UTF8.self)
        }
    }

    ///     nstring = string / nil
    mutating func nstring() throws(IMAPParseError) -> String? {
        if self.takeWord("NIL") { return nil }
        return try self.string()
    }

    ///     mailbox = "INBOX" / astring  ; INBOX is case-insensitive
    mutating func mailbox() throws(IMAPParseError) -> String {
        let name = try self.astring("mailbox name")
        if name.uppercased() == "INBOX" { return "INBOX" }
        if !self.options.utf8Accept, self.options.decodeModifiedUTF7 {
            do {
                return try ModifiedUTF7.decode(name)
            } catch {
                var e = self.error("mailbox name is not valid modified UTF-7")
                e.invalidMailboxName = true
                throw e
            }
        }
        return name
    }

    ///     list-mailbox = 1*list-char / string ; list-char = ATOM-CHAR / list-wildcards / resp-specials
    mutating func listMailbox() throws(IMAPParseError) -> String {
        switch self.peek() {
        case UInt8(ascii: "\""), UInt8(ascii: "{"): break
        default:
            let start = self.pos
            while let c = self.peek(), isAstringChar(c) || c == UInt8(ascii: "%") || c == UInt8(ascii: "*") {
                self.pos += 1
            }
            guard self.pos > start else { throw self.error("expected mailbox pattern") }
            return String(decoding: self.bytes[start..<self.pos], as: UTF8.self)
        }
        let s = try self.string()
        if !self.options.utf8Accept, self.options.decodeModifiedUTF7, let d = try? ModifiedUTF7.decode(s) {
            return d
        }
        return s
    }

    // MARK: - Lists

    /// Parses "(" [item *(SP item)] ")" with `item` for each element.
    mutating func list<T>(
        allowEmpty: Bool = true,
        _ item: (inout IMAPCursor) throws(IMAPParseError) -> T
    ) throws(IMAPParseError) -> [T] {
        try self.expect(UInt8(ascii: "("), "(")
        var out: [T] = []
        if self.take(UInt8(ascii: ")")) {
            guard allowEmpty else { throw self.error("empty list") }
            return out
        }
        while true {
            out.append(try item(&self))
            if self.take(UInt8(ascii: ")")) { return out }
            try self.space()
        }
    }

    ///     flag = "\Answered" / "\Flagged" / "\Deleted" / "\Seen" / "\Draft" / flag-keyword / flag-extension
    mutating func flag() throws(IMAPParseError) -> String {
        if self.take(UInt8(ascii: "\\")) {
            let a = try self.requiredAtom("flag")
            return "\\" + a
        }
        return try self.requiredAtom("flag")
    }

    ///     flag-list = "(" [flag *(SP flag)] ")"
    mutating func flagList() throws(IMAPParseError) -> [String] {
        try self.list { (p: inout IMAPCursor) throws(IMAPParseError) in try p.flag() }
    }

    // MARK: - Dates

    ///     date = date-text / DQUOTE date-text DQUOTE
    ///     date-text = date-day "-" date-month "-" date-year
    mutating func date() throws(IMAPParseError) -> IMAPDate {
        let q = self.take(UInt8(ascii: "\""))
        let d = try self.dateText(fixedDay: false)
        if q { try self.expect(UInt8(ascii: "\""), "closing quote") }
        return d
    }

    mutating func dateText(fixedDay: Bool) throws(IMAPParseError) -> IMAPDate {
        // RFC 9051 9: date-day = 1*2DIGIT; date-day-fixed = (SP DIGIT) / 2DIGIT.
        var day = 0
        if fixedDay, self.take(UInt8(ascii: " ")) {
            day = try self.digits(1)
        } else {
            let start = self.pos
            while let c = self.peek(), isDigit(c), self.pos - start < 2 {
                day = day * 10 + Int(c - UInt8(ascii: "0"))
                self.pos += 1
            }
            guard self.pos > start, !fixedDay || self.pos - start == 2 else { throw self.error("bad day") }
        }
        try self.expect(UInt8(ascii: "-"), "- in date")
        let m = String(decoding: self.bytes[self.pos..<min(self.pos + 3, self.bytes.count)], as: UTF8.self)
        guard let month = IMAPDate.months.firstIndex(where: { $0.lowercased() == m.lowercased() }) else {
            throw self.error("bad month")
        }
        self.pos += 3
        try self.expect(UInt8(ascii: "-"), "- in date")
        let year = try self.digits(4)
        guard day >= 1, day <= 31 else { throw self.error("bad day") }
        return IMAPDate(year: year, month: month + 1, day: day)
    }

    mutating func digits(_ n: Int) throws(IMAPParseError) -> Int {
        var v = 0
        for _ in 0..<n {
            guard let c = self.peek(), isDigit(c) else { throw self.error("expected \(n) digits") }
            v = v * 10 + Int(c - UInt8(ascii: "0"))
            self.pos += 1
        }
        return v
    }

    ///     date-time = DQUOTE date-day-fixed "-" date-month "-" date-year SP time SP zone DQUOTE
    ///     time = 2DIGIT ":" 2DIGIT ":" 2DIGIT ; zone = ("+" / "-") 4DIGIT
    mutating func dateTime() throws(IMAPParseError) -> IMAPDateTime {
        try self.expect(UInt8(ascii: "\""), "date-time")
        let d = try self.dateText(fixedDay: true)
        try self.space()
        let h = try self.digits(2)
        try self.expect(UInt8(ascii: ":"), ": in time")
        let m = try self.digits(2)
        try self.expect(UInt8(ascii: ":"), ": in time")
        let s = try self.digits(2)
        try self.space()
        let sign: Int
        if self.take(UInt8(ascii: "+")) {
            sign = 1
        } else if self.take(UInt8(ascii: "-")) {
            sign = -1
        } else {
            throw self.error("bad zone")
        }
        let z = try self.digits(4)
        try self.expect(UInt8(ascii: "\""), "closing quote")
        guard h < 24, m < 60, s < 61, z % 100 < 60 else { throw self.error("bad time") }
        return IMAPDateTime(date: d, hour: h, minute: m, second: s, zoneMinutes: sign * (z / 100 * 60 + z % 100))
    }
}
