/// MailAddress: email address values (localpart, domain with IDNA, address, SMTP path).
/// Pure: no Foundation, no NIO; other modules build on these types.

/// A DNS domain name as used in email: an ASCII form (lower case, "xn--" labels for
/// internationalized labels) and a Unicode form for display and SMTPUTF8.
public struct Domain: Hashable, Sendable, CustomStringConvertible {
    /// Lower-case ASCII form, with IDNA A-labels. Without trailing dot.
    public let ascii: String
    /// Unicode form (U-labels); equal to `ascii` when the name has no internationalized labels.
    public let unicode: String

    public enum ParseError: Error, Equatable, Sendable {
        case empty
        case tooLong
        case emptyLabel
        case labelTooLong(String)
        case invalidCharacter(String)
        case hyphenPlacement(String)
        case badPunycode(String)
    }

    // RFC 1035 2.3.4: labels at most 63 octets, names at most 255 octets (253 without length bytes).
    public static let maxLabelLength = 63
    public static let maxNameLength = 253

    /// Parses a domain in ASCII (optionally with xn-- labels) or Unicode form. A single
    /// trailing dot is accepted and dropped.
    public init(parsing text: String) throws(ParseError) {
        var text = text
        if text.hasSuffix(".") {
            text.removeLast()
        }
        guard !text.isEmpty else { throw .empty }
        var asciiLabels: [String] = []
        var unicodeLabels: [String] = []
        for rawLabel in text.split(separator: ".", omittingEmptySubsequences: false) {
            guard !rawLabel.isEmpty else { throw .emptyLabel }
            let label = String(rawLabel)
            if label.utf8.allSatisfy({ $0 < 0x80 }) {
                let lower = Self.asciiLowercased(label)
                try Self.checkASCIILabel(lower)
                if lower.hasPrefix("xn--") {
                    // RFC 5890 2.3.2.1: an A-label must decode to a valid U-label that encodes back to it.
                    let encoded = String(lower.dropFirst(4))
                    guard let decoded = Punycode.decode(encoded), !decoded.isEmpty,
                        decoded.unicodeScalars.contains(where: { $0.value >= 0x80 }),
                        decoded.unicodeScalars.allSatisfy({ Self.allowedUnicodeScalar($0) }),
                        Punycode.encode(decoded.lowercased()) == encoded
                    else { throw .badPunycode(label) }
                    unicodeLabels.append(decoded)
                } else {
                    unicodeLabels.append(lower)
                }
                asciiLabels.append(lower)
            } else {
                // Unicode label: lower case (a simplification of UTS 46 mapping), then Punycode. Every
                // scalar takes at least one octet of the A-label, which bounds the work.
                guard label.unicodeScalars.count <= Self.maxLabelLength else { throw .labelTooLong(label) }
                let lower = label.lowercased()
                guard lower.unicodeScalars.allSatisfy({ Self.allowedUnicodeScalar($0) }) else {
                    throw .invalidCharacter(label)
                }
                guard let encoded = Punycode.encode(lower) else { throw .badPunycode(label) }
                let alabel = "xn--" + encoded
                try Self.checkASCIILabel(alabel)
                asciiLabels.append(alabel)
                unicodeLabels.append(lower)
            }
        }
        let ascii = asciiLabels.joined(separator: ".")
        guard ascii.utf8.count <= Self.maxNameLength else { throw .tooLong }
        self.ascii = ascii
        self.unicode = unicodeLabels.joined(separator: ".")
    }

    /// Parses, returning nil instead of throwing.
    public static func parse(_ text: String) -> Domain? {
        try? Domain(parsing: text)
    }

    public var description: String { self.ascii }

    /// Whether any label is internationalized.
    public var isInternationalized: Bool { self.ascii != self.unicode }

    public static func == (a: Domain, b: Domain) -> Bool { a.ascii == b.ascii }
    public func hash(into hasher: inout Hasher) { hasher.combine(self.ascii) }

    static func asciiLowercased(_ s: String) -> String {
        String(
            decoding: s.utf8.map { $0 >= UInt8(ascii: "A") && $0 <= UInt8(ascii: "Z") ? $0 + 32 : $0 },
            as: UTF8.self
        )
    }

    // RFC 5321 4.1.2: sub-domain = Let-dig [Ldh-str]; letters, digits and hyphens, not ending in a hyphen.
    private static func checkASCIILabel(_ label: String) throws(ParseError) {
        let bytes = Array(label.utf8)
        guard bytes.count <= Self.maxLabelLength else { throw .labelTooLong(label) }
        for b in bytes {
            let ok =
                (b >= UInt8(ascii: "a") && b <= UInt8(ascii: "z")) || (b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9"))
                || b == UInt8(ascii: "-") || b == UInt8(ascii: "_")
            guard ok else { throw .invalidCharacter(label) }
        }
        guard bytes.first != UInt8(ascii: "-"), bytes.last != UInt8(ascii: "-") else {
            throw .hyphenPlacement(label)
        }
    }

    private static func allowedUnicodeScalar(_ s: Unicode.Scalar) -> Bool {
        if s.value < 0x80 {
            let b = UInt8(s.value)
            return (b >= UInt8(ascii: "a") && b <= UInt8(ascii: "z"))
                || (b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9"))
                || b == UInt8(ascii: "-")
        }
        // Reject controls, spaces and dot-like separators (IDNA2008 disallows them).
        switch s.properties.generalCategory {
        case .control, .spaceSeparator, .lineSeparator, .paragraphSeparator, .format, .unassigned, .privateUse,
            .surrogate:
            return false
        default:
            return s.value != 0x3002 && s.value != 0xFF0E && s.value != 0xFF61
        }
    }
}
