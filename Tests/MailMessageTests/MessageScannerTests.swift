import MailMessage
import Testing

/// The streaming parser must describe every message exactly as the in-memory parser does, however
/// the input is split: same part offsets, line counts, header fields, body structure, envelope and
/// search text.
@Suite struct MessageScannerTests {
    /// Messages that stress the boundary and header rules, beside the fixtures.
    static let tricky: [String] = [
        "",
        "\r",
        "\r\n",
        "Subject: only a header",
        "Subject: header\r\n",
        "Subject: x\r\n\r\n",
        "no header line\r\nbody\r\n",
        " folded start\r\nSubject: x\r\n\r\nbody",
        "Subject: a\r\n folded\r\n\tagain\r\nFrom: a@b\r\n\r\nbody\r\nmore",
        "Subject: bare lf\n\nbody\nlines\n",
        "Subject: cr\r\r\n\r\nbody",
        "Subject: x\r\nnot a field\r\nbody",
        "Content-Type: multipart/mixed; boundary=b\r\n\r\npre\r\n--b\r\n\r\none\r\n--b\r\nContent-Type: text/html\r\n\r\n<p>two</p>\r\n--b--\r\nepilogue\r\n",
        "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n\r\nno close\r\n",
        "Content-Type: multipart/mixed; boundary=b\r\n--b\r\n\r\nno blank line before the first delimiter\r\n--b--",
        "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n--b\r\n--b--\r\n",
        "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n--b--\r\n",
        "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: message/rfc822\r\n\r\n--b--\r\n",
        "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: message/rfc822\r\n\r\nSubject: inner\r\n\r\ninner body\r\n--b--\r\n",
        "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b \t \r\n\r\npadded\r\n--b--  \r\n",
        "Content-Type: multipart/mixed; boundary=b\r\n\r\n--bx\r\n\r\nnot a delimiter\r\n--b\r\n\r\nreal\r\n--b--",
        "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: multipart/alternative; boundary=b\r\n\r\n--b\r\n\r\nsame boundary\r\n--b--\r\n",
        "Content-Type: multipart/mixed; boundary=outer\r\n\r\n--outer\r\nContent-Type: multipart/alternative; boundary=inner\r\n\r\n--inner\r\n\r\nplain\r\n--inner\r\nContent-Type: text/html\r\n\r\n<b>html</b>\r\n--outer\r\n\r\nafter unclosed inner\r\n--outer--\r\n",
        "Content-Type: multipart/mixed; boundary=b\n\n--b\n\nbare lf parts\n--b\n\nsecond\n--b--\n",
        "Content-Type: multipart/mixed\r\n\r\nno boundary parameter\r\n",
        "Content-Type: multipart/mixed; boundary=b\r\n\r\nno delimiter at all\r\n",
        "Content-Type: multipart/digest; boundary=d\r\n\r\n--d\r\n\r\nSubject: digest default\r\n\r\nmsg\r\n--d--\r\n",
        "Content-Type: text/plain; charset=iso-8859-1\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\ncaf=E9 =\r\nsoft break\r\n",
        "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\naGVsbG8g\r\nd29ybGQ=\r\n",
        "Content-Type: text/plain\r\nContent-Disposition: attachment; filename=a.txt\r\n\r\nnot indexed\r\n",
        "Content-Type: message/rfc822\r\nContent-Transfer-Encoding: base64\r\n\r\nU3ViamVjdDogeA0KDQpi\r\n",
        "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n\r\nends in a bare cr\r",
        "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n\r\n\r\n\r\n--b--",
        "Content-Type: multipart/mixed; boundary=\"a b\"\r\n\r\n--a b\r\n\r\nquoted boundary\r\n--a b--\r\n",
        "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: multipart/mixed; boundary=c\r\n\r\n--c\r\nContent-Type: message/rfc822\r\n\r\nContent-Type: multipart/mixed; boundary=d\r\n\r\n--d\r\n\r\ndeep\r\n--b--\r\n",
    ]

    static func corpus() -> [[UInt8]] {
        fixtureNames.map { fixture($0) } + Self.tricky.map { Array($0.utf8) }
    }

    static func compare(_ a: Part, _ b: PartOutline, _ path: String, _ bytes: [UInt8]) {
        #expect(a.headerStart == b.headerStart, "\(path) headerStart")
        #expect(a.bodyStart == b.bodyStart, "\(path) bodyStart")
        #expect(a.end == b.end, "\(path) end")
        #expect(a.bodyLines == b.bodyLines, "\(path) bodyLines")
        #expect(a.contentType == b.contentType, "\(path) contentType")
        #expect(a.header.pairs.map(\.name) == b.header.pairs.map(\.name), "\(path) header names")
        #expect(a.header.pairs.map(\.value) == b.header.pairs.map(\.value), "\(path) header values")
        #expect(Array(a.headerBytes) == b.header.bytes, "\(path) header bytes")
        #expect(a.parts.count == b.parts.count, "\(path) parts")
        #expect(a.encapsulated.count == b.encapsulated.count, "\(path) encapsulated")
        for (i, (x, y)) in zip(a.parts, b.parts).enumerated() {
            Self.compare(x, y, "\(path).\(i + 1)", bytes)
        }
        if let x = a.message, let y = b.encapsulatedMessage {
            Self.compare(x, y, "\(path).msg", bytes)
        }
    }

    static func check(_ bytes: [UInt8], chunks: [Int]) {
        let message = Message(parsing: bytes)
        var scanner = MessageScanner()
        var i = 0
        var k = 0
        while i < bytes.count {
            let n = max(1, chunks[k % chunks.count])
            scanner.feed(bytes[i..<min(bytes.count, i + n)])
            i += n
            k += 1
        }
        let scanned = scanner.finish()
        let label = String(decoding: bytes.prefix(60), as: UTF8.self)
        #expect(scanned.size == bytes.count)
        #expect(scanned.bodyStructure == message.bodyStructure, "\(label)")
        #expect(scanned.envelope == message.envelope, "\(label)")
        let expectedText = TextExtraction.text(of: message)
        #expect(scanned.text == expectedText, "\(label)")
        #expect(!scanned.textTruncated)
        Self.compare(message.root, scanned.root, label, bytes)
    }

    @Test(arguments: [[1 << 20], [1], [2], [3], [7], [64], [5, 1, 13, 2, 89]])
    func sameAsTheInMemoryParser(chunks: [Int]) {
        for bytes in Self.corpus() {
            Self.check(bytes, chunks: chunks)
        }
    }

    /// Mutated corpus messages (cut, bytes changed, lines doubled), split at random places.
    @Test func sameOnMutatedMessages() {
        var rng = TestRandom(state: 0x5eed_1234_abcd)
        let corpus = Self.corpus().filter { !$0.isEmpty }
        for round in 0..<4000 {
            var b = corpus[round % corpus.count]
            for _ in 0..<(1 + rng.below(3)) {
                switch rng.below(4) {
                case 0:
                    b = Array(b.prefix(rng.below(b.count + 1)))
                case 1 where !b.isEmpty:
                    let specials: [UInt8] = Array("\r\n-: \tb=".utf8)
                    b[rng.below(b.count)] = specials[rng.below(specials.count)]
                case 2 where !b.isEmpty:
                    let at = rng.below(b.count)
                    let lineEnd = b[at...].firstIndex(of: UInt8(ascii: "\n")) ?? b.count - 1
                    b.insert(contentsOf: b[at...lineEnd], at: at)
                default:
                    b.insert(contentsOf: Array("\r\n--b\r\n".utf8), at: rng.below(b.count + 1))
                }
            }
            Self.check(b, chunks: [1 + rng.below(40), 1 + rng.below(3), 1 + rng.below(500)])
            Self.check(b, chunks: [1 << 20])
        }
    }

    @Test func textIsCutAtTheLimitAndFlagsAreSet() {
        let body = String(repeating: "word ", count: 1000)
        let bytes = Array("Subject: big\r\n\r\n\(body)\u{e9}\0".utf8)
        var scanner = MessageScanner(limits: MessageScanner.Limits(maxTextBytes: 100))
        scanner.feed(bytes)
        let scanned = scanner.finish()
        #expect(scanned.textTruncated)
        #expect(scanned.text.utf8.count == 100)
        #expect(scanned.has8bit)
        #expect(scanned.hasNUL)
        #expect(scanned.root.bodySize == bytes.count - 16)
    }

    /// Memory use does not follow the message: a long header is cut at its limit, and a body
    /// without line endings is not kept.
    @Test func longHeaderIsCutAndLongLinesAreNotKept() {
        var scanner = MessageScanner(limits: MessageScanner.Limits(maxHeaderBytes: 1000))
        scanner.feed(Array("Subject: x\r\n".utf8))
        for _ in 0..<100 {
            scanner.feed(Array("X-Filler: \(String(repeating: "y", count: 80))\r\n".utf8))
        }
        scanner.feed(Array("\r\n".utf8))
        let chunk = [UInt8](repeating: UInt8(ascii: "z"), count: 1 << 16)
        for _ in 0..<64 { scanner.feed(chunk) }
        let scanned = scanner.finish()
        #expect(scanned.header.bytes.count <= 1000)
        #expect(scanned.header.first("subject") == "x")
        #expect(scanned.size == 12 + 100 * 92 + 2 + 64 * 65536)
    }
}
