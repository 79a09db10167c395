#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Reads a fixture file next to this source file.
func fixture(_ name: String, file: StaticString = #filePath) -> [UInt8] {
    let dir = String(describing: file).split(separator: "/", omittingEmptySubsequences: false).dropLast()
        .joined(separator: "/")
    let path = dir + "/Fixtures/" + name
    guard let f = fopen(path, "rb") else { return [] }
    defer { fclose(f) }
    var out: [UInt8] = []
    var buf = [UInt8](repeating: 0, count: 65536)
    while true {
        let n = fread(&buf, 1, buf.count, f)
        if n <= 0 { break }
        out.append(contentsOf: buf[0..<n])
    }
    return out
}

let fixtureNames = [
    "simple.eml", "nested.eml", "missing-close.eml", "eightbit-headers.eml", "truncated.eml",
    "base64-garbage.eml", "no-header.eml", "bare-lf.eml", "digest.eml", "dsn-postfix.eml", "dsn-exchange.eml",
]

extension ArraySlice where Element == UInt8 {
    var string: String { String(decoding: self, as: UTF8.self) }
}

func bytes(_ s: String) -> [UInt8] { Array(s.utf8) }

/// Deterministic pseudo-random numbers for the robustness test (xorshift64*).
struct TestRandom {
    var state: UInt64
    mutating func next() -> UInt64 {
        self.state ^= self.state >> 12
        self.state ^= self.state << 25
        self.state ^= self.state >> 27
        return self.state &* 2_685_821_657_736_338_717
    }
    mutating func below(_ n: Int) -> Int { n <= 0 ? 0 : Int(self.next() % UInt64(n)) }
}
