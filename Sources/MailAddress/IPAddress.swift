// IP addresses as text and bytes: one parser and formatter for SMTP address literals, DNS
// (A/AAAA records, reverse names) and the authentication checks.

/// An IPv4 (4 bytes) or IPv6 (16 bytes) address.
public struct IPAddress: Hashable, Sendable, CustomStringConvertible {
    public let bytes: [UInt8]

    /// From 4 or 16 bytes.
    public init?(bytes: [UInt8]) {
        guard bytes.count == 4 || bytes.count == 16 else { return nil }
        self.bytes = bytes
    }

    /// From text: dotted IPv4, or IPv6 in any RFC 4291 2.2 form (an IPv4-mapped address
    /// stays IPv6; see `unmapped`).
    public init?(_ text: String) {
        let utf8 = Array(text.utf8)
        if let v4 = IPAddressText.parseIPv4(utf8) {
            self.bytes = v4
        } else if let v6 = IPAddressText.parseIPv6(utf8) {
            self.bytes = v6
        } else {
            return nil
        }
    }

    public var isIPv4: Bool { self.bytes.count == 4 }

    /// 0.0.0.0 or ::, "every address" in a listen configuration.
    public var isUnspecified: Bool { self.bytes.allSatisfy { $0 == 0 } }

    /// 127.0.0.0/8 (RFC 1122 3.2.1.3) or ::1 (RFC 4291 2.5.3).
    public var isLoopback: Bool {
        let a = self.unmapped
        if a.isIPv4 { return a.bytes[0] == 127 }
        return a.bytes[0..<15].allSatisfy { $0 == 0 } && a.bytes[15] == 1
    }

    /// RFC 1918 (10/8, 172.16/12, 192.168/16) and RFC 4193 unique local (fc00::/7) addresses.
    public var isPrivate: Bool {
        let a = self.unmapped
        if a.isIPv4 {
            return a.bytes[0] == 10 || (a.bytes[0] == 172 && a.bytes[1] & 0xf0 == 16) || (a.bytes[0] == 192 && a.bytes[1] == 168)
        }
        return a.bytes[0] & 0xfe == 0xfc
    }

    /// 169.254/16 (RFC 3927) or fe80::/10 (RFC 4291 2.5.6).
    public var isLinkLocal: Bool {
        let a = self.unmapped
        if a.isIPv4 { return a.bytes[0] == 169 && a.bytes[1] == 254 }
        return a.bytes[0] == 0xfe && a.bytes[1] & 0xc0 == 0x80
    }

    /// An IPv4-mapped IPv6 address (::ffff:a.b.c.d) as its IPv4 address; others unchanged.
    public var unmapped: IPAddress {
        if self.bytes.count == 16, self.bytes[0..<10].allSatisfy({ $0 == 0 }), self.bytes[10] == 0xff,
            self.bytes[11] == 0xff
        {
            return IPAddress(bytes: Array(self.bytes[12...]))!
        }
        return self
    }

    /// Dotted IPv4, or RFC 5952 text for IPv6.
    public var description: String {
        self.isIPv4 ? IPAddressText.formatIPv4(self.bytes) : IPAddressText.formatIPv6(self.bytes)
    }

    /// The name for a PTR lookup, without trailing dot. RFC 1035 3.5: the octets reversed under
    /// in-addr.arpa; RFC 3596 2.5: the nibbles reversed under ip6.arpa.
    public var reverseName: String {
        self.reversedLabels + (self.unmapped.isIPv4 ? ".in-addr.arpa" : ".ip6.arpa")
    }

    /// The address as reversed DNS labels without a zone: octets for IPv4 (RFC 1035 3.5), nibbles for
    /// IPv6 (RFC 3596 2.5). DNS blocklists use the same form under their own zone (RFC 5782 2.1, 2.4).
    public var reversedLabels: String {
        let address = self.unmapped
        if address.isIPv4 {
            return address.bytes.reversed().map { String($0) }.joined(separator: ".")
        }
        let hex = Array("0123456789abcdef")
        var labels: [String] = []
        for b in address.bytes.reversed() {
            labels.append(String(hex[Int(b & 0x0f)]))
            labels.append(String(hex[Int(b >> 4)]))
        }
        return labels.joined(separator: ".")
    }
}

/// Parsing and formatting of IP address text, with only the standard library.
public enum IPAddressText {
    // RFC 5321 4.1.3: IPv4-address-literal = Snum 3("."  Snum); Snum = 1*3DIGIT, 0-255.
    public static func parseIPv4<C: Collection>(_ s: C) -> [UInt8]? where C.Element == UInt8 {
        var out: [UInt8] = []
        var value = 0
        var digits = 0
        for b in s {
            if b >= UInt8(ascii: "0"), b <= UInt8(ascii: "9") {
                // No leading zeros ("01"), as Go's net.ParseIP and RFC 6943 3.1.1 advise.
                if digits == 1, value == 0 { return nil }
                value = value * 10 + Int(b - UInt8(ascii: "0"))
                digits += 1
                guard digits <= 3, value <= 255 else { return nil }
            } else if b == UInt8(ascii: "."), digits > 0, out.count < 3 {
                out.append(UInt8(value))
                value = 0
                digits = 0
            } else {
                return nil
            }
        }
        guard digits > 0, out.count == 3 else { return nil }
        out.append(UInt8(value))
        return out
    }

    // RFC 5321 4.1.3: IPv6-addr = IPv6-full / IPv6-comp / IPv6v4-full / IPv6v4-comp, i.e. the
    // usual text form of RFC 4291 2.2: eight groups, "::" for a run of zero groups, and an
    // optional dotted IPv4 address as the last 32 bits.
    public static func parseIPv6(_ s: [UInt8]) -> [UInt8]? {
        guard s.count >= 2, s.count <= 45 else { return nil }
        var head: [UInt16] = []
        var tail: [UInt16] = []
        var sawDoubleColon = false
        var i = 0
        if s.starts(with: [UInt8(ascii: ":"), UInt8(ascii: ":")]) {
            sawDoubleColon = true
            i = 2
        } else if s[0] == UInt8(ascii: ":") {
            return nil
        }
        while i < s.count {
            // An embedded IPv4 address: the rest of the string.
            var j = i
            while j < s.count, s[j] != UInt8(ascii: ":"), s[j] != UInt8(ascii: ".") {
                j += 1
            }
            if j < s.count, s[j] == UInt8(ascii: ".") {
                guard let v4 = parseIPv4(s[i...]) else { return nil }
                let a = UInt16(v4[0]) << 8 | UInt16(v4[1])
                let b = UInt16(v4[2]) << 8 | UInt16(v4[3])
                if sawDoubleColon { tail += [a, b] } else { head += [a, b] }
                i = s.count
                break
            }
            guard j > i, j - i <= 4 else { return nil }
            var v: UInt16 = 0
            for k in i..<j {
                guard let d = hexValue(s[k]) else { return nil }
                v = v << 4 | UInt16(d)
            }
            if sawDoubleColon { tail.append(v) } else { head.append(v) }
            i = j
            if i == s.count { break }
            // s[i] is ":".
            i += 1
            if i < s.count, s[i] == UInt8(ascii: ":") {
                guard !sawDoubleColon else { return nil }
                sawDoubleColon = true
                i += 1
            } else if i == s.count {
                // Trailing single colon.
                return nil
            }
        }
        let n = head.count + tail.count
        if sawDoubleColon {
            guard n <= 7 else { return nil }
        } else {
            guard n == 8 else { return nil }
        }
        let groups = head + Array(repeating: 0, count: 8 - n) + tail
        var out: [UInt8] = []
        for g in groups {
            out.append(UInt8(g >> 8))
            out.append(UInt8(g & 0xFF))
        }
        return out
    }

    public static func hexValue(_ b: UInt8) -> UInt8? {
        switch b {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return b - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return b - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return b - UInt8(ascii: "A") + 10
        default: return nil
        }
    }

    public static func formatIPv4(_ b: [UInt8]) -> String {
        b.map { String($0) }.joined(separator: ".")
    }

    /// RFC 5952 4: lower case, no leading zeros, the longest run (of at least two) of zero
    /// groups as "::".
    public static func formatIPv6(_ b: [UInt8]) -> String {
        guard b.count == 16 else { return "" }
        var groups: [UInt16] = []
        for i in stride(from: 0, to: 16, by: 2) {
            groups.append(UInt16(b[i]) << 8 | UInt16(b[i + 1]))
        }
        var bestStart = -1
        var bestLen = 0
        var i = 0
        while i < 8 {
            if groups[i] == 0 {
                var j = i
                while j < 8, groups[j] == 0 { j += 1 }
                if j - i > bestLen, j - i >= 2 {
                    bestStart = i
                    bestLen = j - i
                }
                i = j
            } else {
                i += 1
            }
        }
        func hex(_ g: UInt16) -> String { String(g, radix: 16) }
        if bestStart < 0 {
            return groups.map(hex).joined(separator: ":")
        }
        let left = groups[..<bestStart].map(hex).joined(separator: ":")
        let right = groups[(bestStart + bestLen)...].map(hex).joined(separator: ":")
        return left + "::" + right
    }
}
