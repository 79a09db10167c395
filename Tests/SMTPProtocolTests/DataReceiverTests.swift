import SMTPProtocol
import Testing

/// What a DataReceiver produced for a whole input.
struct DataResult: Equatable, CustomStringConvertible {
    var data: String
    var outcome: DataReceiver.Outcome?
    var leftover: String

    var description: String {
        "data=\(self.data.debugDescription) outcome=\(String(describing: self.outcome)) leftover=\(self.leftover.debugDescription)"
    }
}

/// Feeds `input` in pieces of `chunk` bytes (0: all at once) and collects the results.
func receive(_ input: [UInt8], chunk: Int, maxSize: Int? = nil, rejectAllBareLF: Bool = false) -> DataResult {
    var r = DataReceiver(maxSize: maxSize, rejectAllBareLF: rejectAllBareLF)
    var data: [UInt8] = []
    var leftover: [UInt8] = []
    let step = chunk == 0 ? max(input.count, 1) : chunk
    var i = 0
    repeat {
        let end = min(i + step, input.count)
        let out = r.feed(input[i..<end])
        data += out.data
        leftover += out.leftover
        i = end
    } while i < input.count
    return DataResult(data: text(data), outcome: r.outcome, leftover: text(leftover))
}

@Suite struct DataReceiverTests {
    /// Input, message bytes, outcome (nil: not complete), leftover.
    static let cases: [(String, String, DataReceiver.Outcome?, String)] = [
        // RFC 5321 4.1.1.4: the end marker; the CRLF before the dot is part of the message.
        ("Subject: a\r\n\r\nbody\r\n.\r\n", "Subject: a\r\n\r\nbody\r\n", .complete(size: 20), ""),
        // An empty message: the end marker right away.
        (".\r\n", "", .complete(size: 0), ""),
        ("\r\n.\r\n", "\r\n", .complete(size: 2), ""),
        // RFC 5321 4.5.2: dot-stuffing removed at line starts only.
        ("..a\r\n.b\r\na.b\r\n...\r\n.\r\n", ".a\r\nb\r\na.b\r\n..\r\n", .complete(size: 16), ""),
        ("..\r\n.\r\n", ".\r\n", .complete(size: 3), ""),
        // Pipelined commands after the end marker are returned.
        ("x\r\n.\r\nMAIL FROM:<a@b>\r\nRCPT", "x\r\n", .complete(size: 3), "MAIL FROM:<a@b>\r\nRCPT"),
        ("x\r\n.\r\n.\r\n", "x\r\n", .complete(size: 3), ".\r\n"),
        // Not complete yet.
        ("x\r\n.", "x\r\n", nil, ""),
        ("x\r\n.\r", "x\r\n", nil, ""),
        ("x\r\n", "x\r\n", nil, ""),
        // SMTP smuggling (RFC 5321 2.3.8): none of these end the data; the real end marker
        // does, and the message is then rejected.
        ("a\n.\nb\r\n.\r\n", "a\n.\nb\r\n", .badLineEndings, ""),
        ("a\r.\rb\r\n.\r\n", "a\r.\rb\r\n", .badLineEndings, ""),
        ("a\n.\r\nMAIL FROM:<x@y>\r\n.\r\n", "a\n.\r\nMAIL FROM:<x@y>\r\n", .badLineEndings, ""),
        ("a\r\n.\nMAIL FROM:<x@y>\r\n.\r\n", "a\r\n\nMAIL FROM:<x@y>\r\n", .badLineEndings, ""),
        ("a\r\n.\rb\r\n.\r\n", "a\r\n\rb\r\n", .badLineEndings, ""),
        // A bare CR anywhere.
        ("a\rb\r\n.\r\n", "a\rb\r\n", .badLineEndings, ""),
        ("a\r\r\n.\r\n", "a\r\r\n", .badLineEndings, ""),
        ("\r.\r\n.\r\n", "\r.\r\n", .badLineEndings, ""),
        // Bare LF away from dots is accepted as data, like mox.
        ("a\nb\r\n.\r\n", "a\nb\r\n", .complete(size: 5), ""),
        ("a\n\r\n.\r\n", "a\n\r\n", .complete(size: 4), ""),
        ("a\n.b\r\n.\r\n", "a\n.b\r\n", .complete(size: 6), ""),
        // After a rejected message the next transaction proceeds normally.
        ("a\n.\nb\r\n.\r\nQUIT\r\n", "a\n.\nb\r\n", .badLineEndings, "QUIT\r\n"),
        // "\n.\n" followed by ".\r\n" is not an end marker either: the LF before the dot was bare.
        ("a\n.\n.\r\nQUIT\r\n", "a\n.\n.\r\nQUIT\r\n", nil, ""),
    ]

    @Test(arguments: Self.cases)
    func receives(input: String, data: String, outcome: DataReceiver.Outcome?, leftover: String) {
        let expected = DataResult(data: data, outcome: outcome, leftover: leftover)
        // Whole, byte by byte, and in odd pieces: always the same result.
        for chunk in [0, 1, 2, 3, 5] {
            #expect(receive(bytes(input), chunk: chunk) == expected, "chunk \(chunk): \(input.debugDescription)")
        }
    }

    @Test(arguments: [
        ("a\nb\r\n.\r\n", DataReceiver.Outcome.badLineEndings),
        ("a\r\nb\r\n.\r\n", DataReceiver.Outcome.complete(size: 6)),
    ])
    func strictBareLF(input: String, outcome: DataReceiver.Outcome) {
        #expect(receive(bytes(input), chunk: 1, rejectAllBareLF: true).outcome == outcome)
    }

    @Test func flagsAreReported() {
        var r = DataReceiver()
        _ = r.feed(bytes("a\nb\r\nc\rd\r\n.\r\n"))
        #expect(r.sawBareLF)
        #expect(r.sawBareCR)
        #expect(!r.sawBareLFAroundDot)
        #expect(r.outcome == .badLineEndings)
        #expect(r.outcome?.rejection == .bareLineEnding)
        #expect(SMTPReply.bareLineEnding.code == 500)
        #expect(SMTPReply.bareLineEnding.enhanced?.description == "5.5.2")
    }

    @Test func sizeLimit() {
        // Exactly at the limit is fine.
        #expect(receive(bytes("12345\r\n.\r\n"), chunk: 0, maxSize: 7).outcome == .complete(size: 7))
        // Beyond it: output stops at the limit, the end is still found, leftover is kept.
        for chunk in [0, 1, 4] {
            let r = receive(bytes("1234567\r\n..\r\n.\r\nQUIT\r\n"), chunk: chunk, maxSize: 7)
            #expect(r.outcome == .tooLarge(size: 12))
            #expect(r.data == "1234567")
            #expect(r.leftover == "QUIT\r\n")
        }
        #expect(DataReceiver.Outcome.tooLarge(size: 1).rejection?.code == 552)
        #expect(DataReceiver.Outcome.tooLarge(size: 1).rejection?.enhanced?.description == "5.3.4")
        #expect(DataReceiver.Outcome.complete(size: 1).rejection == nil)
    }

    @Test func feedingAfterCompletionReturnsLeftover() {
        var r = DataReceiver()
        let first = r.feed(bytes(".\r\n"))
        #expect(first.isComplete)
        let second = r.feed(bytes("NOOP\r\n"))
        #expect(second.isComplete)
        #expect(second.data.isEmpty)
        #expect(text(Array(second.leftover)) == "NOOP\r\n")
        #expect(r.outcome == .complete(size: 0))
    }

    /// Random inputs from a small alphabet: any split gives the same result as feeding it whole,
    /// and un-stuffing a stuffed message gives it back.
    @Test func randomSplitsAgree() {
        var seed: UInt64 = 42
        func next() -> Int {
            seed = seed &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int(seed >> 33)
        }
        let alphabet: [String] = ["\r", "\n", ".", "a", "\r\n", "\r\n.", "\r\n.\r\n"]
        for _ in 0..<500 {
            var input: [UInt8] = []
            for _ in 0..<(next() % 30) {
                input += bytes(alphabet[next() % alphabet.count])
            }
            input += bytes("\r\n.\r\nNEXT")
            let whole = receive(input, chunk: 0)
            let chunk = 1 + next() % 7
            #expect(receive(input, chunk: chunk) == whole, "\(text(input).debugDescription) chunk \(chunk)")
            #expect(whole.outcome != nil)
        }
    }

    @Test func stuffedMessageRoundTrips() {
        // A sender's dot-stuffing (RFC 5321 4.5.2), applied to a CRLF-only message.
        let message = "line\r\n.starts with dot\r\n..two\r\n.\r\nend\r\n"
        var stuffed = ""
        for line in message.split(separator: "\r\n", omittingEmptySubsequences: false).dropLast() {
            stuffed += (line.hasPrefix(".") ? "." : "") + line + "\r\n"
        }
        stuffed += ".\r\n"
        let r = receive(bytes(stuffed), chunk: 3)
        #expect(r.data == message)
        #expect(r.outcome == .complete(size: message.utf8.count))
    }

    @Test func largeInputIsLinear() {
        var input: [UInt8] = []
        for _ in 0..<50000 {
            input += bytes("..0123456789 abcdefghij\r\n")
        }
        input += bytes(".\r\n")
        var r = DataReceiver()
        let out = r.feed(input)
        #expect(out.isComplete)
        #expect(out.data.count == 50000 * 24)
    }
}
