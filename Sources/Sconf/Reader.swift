// The parser: a line reader that the schema drives. It accepts exactly the files mox's
// parser accepts, and explains what is wrong with those it does not.

/// Reads sconf text line by line. Values read themselves through it (see `SconfValue`).
public struct SconfReader {
    let file: String
    private let lines: [Substring]
    private var nextIndex = 0
    /// The 1-based number of the line being read.
    public private(set) var lineNumber = 0
    /// What is left of the current line; empty when the next line must be read.
    private var current: Substring = ""
    /// Tabs that lines at the current level start with.
    private var depth = 0
    private var path: [String] = []
    /// Where each field path was given.
    var locations: [String: Int] = [:]

    init(text: String, file: String) {
        self.file = file
        // "\r\n" is a single Character in Swift, so it must be named as a separator of its own.
        var lines = text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" })
        if lines.last == "" {
            lines.removeLast()
        }
        self.lines = lines.map { $0.hasSuffix("\r") ? $0.dropLast() : $0 }
    }

    // MARK: - Errors

    var fieldPath: String {
        var s = ""
        for component in self.path {
            if component.hasPrefix("[") || s.isEmpty {
                s += component
            } else {
                s += "." + component
            }
        }
        return s
    }

    /// An error at the current line and field.
    public func error(_ reason: String) -> SconfError {
        SconfError(file: self.file, line: self.lineNumber, fieldPath: self.fieldPath, reason: reason)
    }

    // MARK: - Lines

    /// Whether there is a line at the current depth, reading past empty and comment lines.
    /// A less indented line is left for an enclosing level.
    private mutating func next() -> Bool {
        while self.current.isEmpty {
            guard self.nextIndex < self.lines.count else {
                return false
            }
            let line = self.lines[self.nextIndex]
            self.nextIndex += 1
            self.lineNumber = self.nextIndex
            if line.drop(while: { $0 == " " || $0 == "\t" }).hasPrefix("#") {
                continue
            }
            self.current = line
        }
        return self.current.prefix(self.depth).allSatisfy { $0 == "\t" } && self.current.count >= self.depth
    }

    /// The rest of the current line as a scalar value's text.
    public mutating func takeScalar() -> Substring {
        let s = self.current
        self.current = ""
        return s
    }

    /// Moves one level deeper for a nested value, which must start on the next line.
    mutating func beginBlock(_ what: String) throws(SconfError) {
        if !self.current.isEmpty {
            throw self.error(
                "\(what) cannot be written on the key's line (found \"\(self.current)\"); "
                    + "put it on the following lines, indented one more tab"
            )
        }
        self.depth += 1
        if !self.next() {
            if self.current.drop(while: { $0 == "\t" }).hasPrefix(" ") {
                throw self.error("line is indented with spaces; indent with tabs only")
            }
            throw self.error("expected \(what) on the following lines, indented with \(self.depth) tab(s)")
        }
    }

    mutating func endBlock() {
        self.depth -= 1
    }

    /// The current line without its indentation, checked for stray whitespace.
    /// With `extraTabs`, deeper indentation is kept as part of the text, as mox's parser does
    /// for map keys (its own test configs have such keys, which then start with a tab).
    private func content(_ kind: String, extraTabs: Bool = false) throws(SconfError) -> Substring {
        let text = self.current.dropFirst(self.depth)
        if text.allSatisfy({ $0 == " " || $0 == "\t" }) {
            throw self.error("line has only whitespace (perhaps stray whitespace)")
        }
        if text.hasPrefix("\t") && !extraTabs {
            throw self.error("line is indented too deep: expected \(self.depth) tab(s) before the \(kind)")
        }
        if text.hasPrefix(" ") {
            throw self.error("\(kind) starts with a space (perhaps mixed tab/space indenting; indent with tabs only)")
        }
        return text
    }

    /// Splits `Key: value` and leaves the value as the current line.
    private mutating func keyValue(_ kind: String, extraTabs: Bool = false) throws(SconfError) -> String {
        let text = try self.content(kind, extraTabs: extraTabs)
        guard let colon = text.firstIndex(of: ":") else {
            throw self.error("missing colon after \(kind) in \"\(self.current)\"")
        }
        let key = text[..<colon]
        if key.isEmpty {
            throw self.error("empty \(kind)")
        }
        var value = text[text.index(after: colon)...]
        if !value.isEmpty {
            guard value.hasPrefix(" ") else {
                throw self.error("missing space after colon following \(kind) \"\(key)\"")
            }
            value = value.dropFirst()
        }
        self.current = value
        return String(key)
    }

    // MARK: - Records

    mutating func readRecordBody<Record: SconfRecord>(_ record: inout Record, startLine: Int) throws(SconfError) {
        let fields = Record.sconfFields
        var seen: Set<String> = []
        while self.next() {
            let key = try self.keyValue("key")
            guard let field = fields.first(where: { $0.name == key }) else {
                var hint = ""
                if let similar = fields.first(where: { $0.name.lowercased() == key.lowercased() }) {
                    hint = " (did you mean \"\(similar.name)\"? keys are case-sensitive)"
                } else if key.trimmingWhitespace != key {
                    hint = " (perhaps stray whitespace in key)"
                }
                self.path.append(key)
                defer { self.path.removeLast() }
                throw self.error("unknown key \"\(key)\"\(hint)")
            }
            self.path.append(key)
            defer { self.path.removeLast() }
            if seen.contains(key) {
                throw self.error("duplicate key \"\(key)\"")
            }
            seen.insert(key)
            self.locations[self.fieldPath] = self.lineNumber
            try field.read(&record, &self)
        }
        for field in fields where !field.isOptional && !seen.contains(field.name) {
            throw SconfError(
                file: self.file,
                line: startLine,
                fieldPath: self.fieldPath,
                reason: "missing required key \"\(field.name)\""
            )
        }
    }

    // MARK: - Maps and lists

    mutating func readMap<Value: SconfValue>(_ type: Value.Type) throws(SconfError) -> [String: Value] {
        try self.beginBlock("a map of keys")
        defer { self.endBlock() }
        var map: [String: Value] = [:]
        while self.next() {
            let key = try self.keyValue("map key", extraTabs: true)
            self.path.append(key)
            defer { self.path.removeLast() }
            if map[key] != nil {
                throw self.error("duplicate key \"\(key)\"")
            }
            self.locations[self.fieldPath] = self.lineNumber
            if self.current == "nil" {
                // "nil" stands for the value's zero value, e.g. a record with only optional fields.
                self.current = ""
                map[key] = Value.sconfZero
            } else {
                map[key] = try Value.sconfRead(&self)
            }
        }
        return map
    }

    mutating func readList<Element: SconfValue>(_ type: Element.Type) throws(SconfError) -> [Element] {
        try self.beginBlock("a list of \"-\" items")
        defer { self.endBlock() }
        var list: [Element] = []
        while self.next() {
            let text = try self.content("list item")
            guard text.hasPrefix("-") else {
                throw self.error("expected a list item starting with \"-\", found \"\(text)\"")
            }
            var value = text.dropFirst()
            if !value.isEmpty {
                guard value.hasPrefix(" ") else {
                    throw self.error("missing space after \"-\" in list item")
                }
                value = value.dropFirst()
            }
            self.current = value
            self.path.append("[\(list.count)]")
            defer { self.path.removeLast() }
            self.locations[self.fieldPath] = self.lineNumber
            list.append(try Element.sconfRead(&self))
        }
        return list
    }
}

extension String {
    var trimmingWhitespace: String {
        String(
            self.drop(while: { $0 == " " || $0 == "\t" }).reversed().drop(while: { $0 == " " || $0 == "\t" }).reversed()
        )
    }
}
