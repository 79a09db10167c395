/// Decoded text of a message for search and previews.
public enum TextExtraction {
    /// All inline text/plain parts, and text/html parts with tags removed, decoded to UTF-8 and
    /// joined with newlines; includes the text of encapsulated messages. Text parts marked as
    /// attachments (Content-Disposition: attachment) are included only when asked for.
    public static func text(of message: Message, includeAttachments: Bool = false) -> String {
        var pieces: [String] = []
        Self.collect(message.root, includeAttachments: includeAttachments, into: &pieces)
        return pieces.joined(separator: "\n")
    }

    static func collect(_ part: Part, includeAttachments: Bool, into pieces: inout [String]) {
        if part.isMultipart {
            for p in part.parts { Self.collect(p, includeAttachments: includeAttachments, into: &pieces) }
            return
        }
        if let m = part.message {
            Self.collect(m, includeAttachments: includeAttachments, into: &pieces)
            return
        }
        guard part.contentType.type == "text", includeAttachments || part.disposition?.type != "attachment" else {
            return
        }
        switch part.contentType.subtype {
        case "plain": pieces.append(part.decodedText)
        case "html": pieces.append(Self.stripHTML(part.decodedText))
        default: break
        }
    }

    /// Removes tags, comments and the contents of script and style elements, and decodes the
    /// common character references. Not an HTML parser: good enough for search and previews.
    public static func stripHTML(_ html: String) -> String {
        let s = Array(html.unicodeScalars)
        var out = String.UnicodeScalarView()
        var i = 0
        func hasPrefixCI(_ p: String, at k: Int) -> Bool {
            var j = k
            for c in p.unicodeScalars {
                guard j < s.count, s[j].properties.lowercaseMapping == String(c) || s[j] == c else { return false }
                j += 1
            }
            return true
        }
        func skip(past marker: String, from k: Int) -> Int {
            var j = k
            while j < s.count {
                if hasPrefixCI(marker, at: j) { return j + marker.unicodeScalars.count }
                j += 1
            }
            return s.count
        }
        while i < s.count {
            let c = s[i]
            if c == "<" {
                if hasPrefixCI("<!--", at: i) {
                    i = skip(past: "-->", from: i + 4)
                    continue
                }
                let isScript = hasPrefixCI("<script", at: i)
                let isStyle = hasPrefixCI("<style", at: i)
                let blockTags = [
                    "<br", "<p", "</p", "<div", "</div", "<tr", "<li", "<h", "</h", "<table", "<blockquote",
                ]
                let isBlock = blockTags.contains { hasPrefixCI($0, at: i) }
                let isCell = hasPrefixCI("<td", at: i) || hasPrefixCI("<th", at: i)
                i = skip(past: ">", from: i + 1)
                if isScript { i = skip(past: "</script>", from: i) }
                if isStyle { i = skip(past: "</style>", from: i) }
                // Block elements end a line, table cells are separated by a space, inline tags such as
                // <b> leave no trace ("<b>bo</b>ld" is one word).
                if isBlock, out.last != "\n" {
                    out.append("\n")
                } else if isCell, let l = out.last, l != " " && l != "\n" {
                    out.append(" ")
                }
                continue
            }
            if c == "&" {
                var j = i + 1
                while j < s.count, j - i <= 10, s[j] != ";", s[j] != "&", s[j] != "<", s[j] != " " { j += 1 }
                if j < s.count, s[j] == ";" {
                    var name = String.UnicodeScalarView()
                    name.append(contentsOf: s[(i + 1)..<j])
                    if let decoded = Self.entity(String(name)) {
                        out.append(decoded)
                        i = j + 1
                        continue
                    }
                }
            }
            out.append(c)
            i += 1
        }
        // Collapse runs of blank lines and trim.
        let lines = String(out).split(separator: "\n", omittingEmptySubsequences: false).map {
            String(trimmedWhitespace($0))
        }
        var result: [String] = []
        for l in lines where !(l.isEmpty && (result.last?.isEmpty ?? true)) {
            result.append(l)
        }
        while result.last?.isEmpty == true { result.removeLast() }
        return result.joined(separator: "\n")
    }

    static func entity(_ name: String) -> Unicode.Scalar? {
        switch name {
        case "amp": return "&"
        case "lt": return "<"
        case "gt": return ">"
        case "quot": return "\""
        case "apos": return "'"
        case "nbsp": return " "
        default: break
        }
        if name.hasPrefix("#x") || name.hasPrefix("#X") {
            return UInt32(name.dropFirst(2), radix: 16).flatMap { Unicode.Scalar($0) }
        }
        if name.hasPrefix("#") {
            return UInt32(name.dropFirst()).flatMap { Unicode.Scalar($0) }
        }
        return nil
    }
}
