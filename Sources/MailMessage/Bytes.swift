// Small byte helpers shared by the parsers.

let cr = UInt8(ascii: "\r")
let lf = UInt8(ascii: "\n")
let sp = UInt8(ascii: " ")
let tab = UInt8(ascii: "\t")

@inline(__always)
func isWSP(_ b: UInt8) -> Bool { b == sp || b == tab }

@inline(__always)
func lowerASCII(_ b: UInt8) -> UInt8 { b >= 65 && b <= 90 ? b + 32 : b }

/// Lower-cases ASCII letters only.
func asciiLowercased(_ s: String) -> String {
    String(decoding: s.utf8.map(lowerASCII), as: UTF8.self)
}

/// Case-insensitive ASCII comparison of a byte range with a lower-case ASCII string.
func equalsLowercaseASCII<C: Collection>(_ bytes: C, _ lower: String) -> Bool where C.Element == UInt8 {
    var it = lower.utf8.makeIterator()
    for b in bytes {
        guard let l = it.next(), lowerASCII(b) == l else { return false }
    }
    return it.next() == nil
}

/// Header bytes as a string: UTF-8 when valid (RFC 6532), otherwise ISO-8859-1, which maps every byte.
func headerString<C: Collection>(_ bytes: C) -> String where C.Element == UInt8 {
    if let s = String(validating: bytes, as: UTF8.self) {
        return s
    }
    var s = ""
    s.unicodeScalars.reserveCapacity(bytes.count)
    for b in bytes {
        s.unicodeScalars.append(Unicode.Scalar(b))
    }
    return s
}

/// Drops leading and trailing spaces and tabs (and stray CR/LF).
func trimmedWhitespace(_ s: Substring) -> Substring {
    var s = s
    while let f = s.first, f == " " || f == "\t" || f == "\r" || f == "\n" || f == "\r\n" { s.removeFirst() }
    while let l = s.last, l == " " || l == "\t" || l == "\r" || l == "\n" || l == "\r\n" { s.removeLast() }
    return s
}

public func trimmedWhitespace(_ s: String) -> String { String(trimmedWhitespace(Substring(s))) }
