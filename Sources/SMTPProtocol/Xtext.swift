import MailAddress

/// xtext, the encoding of ENVID, ORCPT and the AUTH parameter of MAIL.
/// - SeeAlso: RFC 3461 4
public enum Xtext {
    public enum DecodeError: Error, Hashable, Sendable {
        /// A byte outside xchar (%d33-42 / %d44-60 / %d62-126), with its offset.
        case invalidCharacter(offset: Int)
        /// "+" not followed by two hexadecimal digits, with the offset of the "+".
        case invalidHexEscape(offset: Int)
        /// The decoded bytes are not UTF-8.
        case invalidUTF8
    }

    // RFC 3461 4: xtext = *( xchar / hexchar )
    //   xchar = any ASCII CHAR between "!" (33) and "~" (126) inclusive, except "+" and "=".
    //   hexchar = ASCII "+" immediately followed by two upper case hexadecimal digits
    // Lower-case hex digits are accepted as well. With `allowUTF8`, UTF-8 octets stand for
    // themselves, as RFC 6533 3 allows with SMTPUTF8 (its "\x{...}" escapes are not decoded).
    public static func decode<C: Collection>(_ text: C, allowUTF8: Bool = false) throws(DecodeError) -> String
    where C.Element == UInt8, C.Index == Int {
        var out: [UInt8] = []
        out.reserveCapacity(text.count)
        var i = text.startIndex
        while i < text.endIndex {
            let b = text[i]
            if b == UInt8(ascii: "+") {
                guard i + 2 < text.endIndex,
                    let hi = IPAddressText.hexValue(text[i + 1]),
                    let lo = IPAddressText.hexValue(text[i + 2])
                else { throw .invalidHexEscape(offset: i - text.startIndex) }
                out.append(hi << 4 | lo)
                i += 3
                continue
            }
            guard (b >= 33 && b <= 126 && b != UInt8(ascii: "=")) || (b >= 0x80 && allowUTF8) else {
                throw .invalidCharacter(offset: i - text.startIndex)
            }
            out.append(b)
            i += 1
        }
        guard let s = String(validating: out, as: UTF8.self) else { throw .invalidUTF8 }
        return s
    }

    /// Encodes a string as xtext: "+", "=" and bytes outside 33-126 become "+HH".
    public static func encode(_ text: String) -> String {
        let hex = Array("0123456789ABCDEF".utf8)
        var out: [UInt8] = []
        for b in text.utf8 {
            if b >= 33, b <= 126, b != UInt8(ascii: "+"), b != UInt8(ascii: "=") {
                out.append(b)
            } else {
                out.append(UInt8(ascii: "+"))
                out.append(hex[Int(b >> 4)])
                out.append(hex[Int(b & 0xF)])
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}
