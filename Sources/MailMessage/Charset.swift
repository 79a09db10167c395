#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Decoding of text in a named charset to a Swift string. Never fails: unknown charsets and
/// invalid sequences give U+FFFD replacement characters.
public enum Charset {
    /// Charset names normalized: lower case, with common aliases folded.
    static func normalize(_ name: String) -> String {
        var n = asciiLowercased(trimmedWhitespace(name))
        if n.hasPrefix("\"") && n.hasSuffix("\"") && n.count >= 2 {
            n = String(n.dropFirst().dropLast())
        }
        switch n {
        case "utf8", "utf-8", "unicode-1-1-utf-8": return "utf-8"
        case "us-ascii", "ascii", "ansi_x3.4-1968", "iso646-us", "us", "": return "us-ascii"
        case "iso-8859-1", "iso8859-1", "latin1", "latin-1", "l1", "iso_8859-1", "cp819": return "iso-8859-1"
        // Labels mail software uses that iconv spells differently. GB2312 and EUC-KR data is often
        // really GBK and CP949 (supersets), so the wider ones are used.
        case "ks_c_5601-1987", "ks_c_5601", "euc-kr", "x-windows-949": return "cp949"
        case "gb2312", "x-gbk", "gb_2312-80", "euc-cn": return "gbk"
        case "iso-8859-8-i", "iso-8859-8-e": return "iso-8859-8"
        case "iso-8859-6-i", "iso-8859-6-e": return "iso-8859-6"
        case "x-sjis", "shift-jis", "ms_kanji", "csshiftjis": return "shift_jis"
        case "x-mac-roman", "mac", "macintosh", "x-mac": return "macintosh"
        case "windows-874", "x-windows-874", "tis-620": return "cp874"
        case "x-euc-jp": return "euc-jp"
        case "x-x-big5": return "big5"
        default: return n
        }
    }

    /// Decodes `bytes` from `charset`.
    public static func decode<C: Collection>(_ bytes: C, charset: String) -> String where C.Element == UInt8 {
        switch Self.normalize(charset) {
        case "utf-8":
            return String(decoding: bytes, as: UTF8.self)
        case "us-ascii":
            // 8-bit bytes in "us-ascii" text are common; they are nearly always UTF-8 or Latin-1.
            return headerString(bytes)
        case "iso-8859-1":
            var s = ""
            for b in bytes { s.unicodeScalars.append(Unicode.Scalar(b)) }
            return s
        case let other:
            if let s = Self.iconvDecode(Array(bytes), from: other) {
                return s
            }
            // Unknown charset: keep what is readable.
            return String(decoding: bytes, as: UTF8.self)
        }
    }

    /// Whether iconv (or the built-in decoders) knows this charset.
    public static func isKnown(_ charset: String) -> Bool {
        let n = Self.normalize(charset)
        if n == "utf-8" || n == "us-ascii" || n == "iso-8859-1" { return true }
        return Self.withIconv(from: n) { _ in true } ?? false
    }

    private static func withIconv<T>(from charset: String, _ body: (iconv_t) -> T) -> T? {
        // Charset names go to iconv only if they look like names (no "//" suffixes or odd bytes).
        guard charset.utf8.count < 64,
            !charset.isEmpty,
            charset.utf8.allSatisfy({ Self.isCharsetNameByte($0) })
        else { return nil }
        let cd = iconv_open("UTF-8", charset)
        guard let cd, cd != iconv_t(bitPattern: -1) else { return nil }
        defer { iconv_close(cd) }
        return body(cd)
    }

    private static func isCharsetNameByte(_ c: UInt8) -> Bool {
        (c >= UInt8(ascii: "a") && c <= UInt8(ascii: "z")) || (c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9"))
            || c == UInt8(ascii: "-") || c == UInt8(ascii: "_") || c == UInt8(ascii: ".") || c == UInt8(ascii: ":")
    }

    /// Converts through iconv, writing U+FFFD for each invalid byte and skipping it.
    static func iconvDecode(_ input: [UInt8], from charset: String) -> String? {
        Self.withIconv(from: charset) { cd -> String in
            var output: [UInt8] = []
            output.reserveCapacity(input.count * 2)
            var inBuf = input.map { CChar(bitPattern: $0) }
            let total = inBuf.count
            var consumed = 0
            var outChunk = [CChar](repeating: 0, count: 4096)
            inBuf.withUnsafeMutableBufferPointer { inPtr in
                outChunk.withUnsafeMutableBufferPointer { outPtr in
                    guard let inBase = inPtr.baseAddress, let outBase = outPtr.baseAddress else { return }
                    while consumed < total {
                        var inP: UnsafeMutablePointer<CChar>? = inBase + consumed
                        var inLeft = total - consumed
                        var outP: UnsafeMutablePointer<CChar>? = outBase
                        var outLeft = outPtr.count
                        let r = iconv(cd, &inP, &inLeft, &outP, &outLeft)
                        let produced = outPtr.count - outLeft
                        for k in 0..<produced {
                            output.append(UInt8(bitPattern: outBase[k]))
                        }
                        consumed = total - inLeft
                        if r == -1 {
                            let e = errno
                            if e == E2BIG {
                                continue
                            }
                            if produced == 0 && e != EILSEQ && e != EINVAL {
                                // Unexpected error without progress: stop.
                                output.append(contentsOf: [0xEF, 0xBF, 0xBD])
                                return
                            }
                            if e == EILSEQ || e == EINVAL {
                                // Invalid or incomplete sequence: replace one byte and go on.
                                output.append(contentsOf: [0xEF, 0xBF, 0xBD])
                                consumed += 1
                                var nilIn: UnsafeMutablePointer<CChar>? = nil
                                var zero = 0
                                _ = iconv(cd, &nilIn, &zero, nil, nil)
                            }
                        }
                    }
                }
            }
            return String(decoding: output, as: UTF8.self)
        }
    }
}
