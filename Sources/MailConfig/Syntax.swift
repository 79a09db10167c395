// Small syntax checks used while validating a configuration: domain names, IP addresses,
// localparts and addresses. They only say whether a value is acceptable and why not; parsing
// into typed values is the job of the modules that use the configuration.

enum ConfigSyntax {
    // MARK: - Domains

    /// Why `s` is not a domain name as the configuration must write it (Unicode form, lower
    /// case, no trailing dot), or nil when it is fine.
    static func domainProblem(_ s: String) -> String? {
        if s.isEmpty {
            return "empty domain name"
        }
        if s.hasSuffix(".") {
            return "domain name \"\(s)\" must not end with a dot"
        }
        if IPAddress(s) != nil {
            return "\"\(s)\" is an IP address, not a domain name"
        }
        if s.utf8.count > 253 {
            return "domain name \"\(s)\" is longer than 253 bytes"
        }
        for label in s.split(separator: ".", omittingEmptySubsequences: false) {
            if let problem = Self.labelProblem(label) {
                return "domain name \"\(s)\": \(problem)"
            }
        }
        return nil
    }

    private static func labelProblem(_ label: Substring) -> String? {
        if label.isEmpty {
            return "empty label"
        }
        if label.utf8.count > 63 {
            return "label \"\(label)\" is longer than 63 bytes"
        }
        if label.hasPrefix("-") || label.hasSuffix("-") {
            return "label \"\(label)\" starts or ends with a hyphen"
        }
        for c in label.unicodeScalars {
            switch c {
            case "a"..."z", "0"..."9", "-":
                continue
            case "A"..."Z":
                return "must be written in lower case"
            default:
                if c.value < 0x80 {
                    return "invalid character \"\(c)\" in label \"\(label)\""
                }
            }
        }
        return nil
    }

    // MARK: - Localparts and addresses

    private static let atomSpecials: Set<Unicode.Scalar> = [
        "!", "#", "$", "%", "&", "'", "*", "+", "-", "/", "=", "?", "^", "_", "`", "{", "|", "}", "~",
    ]

    /// Why `s` is not a localpart (RFC 5321 4.1.2, with UTF-8 as in RFC 6531), or nil.
    /// - SeeAlso: RFC 5321 4.1.2
    static func localpartProblem(_ s: String) -> String? {
        if s.isEmpty {
            return "empty localpart"
        }
        // In the wild, generated bounce addresses exceed RFC 5321's 64 octets; allow up to 128.
        if s.utf8.count > 128 {
            return "localpart longer than 128 bytes"
        }
        if s.hasPrefix("\"") {
            return Self.quotedStringProblem(s)
        }
        // Dot-string = Atom *("." Atom)
        for atom in s.split(separator: ".", omittingEmptySubsequences: false) {
            if atom.isEmpty {
                return "localpart \"\(s)\" has an empty part between dots"
            }
            for c in atom.unicodeScalars {
                let ok =
                    ("a"..."z").contains(c) || ("A"..."Z").contains(c) || ("0"..."9").contains(c)
                    || Self.atomSpecials.contains(c) || c.value > 0x7f
                if !ok {
                    return "invalid character \"\(c)\" in localpart \"\(s)\""
                }
            }
        }
        return nil
    }

    /// Quoted-string = DQUOTE *QcontentSMTP DQUOTE
    private static func quotedStringProblem(_ s: String) -> String? {
        var scalars = s.unicodeScalars.dropFirst()
        var escaped = false
        while let c = scalars.first {
            scalars = scalars.dropFirst()
            if escaped {
                guard c.value >= 0x20 && c.value < 0x7f else {
                    return "invalid escaped character in localpart \"\(s)\""
                }
                escaped = false
            } else if c == "\\" {
                escaped = true
            } else if c == "\"" {
                return scalars.isEmpty ? nil : "text after closing quote in localpart \"\(s)\""
            } else if c.value < 0x20 || c.value == 0x7f {
                return "control character in localpart \"\(s)\""
            }
        }
        return "missing closing quote in localpart \"\(s)\""
    }

    /// Splits `localpart@domain` at the last `@` and checks both parts. Returns the parts, or
    /// the problem.
    static func parseAddress(_ s: String) -> Result<(localpart: String, domain: String), AddressProblem> {
        guard let at = s.lastIndex(of: "@") else {
            return .failure(AddressProblem(reason: "\"\(s)\" is not an email address: missing @"))
        }
        let localpart = String(s[..<at])
        let domain = String(s[s.index(after: at)...])
        if let problem = Self.localpartProblem(localpart) {
            return .failure(AddressProblem(reason: "invalid email address \"\(s)\": \(problem)"))
        }
        if let problem = Self.domainProblem(domain) {
            return .failure(AddressProblem(reason: "invalid email address \"\(s)\": \(problem)"))
        }
        return .success((localpart, domain))
    }

    struct AddressProblem: Error {
        var reason: String
    }

    /// Whether `s` is non-empty printable ASCII (no control characters), as SMTP reply text must be.
    static func isPrintableASCII(_ s: String) -> Bool {
        s.unicodeScalars.allSatisfy { $0.value >= 0x20 && $0.value < 0x7f }
    }
}

// MARK: - IP addresses

/// An IPv4 or IPv6 address in the textual forms Go's net.ParseIP accepts: dotted decimal
/// without leading zeros, and RFC 4291 2.2 text forms, including `::` and an embedded IPv4 tail.
struct IPAddress: Equatable {
    /// 4 bytes for IPv4, 16 for IPv6.
    var bytes: [UInt8]

    var isIPv4: Bool { self.bytes.count == 4 || self.isIPv4Mapped }
    var isUnspecified: Bool { self.bytes.allSatisfy { $0 == 0 } }
    var isLoopback: Bool {
        if self.bytes.count == 4 {
            return self.bytes[0] == 127
        }
        if self.isIPv4Mapped {
            return self.bytes[12] == 127
        }
        return self.bytes == [UInt8](repeating: 0, count: 15) + [1]
    }
    private var isIPv4Mapped: Bool {
        self.bytes.count == 16 && self.bytes[0..<10].allSatisfy { $0 == 0 } && self.bytes[10] == 0xff
            && self.bytes[11] == 0xff
    }

    init?(_ s: String) {
        if s.contains(":") {
            guard let b = Self.parseIPv6(Substring(s)) else {
                return nil
            }
            self.bytes = b
        } else {
            guard let b = Self.parseIPv4(Substring(s)) else {
                return nil
            }
            self.bytes = b
        }
    }

    private static func parseIPv4(_ s: Substring) -> [UInt8]? {
        let parts = s.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else {
            return nil
        }
        var out: [UInt8] = []
        for p in parts {
            guard !p.isEmpty, p.count <= 3, p.allSatisfy({ $0.isASCII && $0.isNumber }),
                p.count == 1 || !p.hasPrefix("0"), let v = UInt8(p)
            else {
                return nil
            }
            out.append(v)
        }
        return out
    }

    private static func parseIPv6(_ s: Substring) -> [UInt8]? {
        var head: [UInt8] = []
        var tail: [UInt8] = []
        let halves = s.components(separatedBy: "::")
        guard halves.count <= 2 else {
            return nil
        }
        guard let h = Self.groups(Substring(halves[0])) else {
            return nil
        }
        head = h
        if halves.count == 2 {
            guard let t = Self.groups(Substring(halves[1])) else {
                return nil
            }
            tail = t
            guard head.count + tail.count <= 14 else {
                return nil
            }
            return head + [UInt8](repeating: 0, count: 16 - head.count - tail.count) + tail
        }
        return head.count == 16 ? head : nil
    }

    /// Colon-separated 16-bit groups, the last of which may be an IPv4 address.
    private static func groups(_ s: Substring) -> [UInt8]? {
        if s.isEmpty {
            return []
        }
        var out: [UInt8] = []
        let parts = s.split(separator: ":", omittingEmptySubsequences: false)
        for (i, p) in parts.enumerated() {
            if i == parts.count - 1 && p.contains(".") {
                guard let v4 = Self.parseIPv4(p) else {
                    return nil
                }
                out += v4
                continue
            }
            guard !p.isEmpty, p.count <= 4, let v = UInt16(p, radix: 16) else {
                return nil
            }
            out += [UInt8(v >> 8), UInt8(v & 0xff)]
        }
        return out
    }
}

extension Substring {
    /// Splits at every occurrence of `separator` (a multi-character string).
    fileprivate func components(separatedBy separator: String) -> [Substring] {
        var out: [Substring] = []
        var rest = self[...]
        while let r = rest.firstRange(of: separator) {
            out.append(rest[..<r.lowerBound])
            rest = rest[r.upperBound...]
        }
        out.append(rest)
        return out
    }
}
