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
        if let result = text.withContiguousStorageIfAvailable({ Self.decodeStrict(buffer: $0) }) { return result }
        return Array(text).withUnsafeBufferPointer { Self.decodeStrict(buffer: $0) }
    }

    static func decodeStrict(buffer text: UnsafeBufferPointer<UInt8>) -> [UInt8]? {
        var out: [UInt8] = []
        out.reserveCapacity(text.count * 3 / 4)
        // Four 6-bit values at a time in `quantum`; `count` of them so far.
        var quantum: UInt32 = 0
        var count = 0
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
                quantum = quantum << 6 | UInt32(v)
                count += 1
                if count == 4 {
                    out.append(UInt8(truncatingIfNeeded: quantum >> 16))
                    out.append(UInt8(truncatingIfNeeded: quantum >> 8))
                    out.append(UInt8(truncatingIfNeeded: quantum))
                    quantum = 0
                    count = 0
                }
            }
        }
        // A whole number of quanta: the last one short by exactly its padding.
        guard (count + padding) % 4 == 0, padding == 0 || count == 4 - padding else { return nil }
        switch count {
        case 2: out.append(UInt8(truncatingIfNeeded: quantum >> 4))
        case 3:
            out.append(UInt8(truncatingIfNeeded: quantum >> 10))
            out.append(UInt8(truncatingIfNeeded: quantum >> 2))
        default: break
        }
        return out
    }
}
