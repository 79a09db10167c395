/// Receives the message after DATA: removes dot-stuffing, finds the end marker, checks line
/// endings and size. Input may be split anywhere; the work is linear in the input.
///
/// RFC 5321 4.5.2: a line starting with "." has had an extra "." added, which is removed here.
/// RFC 5321 4.1.1.4: the data ends with "<CRLF>.<CRLF>"; the CRLF before the dot is the end of
/// the last message line and belongs to the message.
///
/// SMTP smuggling (RFC 5321 2.3.8 allows only CRLF as line ending): servers that disagree on
/// what ends the data let an attacker hide a second message inside the first. Like mox, only
/// "<CRLF>.<CRLF>" ends the data, and the message is rejected (`SMTPReply.bareLineEnding`)
/// when it holds a bare CR anywhere, or a bare LF next to a lone dot ("\r\n.\n", "\n.\n",
/// "\n.\r\n"). Other bare LFs are accepted as message data, as mox does (real messages have
/// them), unless `rejectAllBareLF` is set. Either way the receiver keeps reading until the real
/// end marker, so the session stays in step with the client.
public struct DataReceiver: Sendable {
    /// The verdict once the end marker was seen.
    public enum Outcome: Hashable, Sendable {
        /// The message is complete and acceptable; `size` is its length in octets.
        case complete(size: Int)
        /// Bare CR or LF, see the type documentation. Reply with `SMTPReply.bareLineEnding`.
        case badLineEndings
        /// The message is larger than `maxSize` (output stopped there); reply 552 5.3.4.
        case tooLarge(size: Int)

        /// The reply to send for a rejected message; nil for `.complete`, where the reply
        /// depends on what delivery does with it.
        public var rejection: SMTPReply? {
            switch self {
            case .complete: return nil
            case .badLineEndings: return .bareLineEnding
            case .tooLarge: return .messageTooBig()
            }
        }
    }

    /// The result of one `feed`.
    public struct Output: Hashable, Sendable {
        /// Message bytes to append, dot-stuffing removed, line endings as sent.
        public var data: [UInt8]
        /// Whether the end marker was found; `outcome` is then set.
        public var isComplete: Bool
        /// Input after the end marker: pipelined commands.
        public var leftover: ArraySlice<UInt8>
    }

    private enum State: Sendable {
        /// At the start of a line: after CRLF, or at the very start.
        case lineStart
        case middle
        /// After a CR, not yet known whether bare.
        case afterCR
        /// A "." at the start of a line, not yet output.
        case dot
        /// ".\r" at the start of a line, not yet output: the end marker if LF follows.
        case dotCR
        /// After an LF that had no CR before it.
        case afterBareLF
        /// "\n." where the LF was bare.
        case bareLFDot
        case done
    }

    public let maxSize: Int?
    public let rejectAllBareLF: Bool
    private var state = State.lineStart
    /// Message octets so far (also counted beyond `maxSize`).
    public private(set) var size = 0
    public private(set) var sawBareCR = false
    public private(set) var sawBareLF = false
    /// A bare LF next to a lone dot: the classic smuggling patterns.
    public private(set) var sawBareLFAroundDot = false
    public private(set) var outcome: Outcome?

    public init(maxSize: Int? = nil, rejectAllBareLF: Bool = false) {
        self.maxSize = maxSize
        self.rejectAllBareLF = rejectAllBareLF
    }

    public var isComplete: Bool { self.outcome != nil }

    public mutating func feed(_ bytes: [UInt8]) -> Output {
        self.feed(bytes[...])
    }

    public mutating func feed(_ bytes: ArraySlice<UInt8>) -> Output {
        var out: [UInt8] = []
        if self.state != .done {
            out.reserveCapacity(bytes.count)
        }
        let cr = UInt8(ascii: "\r")
        let lf = UInt8(ascii: "\n")
        let dot = UInt8(ascii: ".")
        var i = bytes.startIndex
        while i < bytes.endIndex, self.state != .done {
            if self.state == .middle {
                // Inside a line only CR and LF matter: copy everything up to the next one at once.
                let end = bytes.withUnsafeBufferPointer { buffer -> Int in
                    var k = i - bytes.startIndex
                    while k < buffer.count, buffer[k] != cr, buffer[k] != lf {
                        k += 1
                    }
                    return bytes.startIndex + k
                }
                if end > i {
                    self.emit(bytes[i..<end], &out)
                    i = end
                    continue
                }
            }
            let b = bytes[i]
            i += 1
            switch self.state {
            case .lineStart:
                if b == dot {
                    self.state = .dot
                } else {
                    self.plain(b, &out)
                }
            case .middle, .afterBareLF:
                if self.state == .afterBareLF, b == dot {
                    // mox does not unstuff a dot after a bare LF; it is data.
                    self.emit(b, &out)
                    self.state = .bareLFDot
                } else {
                    self.plain(b, &out)
                }
            case .afterCR:
                if b == lf {
                    self.emit(b, &out)
                    self.state = .lineStart
                } else {
                    self.sawBareCR = true
                    self.plain(b, &out)
                }
            case .dot:
                // RFC 5321 4.5.2: drop the first dot of the line.
                if b == cr {
                    self.state = .dotCR
                } else {
                    if b == lf {
                        // "\r\n.\n"
                        self.sawBareLFAroundDot = true
                    }
                    self.plain(b, &out)
                }
            case .dotCR:
                if b == lf {
                    self.state = .done
                } else {
                    // The CR after the unstuffed dot was bare.
                    self.sawBareCR = true
                    self.emit(cr, &out)
                    self.plain(b, &out)
                }
            case .bareLFDot:
                if b == lf || b == cr {
                    // "\n.\n" or "\n.\r\n" with a bare first LF.
                    self.sawBareLFAroundDot = true
                }
                self.plain(b, &out)
            case .done:
                break
            }
        }
        if self.state == .done, self.outcome == nil {
            self.finish()
        }
        return Output(data: out, isComplete: self.state == .done, leftover: bytes[i...])
    }

    /// A byte outside dot handling: output it and track CR/LF.
    @inline(__always)
    private mutating func plain(_ b: UInt8, _ out: inout [UInt8]) {
        self.emit(b, &out)
        if b == UInt8(ascii: "\r") {
            self.state = .afterCR
        } else if b == UInt8(ascii: "\n") {
            // Reached only when no CR came right before.
            self.sawBareLF = true
            self.state = .afterBareLF
        } else {
            self.state = .middle
        }
    }

    @inline(__always)
    private mutating func emit(_ b: UInt8, _ out: inout [UInt8]) {
        self.size += 1
        if let maxSize = self.maxSize, self.size > maxSize {
            return
        }
        out.append(b)
    }

    /// Outputs a run of bytes that holds no CR or LF.
    @inline(__always)
    private mutating func emit(_ run: ArraySlice<UInt8>, _ out: inout [UInt8]) {
        let room = self.maxSize.map { max(0, $0 - self.size) } ?? run.count
        out.append(contentsOf: run.prefix(room))
        self.size += run.count
    }

    private mutating func finish() {
        if let maxSize = self.maxSize, self.size > maxSize {
            self.outcome = .tooLarge(size: self.size)
        } else if self.sawBareCR || self.sawBareLFAroundDot || (self.rejectAllBareLF && self.sawBareLF) {
            self.outcome = .badLineEndings
        } else {
            self.outcome = .complete(size: self.size)
        }
    }
}
