/// One complete command as it came off the wire: its lines, and the literal data between them.
///
/// Every line but the last ends with the literal's announcement ("{5}", "{5+}", "{5-}", "~{5}"),
/// kept so the parser sees where each literal belongs; line endings are removed. There is always
/// one more line than literals.
/// - SeeAlso: RFC 9051 4.3 (literals), RFC 9051 9 "literal", "literal8", RFC 7888 (LITERAL+/-)
public struct IMAPFrame: Hashable, Sendable {
    public var lines: [[UInt8]]
    public var literals: [[UInt8]]
    /// Indexes of the literals whose data was handed out as it arrived (`IMAPFrameReader.Next`'s
    /// `.literalStart` and `.literalData`) instead of being kept here: their entry is empty.
    public var streamed: [Int]

    public init(lines: [[UInt8]], literals: [[UInt8]], streamed: [Int] = []) {
        self.lines = lines
        self.literals = literals
        self.streamed = streamed
    }

    /// A frame of one line without literals.
    public init(line: String) {
        self.init(lines: [Array(line.utf8)], literals: [])
    }
}

/// Why the frame reader refused input.
public enum IMAPFrameError: Error, Hashable, Sendable {
    /// A line longer than `IMAPLimits.maxLineLength`: the next command boundary cannot be found,
    /// so the connection must be closed (after "* BYE").
    case lineTooLong
    /// A literal larger than the limit. For a synchronizing literal the client waits for our
    /// answer and sends nothing: answer "TAG NO [TOOBIG]" (RFC 9051 7.1) or BAD and go on. A
    /// non-synchronizing literal's data is already on its way: close the connection.
    case literalTooLarge(tag: String?, size: UInt64, synchronizing: Bool)
    /// More literals in one command than `IMAPLimits.maxLiteralsPerCommand`; handled like
    /// `literalTooLarge`.
    case tooManyLiterals(tag: String?, synchronizing: Bool)
    /// RFC 7888 5: a LITERAL- non-synchronizing literal above 4096 octets; close after BAD.
    case literalMinusTooLarge(tag: String?, size: UInt64)

    /// Whether the connection must be closed: the reader cannot find the next command.
    public var isFatal: Bool {
        switch self {
        case .lineTooLong, .literalMinusTooLarge: return true
        case .literalTooLarge(_, _, let sync), .tooManyLiterals(_, let sync): return !sync
        }
    }

    /// The command's tag, when it was read.
    public var tag: String? {
        switch self {
        case .lineTooLong: return nil
        case .literalTooLarge(let tag, _, _), .tooManyLiterals(let tag, _), .literalMinusTooLarge(let tag, _):
            return tag
        }
    }
}

/// Frames commands with their literals out of arbitrary chunks of input.
///
/// Feed bytes with `append`, then call `next()` until it says `.needMoreData`. When it says
/// `.sendContinuation`, write a continuation request ("+ Ready") before waiting for more input:
/// the client holds back a synchronizing literal until then (RFC 9051 4.3, 7.5). Lines end in
/// CRLF; like many servers a bare LF is accepted too.
public struct IMAPFrameReader: Sendable {
    public enum Next: Hashable, Sendable {
        /// A complete command.
        case frame(IMAPFrame)
        /// Send "+ " and a text; the client then sends the synchronizing literal.
        case sendContinuation
        /// No complete command buffered yet.
        case needMoreData
        /// A message literal larger than `IMAPLimits.maxInMemoryLiteral` begins; its data follows
        /// in `.literalData` pieces (the frame will have an empty literal in its place).
        case literalStart(size: Int)
        /// The next piece of the literal being streamed.
        case literalData([UInt8])
        /// Refused input; see `IMAPFrameError.isFatal`. After a fatal error the reader stays failed.
        case error(IMAPFrameError)
    }

    public let limits: IMAPLimits
    private var buffer: [UInt8] = []
    private var start = 0
    private var scanned = 0
    private var lines: [[UInt8]] = []
    private var literals: [[UInt8]] = []
    /// Bytes still to read for the current literal, or nil while reading a line.
    private var literalSize: Int?
    /// The current literal is handed out as it arrives rather than kept.
    private var streaming = false
    private var streamStartPending = false
    private var streamed: [Int] = []
    public private(set) var failedWith: IMAPFrameError?

    public init(limits: IMAPLimits = IMAPLimits()) {
        self.limits = limits
    }

    /// Number of bytes buffered and not yet returned.
    public var bufferedCount: Int { self.buffer.count - self.start }

    /// Whether a command is partly read (some lines or literals, not yet complete).
    public var isInsideCommand: Bool { !self.lines.isEmpty || self.literalSize != nil }

    public mutating func append<S: Sequence>(_ bytes: S) where S.Element == UInt8 {
        self.buffer.append(contentsOf: bytes)
    }

    /// Takes all buffered bytes, e.g. to hand them to the TLS handshake after STARTTLS or to a
    /// decompressor after COMPRESS.
    public mutating func takeBuffered() -> [UInt8] {
        let rest = Array(self.buffer[self.start...])
        self.buffer.removeAll(keepingCapacity: true)
        self.start = 0
        self.scanned = 0
        return rest
    }

    public mutating func next() -> Next {
        if let e = self.failedWith { return .error(e) }
        while true {
            if self.streamStartPending, let size = self.literalSize {
                self.streamStartPending = false
                return .literalStart(size: size)
            }
            if self.streaming, let size = self.literalSize {
                let take = min(size, self.buffer.count - self.start)
                guard take > 0 else { return .needMoreData }
                let piece = Array(self.buffer[self.start..<(self.start + take)])
                self.start += take
                self.scanned = self.start
                if take == size {
                    self.literalSize = nil
                    self.streaming = false
                    self.streamed.append(self.literals.count)
                    self.literals.append([])
                } else {
                    self.literalSize = size - take
                }
                self.compact()
                return .literalData(piece)
            }
            if let size = self.literalSize {
                guard self.buffer.count - self.start >= size else { return .needMoreData }
                self.literals.append(Array(self.buffer[self.start..<(self.start + size)]))
                self.start += size
                self.scanned = self.start
                self.literalSize = nil
                continue
            }
            var i = self.scanned
            while i < self.buffer.count, self.buffer[i] != UInt8(ascii: "\n") {
                i += 1
            }
            if i == self.buffer.count {
                self.scanned = i
                if self.buffer.count - self.start >= self.limits.maxLineLength {
                    return self.fail(.lineTooLong)
                }
                self.compact()
                return .needMoreData
            }
            guard i + 1 - self.start <= self.limits.maxLineLength else { return self.fail(.lineTooLong) }
            var end = i
            if end > self.start, self.buffer[end - 1] == UInt8(ascii: "\r") {
                end -= 1
            }
            let line = Array(self.buffer[self.start..<end])
            self.start = i + 1
            self.scanned = self.start
            self.lines.append(line)
            guard let announced = Self.literalAnnouncement(line) else {
                let frame = IMAPFrame(lines: self.lines, literals: self.literals, streamed: self.streamed)
                self.lines = []
                self.literals = []
                self.streamed = []
                self.compact()
                return .frame(frame)
            }
            let tag = Self.tag(self.lines[0])
            if self.literals.count + 1 > self.limits.maxLiteralsPerCommand {
                return self.refuse(.tooManyLiterals(tag: tag, synchronizing: announced.sync))
            }
            // RFC 7888 5: LITERAL- allows non-synchronizing literals of at most 4096 octets.
            if announced.minus, announced.size > 4096 {
                return self.fail(.literalMinusTooLarge(tag: tag, size: announced.size))
            }
            let carriesMessage = Self.isAppend(self.lines[0])
            let max = carriesMessage ? self.limits.maxAppendLiteralSize : self.limits.maxLiteralSize
            guard announced.size <= UInt64(max) else {
                return self.refuse(.literalTooLarge(tag: tag, size: announced.size, synchronizing: announced.sync))
            }
            self.literalSize = Int(announced.size)
            if carriesMessage && announced.size > UInt64(self.limits.maxInMemoryLiteral) {
                // A large message is handed out as it arrives, so it never sits here whole.
                self.streaming = true
                self.streamStartPending = true
            }
            if announced.sync { return .sendContinuation }
        }
    }

    private mutating func fail(_ e: IMAPFrameError) -> Next {
        self.failedWith = e
        return .error(e)
    }

    /// Drops the partly read command; fatal unless the client waits for a continuation.
    private mutating func refuse(_ e: IMAPFrameError) -> Next {
        if e.isFatal { return self.fail(e) }
        self.lines = []
        self.literals = []
        self.streamed = []
        self.compact()
        return .error(e)
    }

    private mutating func compact() {
        if self.start == self.buffer.count {
            self.buffer.removeAll(keepingCapacity: true)
            self.start = 0
            self.scanned = 0
        } else if self.start > 4096, self.start * 2 > self.buffer.count {
            self.buffer.removeSubrange(0..<self.start)
            self.scanned -= self.start
            self.start = 0
        }
    }

    /// The literal announced at the end of a line, if any.
    ///
    ///     literal  = "{" number64 ["+"] "}" CRLF *CHAR8     ; RFC 9051 9
    ///     literal8 = "~{" number64 "}" CRLF *OCTET          ; RFC 9051 9 (RFC 3516)
    ///     literal  =/ "{" number64 "-}"                     ; RFC 7888 (LITERAL-)
    static func literalAnnouncement(_ line: [UInt8]) -> (size: UInt64, sync: Bool, minus: Bool)? {
        guard var i = line.indices.last, line[i] == UInt8(ascii: "}") else { return nil }
        i -= 1
        var sync = true
        var minus = false
        if i >= 0, line[i] == UInt8(ascii: "+") || line[i] == UInt8(ascii: "-") {
            sync = false
            minus = line[i] == UInt8(ascii: "-")
            i -= 1
        }
        let digitsEnd = i + 1
        while i >= 0, line[i] >= UInt8(ascii: "0"), line[i] <= UInt8(ascii: "9") {
            i -= 1
        }
        guard i >= 0, line[i] == UInt8(ascii: "{"), digitsEnd - (i + 1) >= 1 else { return nil }
        // RFC 9051 9: number64 fits 63 bits; anything with more than 19 digits is too large anyway.
        var n: UInt64 = 0
        for d in line[(i + 1)..<digitsEnd] {
            let (m, o1) = n.multipliedReportingOverflow(by: 10)
            let (s, o2) = m.addingReportingOverflow(UInt64(d - UInt8(ascii: "0")))
            n = (o1 || o2) ? UInt64.max : s
        }
        return (n, sync, minus)
    }

    /// The tag of a frame's command, if it has one.
    public static func tag(of frame: IMAPFrame) -> String? {
        frame.lines.first.flatMap { Self.tag($0) }
    }

    /// The tag at the start of the first line, if it is one.
    static func tag(_ line: [UInt8]) -> String? {
        let word = line.prefix { $0 != UInt8(ascii: " ") }
        guard !word.isEmpty, word.count <= 64, word.allSatisfy(isTagChar) else { return nil }
        return String(decoding: word, as: UTF8.self)
    }

    /// Message data (APPEND, REPLACE and UID REPLACE, RFC 8508) gets the larger literal limit.
    static func isAppend(_ line: [UInt8]) -> Bool {
        let words = line.split(separator: UInt8(ascii: " "), maxSplits: 3, omittingEmptySubsequences: false)
        guard words.count >= 2 else { return false }
        let command = words[1].map(asciiUpper)
        if command == Array("APPEND".utf8) || command == Array("REPLACE".utf8) { return true }
        return command == Array("UID".utf8) && words.count >= 3 && words[2].map(asciiUpper) == Array("REPLACE".utf8)
    }
}

@inline(__always)
func asciiUpper(_ b: UInt8) -> UInt8 {
    b >= UInt8(ascii: "a") && b <= UInt8(ascii: "z") ? b - 32 : b
}

@inline(__always)
func isDigit(_ b: UInt8) -> Bool { b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9") }

/// RFC 9051 9: ATOM-CHAR = <any CHAR except atom-specials>;
/// atom-specials = "(" / ")" / "{" / SP / CTL / list-wildcards / quoted-specials / resp-specials
@inline(__always)
func isAtomChar(_ b: UInt8) -> Bool {
    guard b > 0x20, b < 0x7f else { return false }
    switch b {
    case UInt8(ascii: "("), UInt8(ascii: ")"), UInt8(ascii: "{"), UInt8(ascii: "%"), UInt8(ascii: "*"),
        UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "]"):
        return false
    default: return true
    }
}

/// RFC 9051 9: ASTRING-CHAR = ATOM-CHAR / resp-specials ("]").
@inline(__always)
func isAstringChar(_ b: UInt8) -> Bool { isAtomChar(b) || b == UInt8(ascii: "]") }

/// RFC 9051 9: tag = 1*<any ASTRING-CHAR except "+">
@inline(__always)
func isTagChar(_ b: UInt8) -> Bool { isAstringChar(b) && b != UInt8(ascii: "+") }
