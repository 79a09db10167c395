/// How strictly to parse, and what the session already knows.
public struct SMTPParserOptions: Hashable, Sendable {
    /// The transaction was started with MAIL ... SMTPUTF8: UTF-8 is allowed in RCPT local-parts
    /// and domains (RFC 6531 3.3). For MAIL itself, its own SMTPUTF8 parameter decides.
    public var smtputf8: Bool
    /// Follow the RFC to the letter: no space after "FROM:"/"TO:", no trailing white space,
    /// local-parts of at most 64 octets. Off by default, like mox.
    public var pedantic: Bool
    /// Accept any EHLO/HELO argument, returning a nil host when it does not parse. mox does this
    /// on submission ports, where mail clients often send bogus names.
    public var lenientHello: Bool

    public init(smtputf8: Bool = false, pedantic: Bool = false, lenientHello: Bool = false) {
        self.smtputf8 = smtputf8
        self.pedantic = pedantic
        self.lenientHello = lenientHello
    }
}

/// Parses one command line, without its line ending.
/// - SeeAlso: RFC 5321 4.1.1 (commands), 4.1.2 (argument syntax)
public enum SMTPCommandParser {
    public static func parse(
        line: [UInt8],
        options: SMTPParserOptions = SMTPParserOptions()
    ) throws(SMTPSyntaxError) -> SMTPCommand {
        try Self.parse(line: line[...], options: options)
    }

    public static func parse(
        line: ArraySlice<UInt8>,
        options: SMTPParserOptions = SMTPParserOptions()
    ) throws(SMTPSyntaxError) -> SMTPCommand {
        // RFC 5321 4.1.1: the verb is separated from its arguments by a space; verbs are
        // case-insensitive (RFC 5321 2.4).
        let space = line.firstIndex(of: UInt8(ascii: " ")) ?? line.endIndex
        let verb = String(decoding: line[line.startIndex..<space].prefix(32).map(asciiUpper), as: UTF8.self)
        var p = CommandCursor(bytes: Array(line[space...]), options: options)
        switch verb {
        case "EHLO": return .ehlo(try p.hello(extended: true))
        case "HELO": return .helo(try p.hello(extended: false))
        case "MAIL": return try p.mail()
        case "RCPT": return try p.rcpt()
        case "DATA":
            try p.end()
            return .data
        case "BDAT": return try p.bdat()
        case "RSET":
            try p.end()
            return .rset
        case "NOOP": return .noop(try p.optionalString())
        case "QUIT":
            try p.end()
            return .quit
        case "VRFY":
            let (s, utf8) = try p.verifyArgument()
            return .vrfy(s, smtputf8: utf8)
        case "EXPN":
            let (s, utf8) = try p.verifyArgument()
            return .expn(s, smtputf8: utf8)
        case "HELP": return .help(p.help())
        case "STARTTLS":
            try p.end()
            return .starttls
        case "AUTH": return try p.auth()
        default:
            // Keep only printable ASCII of an unknown verb; it ends up in logs.
            let printable = line[line.startIndex..<space].prefix(32).filter { $0 > 32 && $0 < 127 }
            return .unknown(verb: String(decoding: printable, as: UTF8.self))
        }
    }
}

@inline(__always)
func asciiUpper(_ b: UInt8) -> UInt8 {
    b >= UInt8(ascii: "a") && b <= UInt8(ascii: "z") ? b - 32 : b
}

@inline(__always)
func isDigit(_ b: UInt8) -> Bool { b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9") }

@inline(__always)
func isAlpha(_ b: UInt8) -> Bool {
    (b >= UInt8(ascii: "a") && b <= UInt8(ascii: "z")) || (b >= UInt8(ascii: "A") && b <= UInt8(ascii: "Z"))
}

/// The position in the argument part of a command line (starting at the space after the verb).
struct CommandCursor {
    let bytes: [UInt8]
    var pos = 0
    let options: SMTPParserOptions

    init(bytes: [UInt8], options: SMTPParserOptions) {
        self.bytes = bytes
        self.options = options
    }

    var isAtEnd: Bool { self.pos >= self.bytes.count }

    var remaining: String { String(decoding: self.bytes[min(self.pos, self.bytes.count)...], as: UTF8.self) }

    func peek() -> UInt8? { self.pos < self.bytes.count ? self.bytes[self.pos] : nil }

    /// 501 5.5.2 "bad syntax: ...": the reply for anything that does not match the grammar.
    func syntaxError(_ reason: String) -> SMTPSyntaxError {
        SMTPSyntaxError(reply: .badSyntax("bad syntax: " + reason), reason: reason, remaining: self.remaining)
    }

    func error(_ code: Int, _ enhanced: EnhancedCode, _ reason: String) -> SMTPSyntaxError {
        SMTPSyntaxError(reply: SMTPReply(code, enhanced, reason), reason: reason, remaining: self.remaining)
    }

    /// Takes `s` (upper case ASCII) if the input continues with it, case-insensitively.
    mutating func take(_ s: String) -> Bool {
        var i = self.pos
        for c in s.utf8 {
            guard i < self.bytes.count, asciiUpper(self.bytes[i]) == c else { return false }
            i += 1
        }
        self.pos = i
        return true
    }

    mutating func expect(_ s: String) throws(SMTPSyntaxError) {
        guard self.take(s) else { throw self.syntaxError("expected \(s.debugDescription)") }
    }

    /// Takes the longest run of bytes matching `f` (given the byte and its index in the run).
    mutating func takeWhile(
        _ f: (UInt8, Int) throws(SMTPSyntaxError) -> Bool
    ) throws(SMTPSyntaxError) -> ArraySlice<UInt8> {
        let start = self.pos
        while self.pos < self.bytes.count, try f(self.bytes[self.pos], self.pos - start) {
            self.pos += 1
        }
        return self.bytes[start..<self.pos]
    }

    mutating func takeWhile1(
        _ what: String,
        _ f: (UInt8, Int) throws(SMTPSyntaxError) -> Bool
    ) throws(SMTPSyntaxError) -> ArraySlice<UInt8> {
        let s = try self.takeWhile(f)
        guard !s.isEmpty else { throw self.syntaxError("expected \(what)") }
        return s
    }

    /// Whether only spaces and tabs are left.
    var onlyWhitespaceLeft: Bool {
        self.bytes[min(self.pos, self.bytes.count)...].allSatisfy {
            $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t")
        }
    }

    /// The end of a command. RFC 5321 4.1.1 asks servers to tolerate trailing white space, which
    /// we do unless pedantic.
    mutating func end() throws(SMTPSyntaxError) {
        if self.isAtEnd { return }
        if !self.options.pedantic, self.onlyWhitespaceLeft {
            self.pos = self.bytes.count
            return
        }
        throw self.syntaxError("unexpected data at end of command: \(self.remaining.debugDescription)")
    }

    // MARK: - Simple commands

    // RFC 5321 4.1.1.1: ehlo = "EHLO" SP ( Domain / address-literal ) CRLF
    //                   helo = "HELO" SP Domain CRLF
    mutating func hello(extended: Bool) throws(SMTPSyntaxError) -> SMTPHost? {
        if self.options.lenientHello {
            var copy = self
            return try? copy.strictHello(extended: extended)
        }
        return try self.strictHello(extended: extended)
    }

    private mutating func strictHello(extended: Bool) throws(SMTPSyntaxError) -> SMTPHost {
        try self.expect(" ")
        let host: SMTPHost
        if extended {
            host = try self.hostOrLiteral()
            // RFC 5321 4.1.4: text may follow an address literal; like mox we accept it when
            // separated by a space, and ignore it.
            if case .domain = host {
            } else if self.take(" ") {
                self.pos = self.bytes.count
            }
        } else {
            host = .domain(try self.domain())
        }
        try self.end()
        return host
    }

    // RFC 3030 2: bdat-cmd = "BDAT" SP chunk-size [ SP end-marker ] CRLF
    //             chunk-size = 1*DIGIT; end-marker = "LAST"
    mutating func bdat() throws(SMTPSyntaxError) -> SMTPCommand {
        try self.expect(" ")
        let size = try self.number("chunk size", maxDigits: 19)
        var last = false
        if self.take(" ") {
            if self.take("LAST") {
                last = true
            } else if !self.onlyWhitespaceLeft || self.options.pedantic {
                throw self.syntaxError("expected \"LAST\" after chunk size")
            }
        }
        try self.end()
        return .bdat(size: size, last: last)
    }

    // RFC 5321 4.1.1.9: noop = "NOOP" [ SP String ] CRLF
    mutating func optionalString() throws(SMTPSyntaxError) -> String? {
        guard self.take(" ") else {
            try self.end()
            return nil
        }
        if !self.options.pedantic, self.onlyWhitespaceLeft {
            self.pos = self.bytes.count
            return nil
        }
        let s = try self.string()
        try self.end()
        return s
    }

    // RFC 5321 4.1.1.6: vrfy = "VRFY" SP String CRLF; expn likewise (4.1.1.7).
    // RFC 6531 3.7.4.2: an optional SP "SMTPUTF8" follows.
    mutating func verifyArgument() throws(SMTPSyntaxError) -> (String, Bool) {
        try self.expect(" ")
        let s = try self.string()
        var utf8 = false
        if self.take(" ") {
            if self.take("SMTPUTF8") {
                utf8 = true
            } else if self.options.pedantic || !self.onlyWhitespaceLeft {
                throw self.syntaxError("expected \"SMTPUTF8\"")
            }
        }
        try self.end()
        return (s, utf8)
    }

    // RFC 5321 4.1.1.8: help = "HELP" [ SP String ] CRLF. The argument is ignored, so it is not
    // checked against the grammar.
    mutating func help() -> String? {
        guard self.take(" ") else { return nil }
        let rest = self.bytes[self.pos...]
        self.pos = self.bytes.count
        let trimmed = rest.drop { $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") }
        return trimmed.isEmpty ? nil : String(decoding: trimmed, as: UTF8.self)
    }

    // RFC 5321 4.1.2: String = Atom / Quoted-string
    mutating func string() throws(SMTPSyntaxError) -> String {
        if self.peek() == UInt8(ascii: "\"") {
            return try self.quotedString(localpart: false)
        }
        let atom = try self.atom(localpart: false)
        return String(decoding: atom, as: UTF8.self)
    }

    // RFC 4954 4: "AUTH" SP sasl-mech [SP initial-response]; RFC 4422 3.1: sasl-mech is 1 to
    // 20 of upper-case letters, digits, "-" and "_". We also accept lower case and upper-case it.
    mutating func auth() throws(SMTPSyntaxError) -> SMTPCommand {
        try self.expect(" ")
        let mech = try self.takeWhile1("SASL mechanism name") { b, i in
            guard i < SMTPLimits.maxSASLMechanismLength else { return false }
            return isAlpha(b) || isDigit(b) || b == UInt8(ascii: "-") || b == UInt8(ascii: "_")
        }
        let mechanism = String(decoding: mech.map(asciiUpper), as: UTF8.self)
        if self.isAtEnd {
            return .auth(mechanism: mechanism, initialResponse: nil)
        }
        try self.expect(" ")
        // Some clients (Windows Mail) send two spaces; mox tolerates that unless pedantic.
        if !self.options.pedantic {
            while self.take(" ") {}
        }
        let rest = self.bytes[self.pos...]
        self.pos = self.bytes.count
        guard !rest.isEmpty else {
            throw self.syntaxError("missing initial response after space")
        }
        guard rest.first != UInt8(ascii: " ") else {
            throw self.syntaxError("more than one space before initial response")
        }
        // RFC 4954 4: "=" is a zero-length initial response.
        if rest.elementsEqual([UInt8(ascii: "=")]) {
            return .auth(mechanism: mechanism, initialResponse: "")
        }
        return .auth(mechanism: mechanism, initialResponse: String(decoding: rest, as: UTF8.self))
    }

    // MARK: - Numbers

    mutating func number(_ what: String, maxDigits: Int) throws(SMTPSyntaxError) -> Int {
        let digits = try self.takeWhile1(what) { b, _ in isDigit(b) }
        guard digits.count <= maxDigits else { throw self.syntaxError("\(what) has more than \(maxDigits) digits") }
        var v = 0
        for d in digits {
            let (m, o1) = v.multipliedReportingOverflow(by: 10)
            let (a, o2) = m.addingReportingOverflow(Int(d - UInt8(ascii: "0")))
            guard !o1, !o2 else { throw self.syntaxError("\(what) too large") }
            v = a
        }
        return v
    }
}
