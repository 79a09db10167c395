/// Content-Transfer-Encoding decoders (RFC 2045 6). Lenient: invalid input is skipped or kept,
/// never an error.
public enum TransferEncoding {
    /// Decodes the body bytes given the Content-Transfer-Encoding value (any case). Unknown
    /// encodings, 7bit, 8bit and binary return the bytes unchanged.
    public static func decode<C: Collection>(_ bytes: C, encoding: String) -> [UInt8] where C.Element == UInt8 {
        switch asciiLowercased(trimmedWhitespace(encoding)) {
        case "base64": return Self.decodeBase64(bytes)
        case "quoted-printable": return Self.decodeQuotedPrintable(bytes)
        default: return Array(bytes)
        }
    }

    @inline(__always)
    static func base64Value(_ b: UInt8) -> UInt8? {
        switch b {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"): return b - UInt8(ascii: "A")
        case UInt8(ascii: "a")...UInt8(ascii: "z"): return b - UInt8(ascii: "a") + 26
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return b - UInt8(ascii: "0") + 52
        case UInt8(ascii: "+"), UInt8(ascii: "-"): return 62
        case UInt8(ascii: "/"), UInt8(ascii: "_"): return 63
        default: return nil
        }
    }

    /// RFC 2045 6.8: characters outside the base64 alphabet are ignored; "=" ends a group.
    /// The URL-safe alphabet is accepted too. A trailing partial quantum yields its whole bytes.
    public static func decodeBase64<C: Collection>(_ bytes: C) -> [UInt8] where C.Element == UInt8 {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count / 4 * 3)
        var quad: (UInt8, UInt8, UInt8, UInt8) = (0, 0, 0, 0)
        var n = 0
        func flush() {
            if n >= 2 { out.append(quad.0 << 2 | quad.1 >> 4) }
            if n >= 3 { out.append(quad.1 << 4 | quad.2 >> 2) }
            if n == 4 { out.append(quad.2 << 6 | quad.3) }
            n = 0
        }
        for b in bytes {
            if b == UInt8(ascii: "=") {
                // Padding ends a group; another group may follow in concatenated encodings.
                flush()
                continue
            }
            guard let v = Self.base64Value(b) else { continue }
            switch n {
            case 0: quad.0 = v
            case 1: quad.1 = v
            case 2: quad.2 = v
            default: quad.3 = v
            }
            n += 1
            if n == 4 { flush() }
        }
        // A truncated final group still yields its complete bytes.
        flush()
        return out
    }

    @inline(__always)
    static func hexValue(_ b: UInt8) -> UInt8? {
        switch b {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return b - UInt8(ascii: "0")
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return b - UInt8(ascii: "A") + 10
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return b - UInt8(ascii: "a") + 10
        default: return nil
        }
    }

    /// RFC 2045 6.7: "=XX" is an octet, "=" at line end is a soft line break, trailing whitespace on
    /// a line is dropped (rule 3). Invalid "=" sequences are kept literally (the robust choice, 6.7 note).
    public static func decodeQuotedPrintable<C: Collection>(_ bytes: C) -> [UInt8] where C.Element == UInt8 {
        let b = Array(bytes)
        var out: [UInt8] = []
        out.reserveCapacity(b.count)
        var i = 0
        var pendingWS = 0  // count of whitespace bytes held back at out's end candidates
        while i < b.count {
            let c = b[i]
            if c == sp || c == tab {
                out.append(c)
                pendingWS += 1
                i += 1
                continue
            }
            if c == cr || c == lf {
                // Drop trailing whitespace before a hard line break.
                out.removeLast(pendingWS)
                pendingWS = 0
                out.append(c)
                i += 1
                continue
            }
            pendingWS = 0
            if c == UInt8(ascii: "=") {
                // Soft line break: "=" followed by optional whitespace and a line ending.
                var j = i + 1
                while j < b.count, b[j] == sp || b[j] == tab { j += 1 }
                if j == b.count {
                    i = j
                    continue
                }
                if b[j] == lf {
                    i = j + 1
                    continue
                }
                if b[j] == cr {
                    i = j + 1
                    if i < b.count, b[i] == lf { i += 1 }
                    continue
                }
                if i + 2 < b.count + 0, let h = Self.hexValue(b[i + 1]), let l = Self.hexValue(b[i + 2]) {
                    out.append(h << 4 | l)
                    i += 3
                    continue
                }
                out.append(c)
                i += 1
                continue
            }
            out.append(c)
            i += 1
        }
        out.removeLast(pendingWS)
        return out
    }
}
