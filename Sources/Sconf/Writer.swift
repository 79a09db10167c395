// The writer, for both annotated examples (every field, with docs) and plain config files.

/// Accumulates sconf text. Values write themselves through it (see `SconfValue`).
public struct SconfWriter {
    /// Write zero values and example entries for empty maps and lists (annotated examples).
    let keepZero: Bool
    /// Write field documentation as comments.
    let docs: Bool
    /// The text so far, as UTF-8: describing the whole schema appends thousands of pieces.
    var bytes: [UInt8] = []
    var depth = 0

    public var output: String { String(decoding: self.bytes, as: UTF8.self) }

    /// Comment text is wrapped to this many characters after the indentation and `# `.
    static let commentWidth = 80

    init(keepZero: Bool, docs: Bool) {
        self.keepZero = keepZero
        self.docs = docs
    }

    mutating func emit(_ s: String) {
        self.bytes += s.utf8
    }

    mutating func emitIndentation() {
        for _ in 0..<self.depth {
            self.bytes.append(UInt8(ascii: "\t"))
        }
    }

    /// A scalar after `Key:` or `-`.
    public mutating func scalar(_ text: String) {
        precondition(!text.utf8.contains(UInt8(ascii: "\n")), "sconf values cannot span lines")
        if !text.isEmpty {
            self.bytes.append(UInt8(ascii: " "))
            self.bytes += text.utf8
        }
        self.bytes.append(UInt8(ascii: "\n"))
    }

    /// The documentation block above a field: an empty line, then the doc as `#` lines,
    /// wrapped, with "(optional)" added for optional fields.
    mutating func comment(_ doc: String, optional: Bool) {
        if doc.isEmpty && !optional {
            return
        }
        var text = doc
        if optional {
            text += text.isEmpty || text.hasSuffix(" ") ? "(optional)" : " (optional)"
        }
        if !self.bytes.isEmpty {
            self.bytes.append(UInt8(ascii: "\n"))
        }
        self.commentLines(text, indent: self.depth)
    }

    /// `text` as comment lines: each paragraph (a line of `text`) greedily word-wrapped to
    /// `commentWidth`, each line as tabs, `# ` and the words; an empty paragraph is a lone `#`.
    /// A word longer than the width gets a line of its own. Widths count Unicode scalars.
    mutating func commentLines(_ text: String, indent: Int) {
        var text = text
        text.withUTF8 { buf in
            var start = 0
            while start <= buf.count {
                var end = start
                while end < buf.count && buf[end] != UInt8(ascii: "\n") { end += 1 }
                self.wrapParagraph(buf, start, end, indent: indent)
                start = end + 1
            }
        }
    }

    private mutating func wrapParagraph(_ buf: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int, indent: Int) {
        var lineWidth = -1  // -1: no line started yet
        var i = start
        while i < end {
            if buf[i] == UInt8(ascii: " ") {
                i += 1
                continue
            }
            var j = i
            var wordWidth = 0
            while j < end && buf[j] != UInt8(ascii: " ") {
                // Scalars: every byte that is not a UTF-8 continuation byte starts one.
                if buf[j] & 0xC0 != 0x80 { wordWidth += 1 }
                j += 1
            }
            if lineWidth >= 0 && lineWidth + 1 + wordWidth > Self.commentWidth {
                self.bytes.append(UInt8(ascii: "\n"))
                lineWidth = -1
            }
            if lineWidth < 0 {
                for _ in 0..<indent { self.bytes.append(UInt8(ascii: "\t")) }
                self.bytes += "# ".utf8
                lineWidth = 0
            } else {
                self.bytes.append(UInt8(ascii: " "))
                lineWidth += 1
            }
            self.bytes += UnsafeBufferPointer(rebasing: buf[i..<j])
            lineWidth += wordWidth
            i = j
        }
        if lineWidth < 0 {
            for _ in 0..<indent { self.bytes.append(UInt8(ascii: "\t")) }
            self.bytes.append(UInt8(ascii: "#"))
        }
        self.bytes.append(UInt8(ascii: "\n"))
    }

    mutating func list<Element: SconfValue>(_ items: [Element]) {
        self.bytes.append(UInt8(ascii: "\n"))
        self.depth += 1
        defer { self.depth -= 1 }
        let shown = items.isEmpty && self.keepZero ? [Element.sconfZero] : items
        for item in shown {
            self.emitIndentation()
            self.bytes.append(UInt8(ascii: "-"))
            item.sconfWrite(&self)
        }
    }

    mutating func map<Value: SconfValue>(_ map: [String: Value]) {
        self.bytes.append(UInt8(ascii: "\n"))
        self.depth += 1
        defer { self.depth -= 1 }
        if map.isEmpty && self.keepZero {
            self.emitIndentation()
            self.bytes += "x:".utf8
            Value.sconfZero.sconfWrite(&self)
            return
        }
        for key in map.keys.sorted() {
            guard let value = map[key] else { continue }
            self.emitIndentation()
            self.bytes += key.utf8
            self.bytes.append(UInt8(ascii: ":"))
            if !self.keepZero && value.sconfIsEmptyRecord {
                self.bytes += " nil\n".utf8
                continue
            }
            value.sconfWrite(&self)
        }
    }
}
