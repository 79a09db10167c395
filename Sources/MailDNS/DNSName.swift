// Domain names as DNS carries them: a sequence of labels of arbitrary octets. Unlike
// MailAddress.Domain (host names for mail), a DNS name may hold underscores and other octets:
// "_dmarc.example.org", "selector._domainkey.example.org", "_25._tcp.mx.example.org".

/// A fully qualified DNS name. Comparison ignores ASCII case (RFC 4343 3).
public struct DNSName: Hashable, Sendable, CustomStringConvertible {
    /// The labels from left to right, without the empty root label.
    public let labels: [[UInt8]]

    // RFC 1035 2.3.4: labels of 63 octets or less, names of 255 octets or less (wire form).
    public static let maxLabelLength = 63
    public static let maxWireLength = 255

    public static let root = DNSName(uncheckedLabels: [])

    init(uncheckedLabels: [[UInt8]]) {
        self.labels = uncheckedLabels
    }

    /// From labels; nil when one is empty or too long, or the name is too long.
    public init?(labels: [[UInt8]]) {
        guard labels.allSatisfy({ !$0.isEmpty && $0.count <= Self.maxLabelLength }),
            labels.reduce(1, { $0 + 1 + $1.count }) <= Self.maxWireLength
        else { return nil }
        self.labels = labels
    }

    /// From presentation text: "example.org" or "example.org." (always taken as absolute:
    /// no search domains). A backslash escapes the next character, or three digits give an
    /// octet (RFC 1035 5.1). Throws for empty labels and names over the limits.
    public init(_ text: String) throws(DNSNameError) {
        var labels: [[UInt8]] = []
        var label: [UInt8] = []
        var bytes = Array(text.utf8)
        if bytes == [UInt8(ascii: ".")] { bytes = [] }
        var i = 0
        while i < bytes.count {
            let b = bytes[i]
            if b == UInt8(ascii: ".") {
                guard !label.isEmpty else { throw .emptyLabel(text) }
                labels.append(label)
                label = []
                i += 1
                continue
            }
            if b == UInt8(ascii: "\\") {
                guard i + 1 < bytes.count else { throw .badEscape(text) }
                let next = bytes[i + 1]
                if next >= UInt8(ascii: "0"), next <= UInt8(ascii: "9") {
                    guard i + 3 < bytes.count else { throw .badEscape(text) }
                    let digits = bytes[(i + 1)...(i + 3)]
                    guard digits.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }) else {
                        throw .badEscape(text)
                    }
                    let value = digits.reduce(0) { $0 * 10 + Int($1 - UInt8(ascii: "0")) }
                    guard value <= 255 else { throw .badEscape(text) }
                    label.append(UInt8(value))
                    i += 4
                } else {
                    label.append(next)
                    i += 2
                }
            } else {
                label.append(b)
                i += 1
            }
            guard label.count <= Self.maxLabelLength else { throw .labelTooLong(text) }
        }
        if !label.isEmpty { labels.append(label) }
        guard labels.reduce(1, { $0 + 1 + $1.count }) <= Self.maxWireLength else { throw .nameTooLong(text) }
        self.labels = labels
    }

    /// Presentation form with a trailing dot; "." for the root. Octets outside printable ASCII,
    /// and "." and "\" inside a label, are escaped (RFC 1035 5.1).
    public var description: String {
        if self.labels.isEmpty { return "." }
        var out = ""
        for label in self.labels {
            for b in label {
                switch b {
                case UInt8(ascii: "."), UInt8(ascii: "\\"):
                    out += "\\" + String(UnicodeScalar(b))
                case 0x21...0x7e:
                    out.unicodeScalars.append(UnicodeScalar(b))
                default:
                    let d = String(b)
                    out += "\\" + String(repeating: "0", count: 3 - d.count) + d
                }
            }
            out += "."
        }
        return out
    }

    /// The name without trailing dot, as mail code compares names ("example.org").
    public var text: String {
        let s = self.description
        return s == "." ? "" : String(s.dropLast())
    }

    /// The name one label up; nil for the root.
    public var parent: DNSName? {
        self.labels.isEmpty ? nil : DNSName(uncheckedLabels: Array(self.labels.dropFirst()))
    }

    /// `label.self`; nil when the result would be too long.
    public func prepending(_ label: String) -> DNSName? {
        DNSName(labels: [Array(label.utf8)] + self.labels)
    }

    /// Whether this name is `other` or below it.
    public func isSubdomain(of other: DNSName) -> Bool {
        guard self.labels.count >= other.labels.count else { return false }
        return DNSName(uncheckedLabels: Array(self.labels.suffix(other.labels.count))) == other
    }

    /// The uncompressed wire form (RFC 1035 3.1).
    public var wire: [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(self.labels.reduce(1) { $0 + 1 + $1.count })
        for label in self.labels {
            out.append(UInt8(label.count))
            out += label
        }
        out.append(0)
        return out
    }

    static func lower(_ b: UInt8) -> UInt8 {
        b >= UInt8(ascii: "A") && b <= UInt8(ascii: "Z") ? b + 32 : b
    }

    public static func == (a: DNSName, b: DNSName) -> Bool {
        guard a.labels.count == b.labels.count else { return false }
        for (x, y) in zip(a.labels, b.labels) {
            guard x.count == y.count else { return false }
            for (p, q) in zip(x, y) where Self.lower(p) != Self.lower(q) { return false }
        }
        return true
    }

    public func hash(into hasher: inout Hasher) {
        for label in self.labels {
            hasher.combine(label.count)
            for b in label { hasher.combine(Self.lower(b)) }
        }
    }
}

public enum DNSNameError: Error, Equatable, CustomStringConvertible {
    case emptyLabel(String)
    case labelTooLong(String)
    case nameTooLong(String)
    case badEscape(String)

    public var description: String {
        switch self {
        case .emptyLabel(let s): return "dns name \(quoted(s)): empty label"
        case .labelTooLong(let s): return "dns name \(quoted(s)): label longer than 63 octets"
        case .nameTooLong(let s): return "dns name \(quoted(s)): longer than 255 octets"
        case .badEscape(let s): return "dns name \(quoted(s)): bad backslash escape"
        }
    }
}

func quoted(_ s: String) -> String {
    "\"" + s.replacing("\\", with: "\\\\").replacing("\"", with: "\\\"") + "\""
}
