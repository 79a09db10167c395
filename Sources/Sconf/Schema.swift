// The field schema: how Swift types map to sconf values.

// MARK: - Values

/// A type that can appear as a value in an sconf file.
public protocol SconfValue {
    /// Reads a value. For a scalar, the text is the rest of the current line
    /// (`reader.takeScalar()`); a record, map or list starts on the following lines.
    static func sconfRead(_ reader: inout SconfReader) throws(SconfError) -> Self
    /// Writes the value after `Key:` or `-`: a scalar as ` text\n`, a nested value as `\n`
    /// followed by its indented lines.
    func sconfWrite(_ writer: inout SconfWriter)
    /// The value shown in annotated examples; also the value of a missing optional field.
    static var sconfZero: Self { get }
    /// Whether the value counts as unset: the writer leaves out optional fields holding it.
    var sconfIsZero: Bool { get }
    /// Whether the value is a record whose fields are all optional and unset: a map entry
    /// holding it is written as `nil`.
    var sconfIsEmptyRecord: Bool { get }
}

extension SconfValue {
    public var sconfIsEmptyRecord: Bool { false }
}

/// A scalar value: a single line of text.
public protocol SconfScalar: SconfValue {
    /// What the value must look like, for error messages ("an integer", ...).
    static var sconfExpected: String { get }
    init?(sconfText: Substring)
    var sconfText: String { get }
}

extension SconfScalar {
    public static func sconfRead(_ reader: inout SconfReader) throws(SconfError) -> Self {
        let text = reader.takeScalar()
        guard let value = Self(sconfText: text) else {
            throw reader.error("invalid value \"\(text)\": expected \(Self.sconfExpected)")
        }
        return value
    }

    public func sconfWrite(_ writer: inout SconfWriter) {
        writer.scalar(self.sconfText)
    }
}

extension String: SconfScalar {
    public static var sconfExpected: String { "text" }
    public init?(sconfText: Substring) { self = String(sconfText) }
    public var sconfText: String { self }
    public static var sconfZero: String { "" }
    public var sconfIsZero: Bool { self.isEmpty }
}

extension Bool: SconfScalar {
    public static var sconfExpected: String { "true or false" }
    public init?(sconfText: Substring) {
        switch sconfText {
        case "true": self = true
        case "false": self = false
        default: return nil
        }
    }
    public var sconfText: String { self ? "true" : "false" }
    public static var sconfZero: Bool { false }
    public var sconfIsZero: Bool { !self }
}

/// Integers of every width: decimal, with an optional sign, range-checked.
public protocol SconfInteger: SconfScalar, FixedWidthInteger {}

extension SconfInteger {
    public static var sconfExpected: String {
        "a whole number from \(Self.min) to \(Self.max)"
    }
    public init?(sconfText: Substring) {
        var text = sconfText
        if text.hasPrefix("+") {
            text = text.dropFirst()
        }
        guard !text.isEmpty, let value = Self(text, radix: 10) else {
            return nil
        }
        self = value
    }
    public var sconfText: String { String(self) }
    public static var sconfZero: Self { 0 }
    public var sconfIsZero: Bool { self == 0 }
}

extension Int: SconfInteger {}
extension Int8: SconfInteger {}
extension Int16: SconfInteger {}
extension Int32: SconfInteger {}
extension Int64: SconfInteger {}
extension UInt: SconfInteger {}
extension UInt8: SconfInteger {}
extension UInt16: SconfInteger {}
extension UInt32: SconfInteger {}
extension UInt64: SconfInteger {}

extension Double: SconfScalar {
    public static var sconfExpected: String { "a number" }
    public init?(sconfText: Substring) {
        guard let value = Double(String(sconfText)), value.isFinite else {
            return nil
        }
        self = value
    }
    /// Six decimals, as the reference implementation writes floats. Magnitudes beyond what
    /// six exact decimals can hold are written in Swift's shortest form, which reads back.
    public var sconfText: String {
        if abs(self) >= 1e12 {
            return String(self)
        }
        let scaled = (self * 1_000_000).rounded()
        let negative = scaled < 0
        let magnitude = UInt64(Swift.min(abs(scaled), 9.2e18))
        let whole = magnitude / 1_000_000
        var fraction = String(magnitude % 1_000_000)
        fraction = String(repeating: "0", count: 6 - fraction.count) + fraction
        return (negative ? "-" : "") + "\(whole).\(fraction)"
    }
    public static var sconfZero: Double { 0 }
    public var sconfIsZero: Bool { self == 0 }
}

// MARK: - Containers

extension Optional: SconfValue where Wrapped: SconfValue {
    /// An optional value (a pointer in mox's Go structs): present when given in the file.
    public static func sconfRead(_ reader: inout SconfReader) throws(SconfError) -> Self {
        .some(try Wrapped.sconfRead(&reader))
    }
    public func sconfWrite(_ writer: inout SconfWriter) {
        (self ?? Wrapped.sconfZero).sconfWrite(&writer)
    }
    public static var sconfZero: Self { nil }
    /// Only `nil` counts as unset, so that an explicit `false`, `0` or record reads back the
    /// same after writing. The exception is what has no written form: a record whose fields
    /// are all optional and unset, and an empty list or map.
    public var sconfIsZero: Bool {
        switch self {
        case .none:
            return true
        case .some(let wrapped):
            if wrapped.sconfIsEmptyRecord {
                return true
            }
            if wrapped is any SconfScalar || wrapped is any SconfRecord {
                return false
            }
            return wrapped.sconfIsZero
        }
    }
}

extension Array: SconfValue where Element: SconfValue {
    public static func sconfRead(_ reader: inout SconfReader) throws(SconfError) -> [Element] {
        try reader.readList(Element.self)
    }
    public func sconfWrite(_ writer: inout SconfWriter) {
        writer.list(self)
    }
    public static var sconfZero: [Element] { [] }
    public var sconfIsZero: Bool { self.isEmpty }
}

extension Dictionary: SconfValue where Key == String, Value: SconfValue {
    public static func sconfRead(_ reader: inout SconfReader) throws(SconfError) -> [String: Value] {
        try reader.readMap(Value.self)
    }
    public func sconfWrite(_ writer: inout SconfWriter) {
        writer.map(self)
    }
    public static var sconfZero: [String: Value] { [:] }
    public var sconfIsZero: Bool { self.isEmpty }
}

// MARK: - Records

/// A record: a fixed set of named fields, like a Go struct. `init()` must give the zero
/// value of every field (defaults belong in the code that uses the config, so that the
/// annotated example shows the file's own zero values).
public protocol SconfRecord: SconfValue {
    init()
    /// The fields in file order, each with its documentation.
    static var sconfFields: [SconfField<Self>] { get }
    /// Comment lines written at the top of an annotated example of this record.
    static var sconfHeader: String? { get }
}

extension SconfRecord {
    public static var sconfHeader: String? { nil }

    public static func sconfRead(_ reader: inout SconfReader) throws(SconfError) -> Self {
        var value = Self()
        let start = reader.lineNumber
        try reader.beginBlock("a group of fields")
        defer { reader.endBlock() }
        try reader.readRecordBody(&value, startLine: start)
        return value
    }

    public func sconfWrite(_ writer: inout SconfWriter) {
        writer.emit("\n")
        writer.depth += 1
        self.sconfWriteBody(&writer)
        writer.depth -= 1
    }

    public static var sconfZero: Self { Self() }

    public var sconfIsZero: Bool {
        Self.sconfFields.allSatisfy { $0.isZero(self) }
    }

    public var sconfIsEmptyRecord: Bool {
        Self.sconfFields.allSatisfy { $0.isOptional && $0.isZero(self) }
    }

    func sconfWriteBody(_ writer: inout SconfWriter) {
        for field in Self.sconfFields {
            if !writer.keepZero && field.isOptional && field.isZero(self) {
                continue
            }
            if writer.docs {
                writer.comment(field.doc, optional: field.isOptional)
            }
            writer.emitIndentation()
            writer.emit(field.name)
            writer.emit(":")
            field.write(self, &writer)
        }
    }
}

/// One field of a record: its name in the file, its documentation, whether it may be left
/// out, and how to read and write it in the record.
///
/// Sendable so schemas can be `static let`: the closures are set once at initialization,
/// never changed, and capture only key paths or closures without state.
public struct SconfField<Root>: @unchecked Sendable {
    public let name: String
    public let doc: String
    public let isOptional: Bool
    let read: (inout Root, inout SconfReader) throws(SconfError) -> Void
    let write: (Root, inout SconfWriter) -> Void
    let isZero: (Root) -> Bool

    /// - Parameters:
    ///   - name: The key in the file, e.g. `DataDir`.
    ///   - keyPath: Where the value lives in the record.
    ///   - optional: Whether the key may be left out (the field then keeps its zero value).
    ///   - doc: Documentation, shown above the field in annotated examples.
    public init<Value: SconfValue>(
        _ name: String,
        _ keyPath: WritableKeyPath<Root, Value>,
        optional: Bool = false,
        doc: String = ""
    ) {
        self.name = name
        self.doc = doc
        self.isOptional = optional
        self.read = { (root: inout Root, reader: inout SconfReader) throws(SconfError) in
            root[keyPath: keyPath] = try Value.sconfRead(&reader)
        }
        self.write = { root, writer in root[keyPath: keyPath].sconfWrite(&writer) }
        self.isZero = { root in root[keyPath: keyPath].sconfIsZero }
    }

    /// The same with a getter and a setter instead of a key path:
    /// `.init("DataDir", { $0.dataDir }, { $0.dataDir = $1 }, doc: "...")`.
    ///
    /// Large schemas use this form: every key path literal costs the runtime a type lookup
    /// and an object the first time it is used, and describing the whole config (which the
    /// website build does every time) touches all of them.
    public init<Value: SconfValue>(
        _ name: String,
        _ get: @escaping (Root) -> Value,
        _ set: @escaping (inout Root, Value) -> Void,
        optional: Bool = false,
        doc: String = ""
    ) {
        self.name = name
        self.doc = doc
        self.isOptional = optional
        self.read = { (root: inout Root, reader: inout SconfReader) throws(SconfError) in
            set(&root, try Value.sconfRead(&reader))
        }
        self.write = { root, writer in get(root).sconfWrite(&writer) }
        self.isZero = { root in get(root).sconfIsZero }
    }
}
