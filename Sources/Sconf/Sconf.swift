/// Sconf reads and writes the "sconf" configuration format used by mox.conf and domains.conf.
///
/// The format in short: tabs indent nested values; `Key: value` runs to the end of the line
/// (no quoting, no escapes, no multi-line strings); maps and lists start on the following
/// line one tab deeper; list items are `-` lines; a line whose first non-blank character is
/// `#` is a comment. Values carry no type syntax: the schema of the record being read says
/// what each value is. Unknown keys are errors, and required keys must be present.
///
/// The schema is declared once per record type (`SconfRecord.sconfFields`), with each field's
/// documentation beside it. Parsing, writing and the annotated example (`describe`) all come
/// from that one declaration.
///
/// This module is pure: it works on strings and never imports NIO or touches the file system.

// MARK: - Errors

/// An error in an sconf file, with the position and field it concerns.
public struct SconfError: Error, Equatable, CustomStringConvertible, Sendable {
    /// The file name as given to the parser (may be empty).
    public var file: String
    /// The 1-based line number, or 0 when the error concerns the file as a whole.
    public var line: Int
    /// The dotted path of the field, e.g. `Listeners.public.SMTP.Port`; empty at the top level.
    public var fieldPath: String
    /// What is wrong, in words.
    public var reason: String

    public init(file: String, line: Int, fieldPath: String, reason: String) {
        self.file = file
        self.line = line
        self.fieldPath = fieldPath
        self.reason = reason
    }

    /// `file:line: fieldPath: reason`, leaving out the line when 0 and the path when empty.
    public var description: String {
        var s = self.file.isEmpty ? "<input>" : self.file
        if self.line > 0 {
            s += ":\(self.line)"
        }
        s += ": "
        if !self.fieldPath.isEmpty {
            s += "\(self.fieldPath): "
        }
        return s + self.reason
    }
}

// MARK: - Entry points

/// The result of parsing: the typed value and the line on which each field path was set.
public struct SconfParsed<Record: SconfRecord> {
    public var value: Record
    /// Field path (as in `SconfError.fieldPath`) to the 1-based line where it was given.
    public var locations: [String: Int]
}

public enum Sconf {
    /// Parses `text` as a `Record`. `file` is used in error messages only.
    public static func parse<Record: SconfRecord>(
        _ type: Record.Type,
        from text: String,
        file: String = ""
    ) throws(SconfError) -> SconfParsed<Record> {
        var reader = SconfReader(text: text, file: file)
        var value = Record()
        try reader.readRecordBody(&value, startLine: 0)
        return SconfParsed(value: value, locations: reader.locations)
    }

    /// The annotated example of `Record`: every field, each with its documentation as comment
    /// lines, zero values, user-chosen map keys shown as `x` and lists with one element.
    public static func describe<Record: SconfRecord>(_ type: Record.Type) -> String {
        var writer = SconfWriter(keepZero: true, docs: true)
        if let header = Record.sconfHeader {
            // The header, then two empty lines: the first field's comment adds the second.
            writer.commentLines(header, indent: 0)
            writer.emit("\n")
        }
        Record().sconfWriteBody(&writer)
        return writer.output
    }

    /// Writes `value` as a valid sconf file: optional fields with zero values are left out.
    /// With `docs`, field documentation is written as comments too.
    public static func write<Record: SconfRecord>(_ value: Record, docs: Bool = false) -> String {
        var writer = SconfWriter(keepZero: false, docs: docs)
        value.sconfWriteBody(&writer)
        return writer.output
    }
}
