/// Base64 (RFC 4648 4) for protocols that need it exact: DKIM's b=, bh= and p= tags, SASL.
public enum Base64 {
    /// The standard alphabet with padding, on one line.
    public static func encode(_ bytes: some Collection<UInt8>) -> String {
        String(decoding: BodyEncoder.base64Bytes(Array(bytes), lineLength: 0), as: UTF8.self)
    }

    /// Decodes the standard alphabet. Whitespace (space, tab, CR, LF) is skipped, as folding
    /// leaves it in header values; anything else outside the alphabet, misplaced padding or a
    /// length that is not a whole number of quanta gives nil.
    public static func decodeStrict(_ text: some Collection<UInt8>) -> [UInt8]? {
        var values: [UInt8] = []
        values.reserveCapacity(text.count)
        var padding = 0
        for b in text {
            switch b {
            case UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\r"), UInt8(ascii: "\n"):
                continue
            case UInt8(ascii: "="):
                padding += 1
                guard padding <= 2 else { return nil }
            case UInt8(ascii: "-"), UInt8(ascii: "_"):
                return nil
            default:
                guard padding == 0, let v = TransferEncoding.base64Value(b) else { return nil }
                values.append(v)
            }
        }
        guard (values.count + padding) % 4 == 0, padding == 0 || values.count % 4 == 4 - padding else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(values.count * 3 / 4)
        var i = 0
        while i + 4 <= values.count {
            out += [values[i] << 2 | values[i + 1] >> 4, values[i + 1] << 4 | values[i + 2] >> 2, values[i + 2] << 6 | values[i + 3]]
            i += 4
        }
        switch values.count - i {
        case 2: out.append(values[i] << 2 | values[i + 1] >> 4)
        case 3: out += [values[i] << 2 | values[i + 1] >> 4, values[i + 1] << 4 | values[i + 2] >> 2]
        default: break
        }
        return out
    }
}
