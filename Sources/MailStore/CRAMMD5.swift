#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// MD5 with its chaining state exposed, which swift-crypto does not offer. CRAM-MD5 needs it: the
/// store keeps the states after the HMAC key's inner and outer pad blocks, and never the password.
/// MD5 is used here for CRAM-MD5 only.
/// - SeeAlso: RFC 1321 3.4, RFC 2104 2, RFC 2195 2
struct MD5State: Hashable, Sendable {
    var words: (UInt32, UInt32, UInt32, UInt32)

    static let initial = MD5State(words: (0x6745_2301, 0xefcd_ab89, 0x98ba_dcfe, 0x1032_5476))

    // RFC 1321 3.4: T[i] is the integer part of 4294967296 * abs(sin(i)), i in radians, for i = 1...64.
    private static let table: [UInt32] = (1...64).map {
        UInt32(truncatingIfNeeded: Int64(abs(sin(Double($0))) * 4_294_967_296))
    }
    private static let shifts: [UInt32] = [7, 12, 17, 22, 5, 9, 14, 20, 4, 11, 16, 23, 6, 10, 15, 21]

    static func == (lhs: MD5State, rhs: MD5State) -> Bool { lhs.bytes == rhs.bytes }
    func hash(into hasher: inout Hasher) { hasher.combine(self.bytes) }

    init(words: (UInt32, UInt32, UInt32, UInt32)) {
        self.words = words
    }

    /// The state from its 16 stored bytes, or nil when there are not 16.
    init?(bytes: [UInt8]) {
        guard bytes.count == 16 else { return nil }
        func word(_ i: Int) -> UInt32 {
            UInt32(bytes[i]) | UInt32(bytes[i + 1]) << 8 | UInt32(bytes[i + 2]) << 16 | UInt32(bytes[i + 3]) << 24
        }
        self.words = (word(0), word(4), word(8), word(12))
    }

    /// The state as 16 little-endian bytes; after the last block this is the digest.
    var bytes: [UInt8] {
        var out: [UInt8] = []
        for word in [self.words.0, self.words.1, self.words.2, self.words.3] {
            out.append(contentsOf: [0, 8, 16, 24].map { UInt8(truncatingIfNeeded: word >> $0) })
        }
        return out
    }

    /// Processes one 64-byte block.
    mutating func compress(_ block: ArraySlice<UInt8>) {
        var m = [UInt32](repeating: 0, count: 16)
        let start = block.startIndex
        for i in 0..<16 {
            let o = start + i * 4
            m[i] =
                UInt32(block[o]) | UInt32(block[o + 1]) << 8 | UInt32(block[o + 2]) << 16 | UInt32(block[o + 3]) << 24
        }
        var (a, b, c, d) = self.words
        for i in 0..<64 {
            var f: UInt32
            let g: Int
            switch i / 16 {
            case 0:
                f = (b & c) | (~b & d)
                g = i
            case 1:
                f = (d & b) | (~d & c)
                g = (5 * i + 1) % 16
            case 2:
                f = b ^ c ^ d
                g = (3 * i + 5) % 16
            default:
                f = c ^ (b | ~d)
                g = (7 * i) % 16
            }
            f = f &+ a &+ Self.table[i] &+ m[g]
            a = d
            d = c
            c = b
            let s = Self.shifts[(i / 16) * 4 + i % 4]
            b = b &+ ((f << s) | (f >> (32 - s)))
        }
        self.words = (self.words.0 &+ a, self.words.1 &+ b, self.words.2 &+ c, self.words.3 &+ d)
    }

    /// Finishes the hash over `rest`, given that `prefixLength` bytes (whole blocks) went into this
    /// state already, and returns the digest.
    func finish(_ rest: [UInt8], prefixLength: Int) -> [UInt8] {
        var state = self
        var data = rest
        let bitLength = UInt64(prefixLength + rest.count) &* 8
        data.append(0x80)
        while data.count % 64 != 56 {
            data.append(0)
        }
        data.append(contentsOf: (0..<8).map { UInt8(truncatingIfNeeded: bitLength >> (8 * UInt64($0))) })
        var offset = 0
        while offset < data.count {
            state.compress(data[offset..<(offset + 64)])
            offset += 64
        }
        return state.bytes
    }

    static func digest(_ data: [UInt8]) -> [UInt8] {
        Self.initial.finish(data, prefixLength: 0)
    }
}

/// What the store keeps for CRAM-MD5: the MD5 states after HMAC-MD5's inner and outer key blocks.
/// They stand in for the password for CRAM-MD5 only, which is why they are kept only when enabled.
/// - SeeAlso: RFC 2195 2, RFC 2104 2
struct CRAMMD5Secret: Hashable, Sendable {
    var inner: MD5State
    var outer: MD5State

    init(inner: MD5State, outer: MD5State) {
        self.inner = inner
        self.outer = outer
    }

    init(password: [UInt8]) {
        var key = password.count > 64 ? MD5State.digest(password) : password
        key.append(contentsOf: [UInt8](repeating: 0, count: 64 - key.count))
        var inner = MD5State.initial
        inner.compress(ArraySlice(key.map { $0 ^ 0x36 }))
        var outer = MD5State.initial
        outer.compress(ArraySlice(key.map { $0 ^ 0x5c }))
        self.inner = inner
        self.outer = outer
    }

    /// HMAC-MD5(password, challenge), computed from the stored states.
    func hmac(_ challenge: [UInt8]) -> [UInt8] {
        let innerDigest = self.inner.finish(challenge, prefixLength: 64)
        return self.outer.finish(innerDigest, prefixLength: 64)
    }
}
