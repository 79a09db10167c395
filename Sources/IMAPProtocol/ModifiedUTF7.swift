/// Mailbox names in modified UTF-7, as IMAP clients without UTF8=ACCEPT send them.
/// - SeeAlso: RFC 3501 5.1.3, RFC 9051 5.1 (IMAP4rev2 servers still accept it from old clients).
public enum ModifiedUTF7 {
    /// Why a name is not valid modified UTF-7.
    public enum DecodeError: Error, Hashable, Sendable {
        /// A byte outside printable US-ASCII (0x20-0x7e).
        case invalidByte(UInt8)
        /// An "&" without its closing "-".
        case unterminatedShift
        /// A character in a shifted section that is not in the modified base64 alphabet.
        case invalidBase64(UInt8)
        /// The base64 bits do not end on a UTF-16 code unit, or leftover bits are not zero.
        case badPadding
        /// A shifted section encodes a printable ASCII character, which must be sent as itself.
        case needlessEncoding
        /// Two shifted sections follow each other directly; RFC 3501 5.1.3 wants one.
        case adjacentShifts
        /// A UTF-16 surrogate without its pair.
        case invalidUTF16
    }

    // RFC 3501 5.1.3: modified base64 is RFC 2045 base64 with "," instead of "/", and no padding.
    private static let alphabet: [UInt8] = Array(
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,".utf8
    )

    private static func value(of b: UInt8) -> UInt8? {
        switch b {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"): return b - UInt8(ascii: "A")
        case UInt8(ascii: "a")...UInt8(ascii: "z"): return b - UInt8(ascii: "a") + 26
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return b - UInt8(ascii: "0") + 52
        case UInt8(ascii: "+"): return 62
        case UInt8(ascii: ","): return 63
        default: return nil
        }
    }

    /// Encodes a mailbox name. Printable ASCII stays itself ("&" becomes "&-"); runs of other
    /// characters become "&" modified-base64(UTF-16BE) "-".
    public static func encode(_ name: String) -> String {
        var out: [UInt8] = []
        var pending: [UInt16] = []
        func flush() {
            guard !pending.isEmpty else { return }
            out.append(UInt8(ascii: "&"))
            var bytes: [UInt8] = []
            for u in pending {
                bytes.append(UInt8(u >> 8))
                bytes.append(UInt8(u & 0xff))
            }
            var i = 0
            while i < bytes.count {
                let b0 = bytes[i]
                let b1: UInt8 = i + 1 < bytes.count ? bytes[i + 1] : 0
                let b2: UInt8 = i + 2 < bytes.count ? bytes[i + 2] : 0
                let n = min(3, bytes.count - i)
                out.append(alphabet[Int(b0 >> 2)])
                out.append(alphabet[Int((b0 & 0x03) << 4 | b1 >> 4)])
                if n > 1 { out.append(alphabet[Int((b1 & 0x0f) << 2 | b2 >> 6)]) }
                if n > 2 { out.append(alphabet[Int(b2 & 0x3f)]) }
                i += 3
            }
            out.append(UInt8(ascii: "-"))
            pending.removeAll()
        }
        for scalar in name.unicodeScalars {
            if scalar.value >= 0x20 && scalar.value <= 0x7e {
                flush()
                out.append(UInt8(scalar.value))
                if scalar == "&" { out.append(UInt8(ascii: "-")) }
            } else {
                pending.append(contentsOf: String(Character(scalar)).utf16)
            }
        }
        flush()
        return String(decoding: out, as: UTF8.self)
    }

    /// Decodes a mailbox name, strictly: anything an encoder would not have produced is an error.
    public static func decode(_ encoded: String) throws(DecodeError) -> String {
        try Self.decode(Array(encoded.utf8))
    }

    public static func decode(_ bytes: [UInt8]) throws(DecodeError) -> String {
        var out = String.UnicodeScalarView()
        var i = 0
        var lastShiftEnd = -1
        while i < bytes.count {
            let b = bytes[i]
            guard b >= 0x20 && b <= 0x7e else { throw .invalidByte(b) }
            if b != UInt8(ascii: "&") {
                out.append(Unicode.Scalar(b))
                i += 1
                continue
            }
            guard let dash = bytes[(i + 1)...].firstIndex(of: UInt8(ascii: "-")) else {
                throw .unterminatedShift
            }
            if dash == i + 1 {
                out.append("&")
                i = dash + 1
                continue
            }
            if lastShiftEnd == i { throw .adjacentShifts }
            // Collect the bits, 6 per character, into 16-bit code units.
            var units: [UInt16] = []
            var acc: UInt32 = 0
            var nbits = 0
            for c in bytes[(i + 1)..<dash] {
                guard let v = value(of: c) else { throw .invalidBase64(c) }
                acc = acc << 6 | UInt32(v)
                nbits += 6
                if nbits >= 16 {
                    nbits -= 16
                    units.append(UInt16(truncatingIfNeeded: acc >> UInt32(nbits)))
                    acc &= (1 << UInt32(nbits)) - 1
                }
            }
            // RFC 2045 6.8 style: fewer than 6 leftover bits, all zero.
            guard nbits < 6, acc == 0 else { throw .badPadding }
            var it = units.makeIterator()
            var decoder = UTF16()
            loop: while true {
                switch decoder.decode(&it) {
                case .scalarValue(let s):
                    if s.value >= 0x20 && s.value <= 0x7e { throw .needlessEncoding }
                    out.append(s)
                case .emptyInput: break loop
                case .error: throw .invalidUTF16
                }
            }
            i = dash + 1
            lastShiftEnd = i
        }
        return String(out)
    }
}
