/// Base64 as SASL profiles use it: the standard alphabet with padding, and strict decoding.
/// - SeeAlso: RFC 4648 4, RFC 4954 4, RFC 9051 6.2.2
public enum SASLBase64 {
    private static let alphabet: [UInt8] = Array(
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8
    )

    private static let values: [UInt8] = {
        var table = [UInt8](repeating: 0xff, count: 256)
        for (i, c) in alphabet.enumerated() {
            table[Int(c)] = UInt8(i)
        }
        return table
    }()

    /// Standard base64 with "=" padding.
    public static func encode(_ bytes: some Collection<UInt8>) -> String {
        String(decoding: self.encodeBytes(bytes), as: UTF8.self)
    }

    /// Standard base64 with "=" padding, as ASCII bytes.
    public static func encodeBytes(_ bytes: some Collection<UInt8>) -> [UInt8] {
        let input = Array(bytes)
        var out: [UInt8] = []
        out.reserveCapacity((input.count + 2) / 3 * 4)
        var i = 0
        while i + 3 <= input.count {
            let n = UInt32(input[i]) << 16 | UInt32(input[i + 1]) << 8 | UInt32(input[i + 2])
            out.append(self.alphabet[Int(n >> 18 & 63)])
            out.append(self.alphabet[Int(n >> 12 & 63)])
            out.append(self.alphabet[Int(n >> 6 & 63)])
            out.append(self.alphabet[Int(n & 63)])
            i += 3
        }
        let rest = input.count - i
        if rest == 1 {
            let n = UInt32(input[i]) << 16
            out.append(self.alphabet[Int(n >> 18 & 63)])
            out.append(self.alphabet[Int(n >> 12 & 63)])
            out.append(contentsOf: [UInt8(ascii: "="), UInt8(ascii: "=")])
        } else if rest == 2 {
            let n = UInt32(input[i]) << 16 | UInt32(input[i + 1]) << 8
            out.append(self.alphabet[Int(n >> 18 & 63)])
            out.append(self.alphabet[Int(n >> 12 & 63)])
            out.append(self.alphabet[Int(n >> 6 & 63)])
            out.append(UInt8(ascii: "="))
        }
        return out
    }

    /// Strict decoding: only the standard alphabet, length a multiple of 4, "=" padding only at the end,
    /// no whitespace, and zero bits after the last full byte (RFC 4648 3.5 lets decoders reject
    /// non-canonical encodings). Nil when any rule is broken.
    public static func decode(_ text: some Collection<UInt8>) -> [UInt8]? {
        let input = Array(text)
        guard input.count % 4 == 0 else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(input.count / 4 * 3)
        var i = 0
        while i < input.count {
            let last = i + 4 == input.count
            var n: UInt32 = 0
            var padding = 0
            for j in 0..<4 {
                let c = input[i + j]
                if c == UInt8(ascii: "=") {
                    // RFC 4648 3.2: padding only at the end, at most two characters, in positions 2 and 3.
                    guard last, j >= 2 else { return nil }
                    padding += 1
                    n <<= 6
                    continue
                }
                guard padding == 0 else { return nil }
                let v = self.values[Int(c)]
                guard v != 0xff else { return nil }
                n = n << 6 | UInt32(v)
            }
            out.append(UInt8(truncatingIfNeeded: n >> 16))
            if padding < 2 {
                out.append(UInt8(truncatingIfNeeded: n >> 8))
            } else if n & 0xffff != 0 {
                return nil
            }
            if padding < 1 {
                out.append(UInt8(truncatingIfNeeded: n))
            } else if n & 0xff != 0 {
                return nil
            }
            i += 4
        }
        return out
    }

    /// Strict decoding of a string.
    public static func decode(_ text: String) -> [UInt8]? {
        self.decode(Array(text.utf8))
    }

    /// Decodes one client response line of an AUTH/AUTHENTICATE exchange (without its CRLF).
    /// "*" cancels (RFC 4954 4, RFC 9051 6.2.2). For the initial response on the command line,
    /// "=" stands for an empty response (RFC 4954 4, RFC 4959 3); an empty continuation line is an
    /// empty response.
    public static func decodeClientResponse(_ line: some Collection<UInt8>, initial: Bool) throws(SASLError) -> [UInt8]
    {
        let bytes = Array(line)
        if bytes == [UInt8(ascii: "*")] {
            throw SASLError(.cancelled, "authentication cancelled by client")
        }
        if initial && bytes == [UInt8(ascii: "=")] {
            return []
        }
        guard bytes.count <= (SASLLimits.maximumMessageLength + 2) / 3 * 4 else {
            throw .malformed("response too long")
        }
        guard let decoded = self.decode(bytes) else {
            throw .malformed("invalid base64")
        }
        return decoded
    }
}
