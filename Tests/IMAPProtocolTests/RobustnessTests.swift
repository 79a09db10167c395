import IMAPProtocol
import Testing

/// Mutated and random input must never trap, and framing must not depend on how input is split.
/// A stand-in until the fuzzers in Fuzz/ cover this module.
@Suite struct RobustnessTests {
    /// xorshift64*: deterministic, so failures reproduce.
    struct Rng {
        var state: UInt64
        mutating func next() -> UInt64 {
            self.state ^= self.state >> 12
            self.state ^= self.state << 25
            self.state ^= self.state >> 27
            return self.state &* 2_685_821_657_736_338_717
        }
        mutating func below(_ n: Int) -> Int { Int(self.next() % UInt64(n)) }
    }

    static let seeds: [String] = [
        "a LOGIN {4}\r\nuser {5+}\r\np ass",
        "a APPEND x (\\Seen) \" 5-Jul-2024 02:44:25 +0130\" {1+}\r\na ~{2+}\r\nb\0",
        "a UID SEARCH RETURN (MIN COUNT) CHARSET utf-8 OR (SEEN 1:3) UID 5:* HEADER x {2}\r\nyz",
        "a FETCH 1:* (BODY.PEEK[1.2.HEADER.FIELDS (From To)]<0.100> BINARY[1] MODSEQ) (CHANGEDSINCE 5)",
        "a LIST (SUBSCRIBED) \"\" (INBOX %) RETURN (STATUS (MESSAGES))",
        "a SELECT &ZeVnLIqe- (QRESYNC (1 2 1:5 (1:2 3:4)))",
        "a STORE 1,3:* (UNCHANGEDSINCE 1) +FLAGS.SILENT (\\Deleted $x)",
        "a ID (\"name\" \"x\" \"v\" NIL)",
    ]

    static let specials: [UInt8] = Array("(){}[]<>\"\\*%$~+-.: 0123456789\r\n\0".utf8) + [0x80, 0xff]

    func events(_ input: [UInt8], chunk: Int) -> [String] {
        var r = IMAPFrameReader(limits: IMAPLimits(maxLineLength: 200, maxLiteralSize: 50))
        var out: [String] = []
        var i = 0
        while i < input.count {
            let end = min(i + chunk, input.count)
            r.append(input[i..<end])
            i = end
            loop: while true {
                switch r.next() {
                case .frame(let f):
                    switch Result(catching: { () throws(IMAPParseError) in try IMAPCommandParser.parse(f) }) {
                    case .success(let c): out.append("ok \(c)")
                    case .failure(let e): out.append("bad \(e)")
                    }
                case .sendContinuation: out.append("+")
                case .literalStart(let size): out.append("stream \(size)")
                case .literalData(let piece): out.append("data \(piece.count)")
                case .needMoreData: break loop
                case .error(let e):
                    out.append("error \(e)")
                    if e.isFatal { return out }
                }
            }
        }
        return out
    }

    @Test(arguments: 0..<8)
    func mutatedCommands(round: Int) {
        var rng = Rng(state: 0x9E37_79B9_7F4A_7C15 &+ UInt64(round))
        for _ in 0..<300 {
            var input = Array(Self.seeds[rng.below(Self.seeds.count)].utf8)
            for _ in 0..<(1 + rng.below(4)) {
                let at = rng.below(input.count + 1)
                switch rng.below(3) {
                case 0: input.insert(Self.specials[rng.below(Self.specials.count)], at: at)
                case 1: if at < input.count { input.remove(at: at) }
                default: if at < input.count { input[at] = UInt8(truncatingIfNeeded: rng.next()) }
                }
            }
            input += Array("\r\nz NOOP\r\n".utf8)
            let whole = self.events(input, chunk: input.count)
            #expect(self.events(input, chunk: 1) == whole)
            #expect(self.events(input, chunk: 1 + rng.below(9)) == whole)
        }
    }

    @Test func randomBytes() {
        var rng = Rng(state: 42)
        for _ in 0..<500 {
            let input = (0..<rng.below(200)).map { _ in Self.specials[rng.below(Self.specials.count)] }
            let whole = self.events(input, chunk: max(1, input.count))
            #expect(self.events(input, chunk: 3) == whole)
        }
    }
}
