import IMAPProtocol
import Testing

@Suite struct IMAPFrameReaderTests {
    enum Event: Hashable {
        case frame([String], [String])
        case continuation
        case streamStart(Int)
        case streamData(String)
        case error(IMAPFrameError)
    }

    /// Feeds `input` in pieces of `chunk` bytes and records everything the reader says.
    func events(_ input: String, chunk: Int, limits: IMAPLimits = IMAPLimits()) -> [Event] {
        let bytes = Array(input.utf8)
        var r = IMAPFrameReader(limits: limits)
        var out: [Event] = []
        var i = 0
        while i < bytes.count {
            let end = min(i + chunk, bytes.count)
            r.append(bytes[i..<end])
            i = end
            loop: while true {
                switch r.next() {
                case .frame(let f):
                    out.append(
                        .frame(
                            f.lines.map { String(decoding: $0, as: UTF8.self) },
                            f.literals.map { String(decoding: $0, as: UTF8.self) }
                        )
                    )
                case .sendContinuation: out.append(.continuation)
                case .literalStart(let size): out.append(.streamStart(size))
                case .literalData(let piece): out.append(.streamData(String(decoding: piece, as: UTF8.self)))
                case .needMoreData: break loop
                case .error(let e):
                    out.append(.error(e))
                    if e.isFatal { return out }
                }
            }
        }
        return out
    }

    /// A message literal over `maxInMemoryLiteral` is handed out in pieces as it arrives and the
    /// frame keeps an empty literal in its place; small ones and other commands' literals stay.
    @Test(arguments: [1, 3, 7, 10_000])
    func largeMessageLiteralsAreStreamed(chunk: Int) {
        let limits = IMAPLimits(maxInMemoryLiteral: 4)
        let input = "a1 APPEND INBOX {10}\r\n0123456789 {3+}\r\nabc\r\na2 UID REPLACE 1 INBOX {5+}\r\nhello\r\n"
        var got = self.events(input, chunk: chunk, limits: limits)
        // Merge consecutive data pieces: how the input is split decides where they break.
        var merged: [Event] = []
        for e in got {
            if case .streamData(let b) = e, case .streamData(let a)? = merged.last {
                merged[merged.count - 1] = .streamData(a + b)
            } else {
                merged.append(e)
            }
        }
        got = merged
        #expect(
            got == [
                .continuation, .streamStart(10), .streamData("0123456789"),
                .frame(["a1 APPEND INBOX {10}", " {3+}", ""], ["", "abc"]),
                .streamStart(5), .streamData("hello"),
                .frame(["a2 UID REPLACE 1 INBOX {5+}", ""], [""]),
            ]
        )
        var r = IMAPFrameReader(limits: limits)
        r.append(Array(input.utf8))
        var frames: [IMAPFrame] = []
        reading: while true {
            switch r.next() {
            case .frame(let f): frames.append(f)
            case .needMoreData: break reading
            default: continue
            }
        }
        #expect(frames.first?.streamed == [0])
        if let f = frames.first, case .append(_, let messages) = try? IMAPCommandParser.parse(f).kind {
            #expect(messages.map(\.streamed) == [0, nil])
            #expect(messages.map(\.data) == [[], Array("abc".utf8)])
        } else {
            Issue.record("APPEND did not parse")
        }
        // A streamed literal where a string is expected is refused.
        let login = IMAPFrame(lines: [Array("a LOGIN {5}".utf8), Array(" x".utf8)], literals: [[]], streamed: [0])
        #expect(throws: IMAPParseError.self) { try IMAPCommandParser.parse(login) }
    }

    @Test(arguments: [1, 2, 3, 5, 7, 64, 10_000])
    func chunking(chunk: Int) {
        let input =
            "a1 NOOP\r\na2 LOGIN {4}\r\nuser {6+}\r\npa\r\nss\r\n"
            + "a3 APPEND INBOX ~{3}\r\nx\0y {2-}\r\nzz\r\nb NOOP\nc SELECT \"{1}\"\r\nd x {0}\r\n\r\n"
        let expected: [Event] = [
            .frame(["a1 NOOP"], []),
            .continuation,
            .frame(["a2 LOGIN {4}", " {6+}", ""], ["user", "pa\r\nss"]),
            .continuation,
            .frame(["a3 APPEND INBOX ~{3}", " {2-}", ""], ["x\0y", "zz"]),
            .frame(["b NOOP"], []),
            // "{1}" inside a quoted string does not end the line: no literal.
            .frame(["c SELECT \"{1}\""], []),
            .continuation,
            .frame(["d x {0}", ""], [""]),
        ]
        #expect(self.events(input, chunk: chunk) == expected)
    }

    @Test(arguments: [1, 1000])
    func lineTooLong(chunk: Int) {
        let limits = IMAPLimits(maxLineLength: 10)
        #expect(self.events("a NOOP\r\n", chunk: chunk, limits: limits) == [.frame(["a NOOP"], [])])
        #expect(self.events("a NOOP 12\r\n", chunk: chunk, limits: limits) == [.error(.lineTooLong)])
        #expect(self.events("a NOOP 1234567890", chunk: chunk, limits: limits) == [.error(.lineTooLong)])
    }

    @Test func literalLimits() {
        let limits = IMAPLimits(maxLiteralSize: 10, maxAppendLiteralSize: 20, maxLiteralsPerCommand: 2)
        // A too-large synchronizing literal: the client waits, the reader drops the command and goes on.
        #expect(
            self.events("a LOGIN {11}\r\nb NOOP\r\n", chunk: 100, limits: limits) == [
                .error(.literalTooLarge(tag: "a", size: 11, synchronizing: true)), .frame(["b NOOP"], []),
            ]
        )
        // APPEND has its own limit.
        #expect(
            self.events("a append x {20+}\r\n12345678901234567890\r\n", chunk: 100, limits: limits) == [
                .frame(["a append x {20+}", ""], ["12345678901234567890"])
            ]
        )
        // Non-synchronizing: fatal.
        #expect(
            self.events("a LOGIN {11+}\r\n12345678901\r\nb NOOP\r\n", chunk: 100, limits: limits) == [
                .error(.literalTooLarge(tag: "a", size: 11, synchronizing: false))
            ]
        )
        #expect(
            self.events("a LOGIN {4097-}\r\n", chunk: 100, limits: IMAPLimits(maxLiteralSize: 10_000)) == [
                .error(.literalMinusTooLarge(tag: "a", size: 4097))
            ]
        )
        #expect(
            self.events("a X {1+}\r\na {1+}\r\nb {1}\r\n", chunk: 100, limits: limits) == [
                .error(.tooManyLiterals(tag: "a", synchronizing: true))
            ]
        )
        #expect(
            self.events("* X {99999999999999999999999}\r\n", chunk: 100) == [
                .error(.literalTooLarge(tag: nil, size: UInt64.max, synchronizing: true))
            ]
        )
    }

    @Test func notLiterals() {
        #expect(self.events("a X {}\r\na X {1\r\na X 1}\r\na X {+}\r\n", chunk: 3).count == 4)
    }

    @Test func stateAndTakeBuffered() {
        var r = IMAPFrameReader()
        r.append(Array("a LOGIN {2}\r\nx".utf8))
        #expect(r.next() == .sendContinuation)
        #expect(r.next() == .needMoreData)
        #expect(r.isInsideCommand)
        r.append(Array("y z\r\nb STARTTLS\r\n\u{16}\u{03}".utf8))
        #expect(
            r.next()
                == .frame(
                    IMAPFrame(lines: [Array("a LOGIN {2}".utf8), Array(" z".utf8)], literals: [Array("xy".utf8)])
                )
        )
        #expect(!r.isInsideCommand)
        #expect(r.next() == .frame(IMAPFrame(line: "b STARTTLS")))
        // After STARTTLS the rest belongs to the TLS handshake.
        #expect(r.takeBuffered() == [0x16, 0x03])
        #expect(r.bufferedCount == 0)
        #expect(r.next() == .needMoreData)
    }

    @Test func failedStaysFailed() {
        var r = IMAPFrameReader(limits: IMAPLimits(maxLineLength: 4))
        r.append(Array("abcdef\r\na NOOP\r\n".utf8))
        #expect(r.next() == .error(.lineTooLong))
        #expect(r.next() == .error(.lineTooLong))
        #expect(r.failedWith == .lineTooLong)
    }
}
