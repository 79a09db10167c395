import MailMessage
import Testing

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Mutated fixtures must parse without trapping and quickly.
@Suite struct RobustnessTests {
    static func exercise(_ b: [UInt8]) {
        let m = Message(parsing: b)
        _ = m.envelope
        _ = m.bodyStructure
        _ = TextExtraction.text(of: m)
        func walk(_ p: Part) {
            _ = p.decodedText
            _ = p.disposition
            for c in p.parts { walk(c) }
            if let inner = p.message { walk(inner) }
        }
        walk(m.root)
    }

    static func mutate(_ b: [UInt8], _ rng: inout TestRandom) -> [UInt8] {
        var b = b
        switch rng.below(5) {
        case 0:
            b = Array(b.prefix(rng.below(b.count + 1)))
        case 1:
            for _ in 0..<(1 + rng.below(8)) where !b.isEmpty {
                b[rng.below(b.count)] = UInt8(truncatingIfNeeded: rng.next())
            }
        case 2:
            // Duplicate a line (often a boundary or header).
            let lines = b.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
            if !lines.isEmpty {
                let k = rng.below(lines.count)
                var out: [UInt8] = []
                for (i, l) in lines.enumerated() {
                    out += l + [UInt8(ascii: "\n")]
                    if i == k { for _ in 0..<(1 + rng.below(4)) { out += l + [UInt8(ascii: "\n")] } }
                }
                b = out
            }
        case 3:
            // Insert special bytes.
            let specials: [[UInt8]] = [
                Array("=?".utf8), Array("--".utf8), [0], [0xFF], Array("\r\n".utf8), Array("\"".utf8),
                Array("(".utf8), Array("<".utf8), Array("*0*=".utf8), Array(";".utf8),
            ]
            for _ in 0..<(1 + rng.below(6)) {
                let s = specials[rng.below(specials.count)]
                b.insert(contentsOf: s, at: rng.below(b.count + 1))
            }
        default:
            // Remove a range.
            if !b.isEmpty {
                let s = rng.below(b.count)
                let e = min(b.count, s + rng.below(64))
                b.removeSubrange(s..<e)
            }
        }
        return b
    }

    @Test(arguments: fixtureNames)
    func mutatedFixtures(name: String) {
        let original = fixture(name)
        var rng = TestRandom(state: UInt64(name.utf8.count) &* 0x9E37_79B9_7F4A_7C15 | 1)
        var start = timespec()
        clock_gettime(CLOCK_MONOTONIC, &start)
        for _ in 0..<300 {
            var b = original
            for _ in 0..<(1 + rng.below(3)) { b = Self.mutate(b, &rng) }
            Self.exercise(b)
        }
        var end = timespec()
        clock_gettime(CLOCK_MONOTONIC, &end)
        let seconds = Double(end.tv_sec - start.tv_sec) + Double(end.tv_nsec - start.tv_nsec) / 1e9
        #expect(seconds < 20)
    }

    @Test func randomBytes() {
        var rng = TestRandom(state: 42)
        for _ in 0..<300 {
            let n = rng.below(512)
            let alphabet = Array("-=?\r\n:;\"<>@()., abcxyzBQ".utf8)
            let b = (0..<n).map { _ in
                rng.below(4) == 0 ? UInt8(truncatingIfNeeded: rng.next()) : alphabet[rng.below(alphabet.count)]
            }
            Self.exercise(b)
            _ = AddressList.parse(String(decoding: b, as: UTF8.self))
            _ = MessageDate(parsing: String(decoding: b, as: UTF8.self))
            _ = EncodedWords.decode(String(decoding: b, as: UTF8.self))
        }
    }

    /// Many boundaries: parsing stays linear (a quadratic parser would take far longer).
    @Test func manyParts() {
        var text = "Content-Type: multipart/mixed; boundary=b\r\n\r\n"
        for i in 0..<5_000 { text += "--b\r\nContent-Type: text/plain\r\n\r\npart \(i)\r\n" }
        text += "--b--\r\n"
        let m = Message(parsing: bytes(text))
        #expect(m.root.parts.count == 5_000)
        #expect(m.root.parts[4_999].bodyBytes.string == "part 4999")
        var limits = MessageLimits()
        limits.maxParts = 100
        let limited = Message(parsing: bytes(text), limits: limits)
        #expect(limited.root.parts.count <= 100)
    }

    static func seconds(_ body: () -> Void) -> Double {
        var start = timespec()
        clock_gettime(CLOCK_MONOTONIC, &start)
        body()
        var end = timespec()
        clock_gettime(CLOCK_MONOTONIC, &end)
        return Double(end.tv_sec - start.tv_sec) + Double(end.tv_nsec - start.tv_nsec) / 1e9
    }

    static func pathological(_ name: String) -> String {
        switch name {
        case "unclosed-words":
            return "Subject: " + String(repeating: "=?utf-8?q?never-closed ", count: 20_000) + "\r\n\r\n"
        case "word-markers": return "Subject: " + String(repeating: "=?", count: 200_000) + "\r\n\r\n"
        case "parameters": return "Content-Type: text/plain" + (0..<20_000).map { "; p\($0)*0=v" }.joined() + "\r\n\r\n"
        case "addresses": return "To: " + String(repeating: "a@b.test,", count: 50_000) + "\r\n\r\n"
        case "angles": return "To: " + String(repeating: "<", count: 100_000) + "\r\n\r\n"
        case "comments": return "From: " + String(repeating: "(", count: 100_000) + "\r\n\r\n"
        case "entities": return "Content-Type: text/html\r\n\r\n" + String(repeating: "<a &amp &", count: 50_000)
        default: return "Content-Type: text/html\r\n\r\n" + String(repeating: "<script>", count: 50_000)
        }
    }

    /// Inputs that make naive parsers quadratic: each must stay within seconds even in a debug
    /// build (a quadratic implementation would take minutes).
    @Test(arguments: [
        "unclosed-words", "word-markers", "parameters", "addresses", "angles", "comments", "entities", "scripts",
    ])
    func pathologicalInputs(name: String) {
        let text = Self.pathological(name)
        let s = Self.seconds { Self.exercise(bytes(text)) }
        #expect(s < 5, "\(name) took \(s) s")
    }

    /// Every prefix of every fixture (a message cut off anywhere) parses, with offsets in bounds.
    @Test(arguments: fixtureNames)
    func everyPrefix(name: String) {
        let b = fixture(name)
        for n in 0...b.count {
            let prefix = Array(b[0..<n])
            let m = Message(parsing: prefix)
            func check(_ p: Part, _ range: Range<Int>) -> Bool {
                guard range.lowerBound <= p.headerStart, p.headerStart <= p.bodyStart, p.bodyStart <= p.end,
                    p.end <= range.upperBound
                else { return false }
                return p.parts.allSatisfy { check($0, p.bodyStart..<p.end) }
                    && (p.message.map { check($0, p.bodyStart..<p.end) } ?? true)
            }
            #expect(check(m.root, 0..<n), "prefix of \(n) bytes")
            _ = TextExtraction.text(of: m)
        }
    }
}
