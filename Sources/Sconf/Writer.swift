// The writer, for both annotated examples (every field, with docs) and plain config files.

/// Accumulates sconf text. Values write themselves through it (see `SconfValue`).
public struct SconfWriter {
    /// Write zero values and example entries for empty maps and lists (annotated examples).
    let keepZero: Bool
    /// Write field documentation as comments.
    let docs: Bool
    public private(set) var output = ""
    var depth = 0

    /// Comment text is wrapped to this many characters after the indentation and `# `.
    static let commentWidth = 80

    init(keepZero: Bool, docs: Bool) {
        self.keepZero = keepZero
        self.docs = docs
    }

    var indentation: String { String(repeating: "\t", count: self.depth) }

    mutating func emit(_ s: String) {
        self.output += s
    }

    /// A scalar after `Key:` or `-`.
    public mutating func scalar(_ text: String) {
        precondition(!text.contains("\n"), "sconf values cannot span lines")
        self.output += text.isEmpty ? "\n" : " " + text + "\n"
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
        if !self.output.isEmpty {
            self.output += "\n"
        }
        let prefix = self.indentation + "#"
        for paragraph in text.utf8.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false) {
            let lines = Self.wrap(Substring(paragraph), width: Self.commentWidth)
            if lines.isEmpty {
                self.output += prefix + "\n"
            }
            for line in lines {
                self.output += prefix + " " + line + "\n"
            }
        }
    }

    /// Greedy word wrap; a word longer than `width` gets a line of its own. Widths count
    /// Unicode scalars. Works on UTF-8 bytes: describing the whole schema wraps a lot of text.
    static func wrap(_ text: Substring, width: Int) -> [String] {
        var lines: [String] = []
        var line: [UInt8] = []
        var lineWidth = 0
        for word in text.utf8.split(separator: UInt8(ascii: " ")) {
            // Scalars: every byte that is not a UTF-8 continuation byte starts one.
            let wordWidth = word.reduce(0) { $0 + ($1 & 0xC0 == 0x80 ? 0 : 1) }
            if !line.isEmpty && lineWidth + 1 + wordWidth > width {
                lines.append(String(decoding: line, as: UTF8.self))
                line.removeAll(keepingCapacity: true)
                lineWidth = 0
            }
            if !line.isEmpty {
                line.append(UInt8(ascii: " "))
                lineWidth += 1
            }
            line.append(contentsOf: word)
            lineWidth += wordWidth
        }
        if !line.isEmpty {
            lines.append(String(decoding: line, as: UTF8.self))
        }
        return lines
    }

    mutating func list<Element: SconfValue>(_ items: [Element]) {
        self.output += "\n"
        self.depth += 1
        defer { self.depth -= 1 }
        let shown = items.isEmpty && self.keepZero ? [Element.sconfZero] : items
        for item in shown {
            self.output += self.indentation + "-"
            item.sconfWrite(&self)
        }
    }

    mutating func map<Value: SconfValue>(_ map: [String: Value]) {
        self.output += "\n"
        self.depth += 1
        defer { self.depth -= 1 }
        if map.isEmpty && self.keepZero {
            self.output += self.indentation + "x:"
            Value.sconfZero.sconfWrite(&self)
            return
        }
        for key in map.keys.sorted() {
            guard let value = map[key] else { continue }
            self.output += self.indentation + key + ":"
            if !self.keepZero && value.sconfIsEmptyRecord {
                self.output += " nil\n"
                continue
            }
            value.sconfWrite(&self)
        }
    }
}
