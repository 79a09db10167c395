/// One end of a sequence range: a number, or "*" for the largest number in use.
/// - SeeAlso: RFC 9051 9 "seq-number"
public enum IMAPSequenceNumber: Hashable, Sendable, CustomStringConvertible {
    case number(UInt32)
    /// "*": the last message's sequence number or UID.
    case last

    /// The number, with "*" as `max`.
    public func resolved(max: UInt32) -> UInt32 {
        switch self {
        case .number(let n): return n
        case .last: return max
        }
    }

    public var description: String {
        switch self {
        case .number(let n): return String(n)
        case .last: return "*"
        }
    }
}

/// A range as the client wrote it; either end may be the larger one.
/// - SeeAlso: RFC 9051 9 "seq-range": "4:2" and "2:4" are the same range.
public struct IMAPSequenceRange: Hashable, Sendable, CustomStringConvertible {
    public var first: IMAPSequenceNumber
    public var last: IMAPSequenceNumber

    public init(_ first: IMAPSequenceNumber, _ last: IMAPSequenceNumber) {
        self.first = first
        self.last = last
    }

    public init(_ single: IMAPSequenceNumber) {
        self.init(single, single)
    }

    public init(_ range: ClosedRange<UInt32>) {
        self.init(.number(range.lowerBound), .number(range.upperBound))
    }

    /// The range with "*" as `max`, lower bound first.
    public func resolved(max: UInt32) -> ClosedRange<UInt32> {
        let a = self.first.resolved(max: max)
        let b = self.last.resolved(max: max)
        return Swift.min(a, b)...Swift.max(a, b)
    }

    public var description: String {
        self.first == self.last ? self.first.description : "\(self.first):\(self.last)"
    }
}

/// A set of message sequence numbers or UIDs.
/// - SeeAlso: RFC 9051 9 "sequence-set", RFC 5182 2 ("$", the saved search result)
public enum IMAPSequenceSet: Hashable, Sendable, CustomStringConvertible {
    /// Ranges in the order the client sent them.
    case ranges([IMAPSequenceRange])
    /// "$": the result saved by SEARCH RETURN (SAVE).
    case searchResult

    /// Parses a whole sequence set, e.g. "1:3,5,7:*" or "$".
    public static func parse(_ text: String) throws(IMAPParseError) -> IMAPSequenceSet {
        let bytes = Array(text.utf8)
        var pos = 0
        let set = try Self.parse(bytes[...], at: &pos)
        guard pos == bytes.count else { throw IMAPParseError(reason: "junk after sequence set") }
        return set
    }

    /// Parses a sequence set at `pos`, leaving `pos` after it.
    ///
    ///     sequence-set    = (seq-number / seq-range) ["," sequence-set]
    ///     sequence-set    =/ seq-last-command   ; "$"
    ///     seq-range       = seq-number ":" seq-number
    ///     seq-number      = nz-number / "*"
    public static func parse(_ bytes: ArraySlice<UInt8>, at pos: inout Int) throws(IMAPParseError) -> IMAPSequenceSet {
        if pos < bytes.endIndex, bytes[pos] == UInt8(ascii: "$") {
            pos += 1
            return .searchResult
        }
        var ranges: [IMAPSequenceRange] = []
        while true {
            let a = try Self.number(bytes, &pos)
            var b = a
            if pos < bytes.endIndex, bytes[pos] == UInt8(ascii: ":") {
                pos += 1
                b = try Self.number(bytes, &pos)
            }
            ranges.append(IMAPSequenceRange(a, b))
            guard pos < bytes.endIndex, bytes[pos] == UInt8(ascii: ",") else { break }
            pos += 1
        }
        return .ranges(ranges)
    }

    private static func number(
        _ bytes: ArraySlice<UInt8>,
        _ pos: inout Int
    ) throws(IMAPParseError) -> IMAPSequenceNumber {
        guard pos < bytes.endIndex else { throw IMAPParseError(reason: "missing sequence number") }
        if bytes[pos] == UInt8(ascii: "*") {
            pos += 1
            return .last
        }
        // RFC 9051 9: nz-number = digit-nz *DIGIT, at most 2^32-1.
        guard bytes[pos] >= UInt8(ascii: "1"), bytes[pos] <= UInt8(ascii: "9") else {
            throw IMAPParseError(reason: "bad sequence number")
        }
        var n: UInt64 = 0
        while pos < bytes.endIndex, bytes[pos] >= UInt8(ascii: "0"), bytes[pos] <= UInt8(ascii: "9") {
            n = n * 10 + UInt64(bytes[pos] - UInt8(ascii: "0"))
            guard n <= UInt64(UInt32.max) else { throw IMAPParseError(reason: "sequence number too large") }
            pos += 1
        }
        return .number(UInt32(n))
    }

    /// The set as sorted, merged ranges within 1...max, "*" taken as `max`.
    ///
    /// A range past the end keeps its part inside: for UIDs, "559:*" always includes the last
    /// message even when 559 is larger than its UID (RFC 9051 6.4.9). An empty mailbox (max 0)
    /// gives no numbers. "$" must be replaced by the caller; it gives no numbers here.
    public func normalized(max: UInt32) -> [ClosedRange<UInt32>] {
        guard case .ranges(let ranges) = self, max > 0 else { return [] }
        let sorted = ranges.map { $0.resolved(max: max) }
            .filter { $0.lowerBound <= max && $0.upperBound >= 1 }
            .map { Swift.max($0.lowerBound, 1)...Swift.min($0.upperBound, max) }
            .sorted { $0.lowerBound < $1.lowerBound }
        var out: [ClosedRange<UInt32>] = []
        for r in sorted {
            if let prev = out.last, UInt64(r.lowerBound) <= UInt64(prev.upperBound) + 1 {
                out[out.count - 1] = prev.lowerBound...Swift.max(prev.upperBound, r.upperBound)
            } else {
                out.append(r)
            }
        }
        return out
    }

    /// The first message sequence number the set names that a mailbox of `count` messages does
    /// not have ("*" in an empty mailbox names message 0), or nil when every number exists.
    /// - SeeAlso: RFC 9051 9 "seq-number": a sequence number above the number of messages, or
    ///   "*" in an empty mailbox, gets a tagged BAD (UIDs outside the mailbox are not an error).
    public func sequenceNumberBeyond(count: UInt32) -> IMAPSequenceNumber? {
        guard case .ranges(let ranges) = self else { return nil }
        for range in ranges {
            for end in [range.first, range.last] {
                switch end {
                case .last where count == 0: return .last
                case .number(let n) where n > count: return end
                default: continue
                }
            }
        }
        return nil
    }

    /// Whether `n` is in the set, "*" taken as `max`. Unlike `normalized`, numbers beyond `max`
    /// count when the client named them (useful for UIDs that are not in the mailbox).
    public func contains(_ n: UInt32, max: UInt32) -> Bool {
        guard case .ranges(let ranges) = self else { return false }
        return ranges.contains { $0.resolved(max: max).contains(n) }
    }

    /// The numbers in the set within 1...max, ascending, each once; computed lazily, so a large
    /// "1:*" costs nothing until iterated.
    public func numbers(max: UInt32) -> some Sequence<UInt32> {
        self.normalized(max: max).lazy.flatMap { $0 }
    }

    /// The set from sorted or unsorted numbers, merged into ranges: [1,2,3,5] gives "1:3,5".
    public init(numbers: some Sequence<UInt32>) {
        var out: [ClosedRange<UInt32>] = []
        for n in Set(numbers).sorted() {
            if let prev = out.last, UInt64(prev.upperBound) + 1 == UInt64(n) {
                out[out.count - 1] = prev.lowerBound...n
            } else {
                out.append(n...n)
            }
        }
        self = .ranges(out.map { IMAPSequenceRange($0) })
    }

    public var description: String {
        switch self {
        case .searchResult: return "$"
        case .ranges(let ranges): return ranges.map(\.description).joined(separator: ",")
        }
    }
}
