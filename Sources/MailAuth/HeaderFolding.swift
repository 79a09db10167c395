// Header fields written by the authentication checks (DKIM-Signature, Received-SPF).

enum HeaderFolding {
    /// The words joined by a space, or by a fold (CRLF and a tab, RFC 5322 2.2.3) where the line
    /// would pass 78 characters; no CRLF at the end.
    static func fold(_ words: [String]) -> String {
        var out = ""
        var length = 0
        for (i, word) in words.enumerated() {
            let wordLength = word.utf8.count
            if i > 0 {
                if length + 1 + wordLength > 78 {
                    out += "\r\n\t"
                    length = 1
                } else {
                    out += " "
                    length += 1
                }
            }
            out += word
            length += wordLength
        }
        return out
    }

    /// `s` as a quoted-string (RFC 5322 3.2.4): in double quotes, with '"' and '\\' escaped.
    static func quoted(_ s: String) -> String {
        var out = "\""
        for c in s.unicodeScalars {
            if c == "\"" || c == "\\" { out.unicodeScalars.append("\\") }
            out.unicodeScalars.append(c)
        }
        return out + "\""
    }
}

/// Body hashes (RFC 6376 3.7) by body canonicalization, so the signatures of one message that
/// share it read and hash the body once.
struct DKIMBodyHashes {
    var known: [Bool: [UInt8]] = [:]

    mutating func hash(relaxed: Bool, body: DKIMBodySource) throws -> [UInt8] {
        if let hash = self.known[relaxed] { return hash }
        var hasher = DKIMBodyHasher(relaxed: relaxed)
        try body { hasher.update($0) }
        let hash = hasher.finalize()
        self.known[relaxed] = hash
        return hash
    }
}
