/// RFC 2047 encoded words in header text.
public enum EncodedWords {
    /// Decodes every encoded word in `text`. Whitespace between two adjacent encoded words is
    /// dropped (RFC 2047 6.2); malformed words are left as they are. Adjacent words in the same
    /// charset are joined before charset decoding, so multi-byte characters split across words survive.
    ///
    ///     encoded-word = "=?" charset "?" encoding "?" encoded-text "?="   ; RFC 2047 2
    ///     charset may carry a language: charset "*" language             ; RFC 2231 5
    public static func decode(_ text: String) -> String {
        let bytes = Array(text.utf8)
        guard bytes.count >= 8, Self.containsMarker(bytes) else { return text }
        var out = ""
        var literalStart = 0
        var i = 0
        // Bytes of the current run of adjacent encoded words in one charset.
        var pending: [UInt8] = []
        var pendingCharset = ""
        var lastWordEnd = -1
        func flushPending() {
            if !pending.isEmpty || !pendingCharset.isEmpty {
                out += Charset.decode(pending, charset: pendingCharset)
                pending.removeAll(keepingCapacity: true)
                pendingCharset = ""
            }
        }
        while i + 1 < bytes.count {
            guard bytes[i] == UInt8(ascii: "="), bytes[i + 1] == UInt8(ascii: "?"),
                let word = Self.parseWord(bytes, at: i)
            else {
                i += 1
                continue
            }
            // Text between the previous word and this one.
            let between = bytes[literalStart..<i]
            let onlyWS = between.allSatisfy { isWSP($0) || $0 == cr || $0 == lf }
            if lastWordEnd == literalStart && onlyWS {
                // RFC 2047 6.2: linear whitespace between adjacent encoded words is ignored.
            } else {
                flushPending()
                out += headerString(between)
            }
            if Charset.normalize(word.charset) != Charset.normalize(pendingCharset) {
                flushPending()
            }
            pendingCharset = word.charset
            pending += word.decoded
            i = word.end
            literalStart = i
            lastWordEnd = i
        }
        flushPending()
        out += headerString(bytes[literalStart...])
        return out
    }

    private static func containsMarker(_ b: [UInt8]) -> Bool {
        var i = 0
        while i + 1 < b.count {
            if b[i] == UInt8(ascii: "="), b[i + 1] == UInt8(ascii: "?") { return true }
            i += 1
        }
        return false
    }

    // RFC 2047 2: an encoded-word is at most 75 characters. Longer ones occur in the wild, so the
    // limits are generous; they bound the scan from each "=?" so decoding stays linear.
    static let maxCharsetLength = 64
    static let maxTextLength = 4096

    struct Word {
        var charset: String
        var decoded: [UInt8]
        var end: Int
    }

    static func parseWord(_ b: [UInt8], at start: Int) -> Word? {
        var i = start + 2
        let csStart = i
        while i < b.count, i - csStart <= Self.maxCharsetLength, b[i] != UInt8(ascii: "?"), !isWSP(b[i]), b[i] != cr,
            b[i] != lf
        {
            i += 1
        }
        guard i < b.count, b[i] == UInt8(ascii: "?"), i > csStart else { return nil }
        var charset = headerString(b[csStart..<i])
        if let star = charset.firstIndex(of: "*") {
            charset = String(charset[..<star])
        }
        i += 1
        guard i + 1 < b.count, b[i + 1] == UInt8(ascii: "?") else { return nil }
        let enc = lowerASCII(b[i])
        guard enc == UInt8(ascii: "b") || enc == UInt8(ascii: "q") else { return nil }
        i += 2
        let textStart = i
        // RFC 2047 2: encoded-text has no spaces; "?=" ends it. Stopping at whitespace also keeps the
        // scan from each "=?" short, so decoding stays linear.
        while i + 1 < b.count, !(b[i] == UInt8(ascii: "?") && b[i + 1] == UInt8(ascii: "=")) {
            if b[i] == cr || b[i] == lf || i - textStart > Self.maxTextLength { return nil }
            if isWSP(b[i]) { return nil }
            i += 1
        }
        guard i + 1 < b.count else { return nil }
        let text = b[textStart..<i]
        let decoded: [UInt8]
        if enc == UInt8(ascii: "b") {
            decoded = TransferEncoding.decodeBase64(text)
        } else {
            decoded = Self.decodeQ(text)
        }
        return Word(charset: charset, decoded: decoded, end: i + 2)
    }

    // RFC 2047 4.2: like quoted-printable, with "_" meaning space.
    static func decodeQ(_ text: ArraySlice<UInt8>) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(text.count)
        var i = text.startIndex
        while i < text.endIndex {
            let c = text[i]
            if c == UInt8(ascii: "_") {
                out.append(sp)
            } else if c == UInt8(ascii: "="), i + 2 < text.endIndex,
                let h = TransferEncoding.hexValue(text[i + 1]), let l = TransferEncoding.hexValue(text[i + 2])
            {
                out.append(h << 4 | l)
                i += 3
                continue
            } else {
                out.append(c)
            }
            i += 1
        }
        return out
    }
}
