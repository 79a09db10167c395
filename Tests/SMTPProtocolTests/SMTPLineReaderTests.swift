import SMTPProtocol
import Testing

@Suite struct SMTPLineReaderTests {
    /// Reads all complete lines, feeding `input` in pieces of `chunk` bytes.
    func lines(_ input: [UInt8], chunk: Int, max: Int = SMTPLimits.maxLineLength) -> ([String], Bool, Int) {
        var r = SMTPLineReader(maxLineLength: max)
        var out: [String] = []
        var tooLong = false
        var i = 0
        while i < input.count {
            let end = min(i + chunk, input.count)
            r.append(input[i..<end])
            i = end
            loop: while true {
                switch r.next() {
                case .line(let l): out.append(text(l))
                case .needMoreData: break loop
                case .tooLong:
                    tooLong = true
                    break loop
                }
            }
            if tooLong { break }
        }
        return (out, tooLong, r.bufferedCount)
    }

    @Test(arguments: [1, 2, 3, 7, 1000])
    func framesLines(chunk: Int) {
        // Bare LF also ends a command line, as in mox; CR before LF is dropped, other CRs stay.
        let input = bytes("EHLO x\r\nMAIL FROM:<a@b>\nRCPT TO:<c@d>\r\n\r\nNOOP\ra\r\nQUI")
        let (got, tooLong, rest) = self.lines(input, chunk: chunk)
        #expect(got == ["EHLO x", "MAIL FROM:<a@b>", "RCPT TO:<c@d>", "", "NOOP\ra"])
        #expect(!tooLong)
        #expect(rest == 3)
    }

    @Test func lineLengthLimit() {
        // The limit counts the line ending.
        let okLine = bytes(String(repeating: "a", count: 14) + "\r\n")
        #expect(self.lines(okLine, chunk: 100, max: 16).0 == [String(repeating: "a", count: 14)])
        let okLF = bytes(String(repeating: "a", count: 15) + "\n")
        #expect(self.lines(okLF, chunk: 1, max: 16).0 == [String(repeating: "a", count: 15)])
        let long = bytes(String(repeating: "a", count: 15) + "\r\n")
        #expect(self.lines(long, chunk: 100, max: 16).1)
        #expect(self.lines(long, chunk: 1, max: 16).1)
    }

    @Test func tooLongWithoutNewlineStopsEarly() {
        var r = SMTPLineReader(maxLineLength: 10)
        r.append(bytes("0123456789"))
        #expect(r.next() == .tooLong)
        #expect(r.failed)
        // Failed for good: the connection must be closed.
        r.append(bytes("\r\nQUIT\r\n"))
        #expect(r.next() == .tooLong)
    }

    @Test func defaultLimitIsMox2048() {
        var r = SMTPLineReader()
        r.append(Array(repeating: UInt8(ascii: "a"), count: 2047) + bytes("\n"))
        guard case .line(let l) = r.next() else {
            Issue.record("expected line")
            return
        }
        #expect(l.count == 2047)
        r.append(Array(repeating: UInt8(ascii: "a"), count: 2048))
        #expect(r.next() == .tooLong)
    }

    @Test func takeBufferedForData() {
        var r = SMTPLineReader()
        r.append(bytes("DATA\r\nSubject: x\r\n\r\nbody\r\n.\r\n"))
        #expect(r.next() == .line(bytes("DATA")))
        #expect(r.takeBuffered() == bytes("Subject: x\r\n\r\nbody\r\n.\r\n"))
        #expect(r.bufferedCount == 0)
        #expect(r.next() == .needMoreData)
        r.append(bytes("QUIT\r\n"))
        #expect(r.next() == .line(bytes("QUIT")))
    }

    @Test func manyLinesStayLinear() {
        var r = SMTPLineReader()
        var n = 0
        for _ in 0..<20000 {
            r.append(bytes("NOOP\r\n"))
            if case .line = r.next() { n += 1 }
        }
        #expect(n == 20000)
    }
}

@Suite struct BDATReceiverTests {
    @Test(arguments: [1, 2, 5, 100])
    func takesExactlySize(chunk: Int) {
        let input = bytes("0123456789BDAT 3 LAST\r\n")
        var r = BDATReceiver(size: 10)
        var data: [UInt8] = []
        var leftover: [UInt8] = []
        var i = 0
        var complete = false
        while i < input.count {
            let end = min(i + chunk, input.count)
            if complete {
                leftover += input[i..<end]
            } else {
                let out = r.feed(input[i..<end])
                data += out.data
                leftover += out.leftover
                complete = out.isComplete
            }
            i = end
        }
        #expect(text(data) == "0123456789")
        #expect(text(leftover) == "BDAT 3 LAST\r\n")
        #expect(r.isComplete)
        #expect(r.remaining == 0)
    }

    @Test func zeroSizeIsCompleteAtOnce() {
        var r = BDATReceiver(size: 0)
        #expect(r.isComplete)
        let out = r.feed(bytes("QUIT\r\n"))
        #expect(out.data.isEmpty)
        #expect(out.isComplete)
        #expect(text(Array(out.leftover)) == "QUIT\r\n")
    }

    @Test func chunkBytesAreNotInterpreted() {
        // RFC 3030 2: the chunk is binary; dots and CRLF have no meaning in it.
        var r = BDATReceiver(size: 7)
        let out = r.feed(bytes("\r\n.\r\n\r\rQUIT"))
        #expect(out.data == bytes("\r\n.\r\n\r\r")[...])
        #expect(out.leftover == bytes("QUIT")[...])
    }

    @Test func partialChunk() {
        var r = BDATReceiver(size: 10)
        let out = r.feed(bytes("abc"))
        #expect(!out.isComplete)
        #expect(r.remaining == 7)
        #expect(out.leftover.isEmpty)
    }
}
