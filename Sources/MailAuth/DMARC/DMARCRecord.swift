// A DMARC policy record (RFC 7489 6.3, 6.4), parsed from its TXT value.

public enum DMARCPolicy: String, Hashable, Sendable {
    case none, quarantine, reject
}

public enum DMARCAlignment: String, Hashable, Sendable {
    case relaxed = "r"
    case strict = "s"
}

/// A reporting address of rua= or ruf=: a URI with an optional size limit (RFC 7489 6.4).
public struct DMARCURI: Hashable, Sendable, CustomStringConvertible {
    public var address: String
    /// 0 for no limit.
    public var maxSize: UInt64
    /// "", "k", "m", "g" or "t".
    public var unit: String

    public init(address: String, maxSize: UInt64 = 0, unit: String = "") {
        self.address = address
        self.maxSize = maxSize
        self.unit = unit
    }

    public var description: String {
        var s = self.address.replacingAll(",", with: "%2C").replacingAll("!", with: "%21")
        if self.maxSize > 0 { s += "!\(self.maxSize)" }
        return s + self.unit
    }
}

public struct DMARCRecord: Hashable, Sendable, CustomStringConvertible {
    public var version = "DMARC1"
    public var policy: DMARCPolicy = .none
    /// sp=; nil when absent (then p= applies to subdomains too).
    public var subdomainPolicy: DMARCPolicy?
    public var aggregateReportAddresses: [DMARCURI] = []
    public var failureReportAddresses: [DMARCURI] = []
    public var adkim: DMARCAlignment = .relaxed
    public var aspf: DMARCAlignment = .relaxed
    /// ri=, seconds.
    public var aggregateReportingInterval = 86400
    public var failureReportingOptions = ["0"]
    public var reportingFormat = ["afrf"]
    /// pct=, 0 to 100.
    public var percentage = 100

    public init() {}

    /// RFC 7489 6.4: parses a record. Returns nil when the text is not a DMARC record at all
    /// (it does not start with "v=DMARC1;"), so other TXT records at the name are skipped;
    /// throws for a DMARC record with bad syntax. `requirePolicy`: p= must be present, as at
    /// _dmarc names (not for the external reporting records of RFC 7489 7.1).
    public static func parse(_ text: String, requirePolicy: Bool = true) throws(DMARCSyntaxError) -> DMARCRecord? {
        var p = TagCursor(Array(text.utf8))
        // RFC 7489 6.4: "v=DMARC1" must come first; "DMARC1" is case-sensitive.
        guard p.takeLower("v") else { return nil }
        p.skipSpace()
        guard p.takeLower("=") else { return nil }
        p.skipSpace()
        guard p.takeExact("DMARC1") else { return nil }
        p.skipSpace()
        guard p.takeLower(";") else { return nil }
        var r = DMARCRecord()
        var seen: Set<String> = []
        var sawPolicy = false
        var badSubdomainPolicy = false
        while true {
            p.skipSpace()
            if p.atEnd { break }
            guard let tag = p.word() else { throw p.error("expected tag name") }
            let name = tag.lowercased()
            guard seen.insert(name).inserted else { throw p.error("duplicate tag \"\(tag)\"") }
            p.skipSpace()
            guard p.takeLower("=") else { throw p.error("expected \"=\" after \(tag)") }
            p.skipSpace()
            switch name {
            case "p":
                // RFC 7489 6.3: p= must come right after v=.
                guard seen.count == 1 else { throw p.error("p= (policy) must be the first tag after v=") }
                guard let v = p.oneOf(["none", "quarantine", "reject"]) else {
                    throw p.error("policy must be none, quarantine or reject")
                }
                r.policy = DMARCPolicy(rawValue: v)!
                sawPolicy = true
            case "sp":
                guard let v = p.keyword() else { throw p.error("expected subdomain policy") }
                if let policy = DMARCPolicy(rawValue: v.lowercased()) {
                    r.subdomainPolicy = policy
                } else {
                    badSubdomainPolicy = true
                }
            case "rua", "ruf":
                var list = [try p.uri()]
                p.skipSpace()
                while p.takeLower(",") {
                    p.skipSpace()
                    list.append(try p.uri())
                    p.skipSpace()
                }
                if name == "rua" { r.aggregateReportAddresses = list } else { r.failureReportAddresses = list }
            case "adkim", "aspf":
                guard let v = p.oneOf(["r", "s"]) else { throw p.error("\(tag) must be r or s") }
                if name == "adkim" { r.adkim = DMARCAlignment(rawValue: v)! } else { r.aspf = DMARCAlignment(rawValue: v)! }
            case "ri":
                guard let n = p.number() else { throw p.error("ri= must be a number") }
                r.aggregateReportingInterval = n
            case "fo":
                var list: [String] = []
                repeat {
                    p.skipSpace()
                    guard let v = p.oneOf(["0", "1", "d", "s"]) else { throw p.error("fo= options are 0, 1, d and s") }
                    list.append(v)
                    p.skipSpace()
                } while p.takeLower(":")
                r.failureReportingOptions = list
            case "rf":
                var list: [String] = []
                repeat {
                    p.skipSpace()
                    guard let v = p.keyword() else { throw p.error("expected report format") }
                    list.append(v)
                    p.skipSpace()
                } while p.takeLower(":")
                r.reportingFormat = list
            case "pct":
                guard let n = p.number() else { throw p.error("pct= must be a number") }
                guard n <= 100 else { throw p.error("bad percentage \(n)") }
                r.percentage = n
            default:
                // RFC 7489 6.3: unknown tags are ignored.
                p.skipValue()
            }
            p.skipSpace()
            if !p.takeLower(";") && !p.atEnd { throw p.error("expected \";\"") }
        }
        // RFC 7489 6.6.3: a record without a valid p= (or with a bad sp=) still counts when it
        // has a valid rua=, as p=none; otherwise it is an error.
        if requirePolicy && (!sawPolicy || badSubdomainPolicy) {
            guard !r.aggregateReportAddresses.isEmpty else {
                throw DMARCSyntaxError("invalid (subdomain) policy and no valid aggregate reporting address", remaining: "")
            }
            r.policy = .none
            r.subdomainPolicy = nil
        }
        return r
    }

    /// The record in its TXT form (tags joined by ";", as mox prints them), defaults left out.
    public var description: String {
        var parts = ["v=\(self.version)", "p=\(self.policy.rawValue)"]
        if let sp = self.subdomainPolicy { parts.append("sp=\(sp.rawValue)") }
        if !self.aggregateReportAddresses.isEmpty {
            parts.append("rua=" + self.aggregateReportAddresses.map(\.description).joined(separator: ","))
        }
        if !self.failureReportAddresses.isEmpty {
            parts.append("ruf=" + self.failureReportAddresses.map(\.description).joined(separator: ","))
        }
        if self.adkim != .relaxed { parts.append("adkim=\(self.adkim.rawValue)") }
        if self.aspf != .relaxed { parts.append("aspf=\(self.aspf.rawValue)") }
        if self.aggregateReportingInterval != 86400 { parts.append("ri=\(self.aggregateReportingInterval)") }
        if self.failureReportingOptions != ["0"] { parts.append("fo=" + self.failureReportingOptions.joined(separator: ":")) }
        if self.reportingFormat.map({ $0.lowercased() }) != ["afrf"] { parts.append("rf=" + self.reportingFormat.joined(separator: ":")) }
        if self.percentage != 100 { parts.append("pct=\(self.percentage)") }
        return parts.joined(separator: ";")
    }
}

public struct DMARCSyntaxError: Error, Hashable, Sendable, CustomStringConvertible {
    public var message: String
    public var remaining: String

    public init(_ message: String, remaining: String) {
        self.message = message
        self.remaining = remaining
    }

    public var description: String {
        self.remaining.isEmpty ? "dmarc: \(self.message)" : "dmarc: \(self.message) (at \"\(self.remaining)\")"
    }
}

/// A cursor over a record's bytes for the tag-list syntax of RFC 7489 6.4.
struct TagCursor {
    let bytes: [UInt8]
    var offset = 0

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    var atEnd: Bool { self.offset >= self.bytes.count }

    func error(_ message: String) -> DMARCSyntaxError {
        DMARCSyntaxError(message, remaining: String(decoding: self.bytes[min(self.offset, self.bytes.count)...], as: UTF8.self))
    }

    mutating func skipSpace() {
        while !self.atEnd, self.bytes[self.offset] == 0x20 || self.bytes[self.offset] == 0x09 { self.offset += 1 }
    }

    /// Takes `s` (lowercase ASCII) case-insensitively.
    mutating func takeLower(_ s: String) -> Bool {
        let want = Array(s.utf8)
        guard self.offset + want.count <= self.bytes.count else { return false }
        for (i, b) in want.enumerated() {
            var c = self.bytes[self.offset + i]
            if c >= 0x41 && c <= 0x5A { c += 0x20 }
            if c != b { return false }
        }
        self.offset += want.count
        return true
    }

    mutating func takeExact(_ s: String) -> Bool {
        let want = Array(s.utf8)
        guard self.offset + want.count <= self.bytes.count, Array(self.bytes[self.offset..<self.offset + want.count]) == want else {
            return false
        }
        self.offset += want.count
        return true
    }

    mutating func oneOf(_ options: [String]) -> String? {
        for option in options where self.takeLower(option) { return option }
        return nil
    }

    mutating func span(_ accept: (UInt8, Int) -> Bool) -> String? {
        let start = self.offset
        while !self.atEnd, accept(self.bytes[self.offset], self.offset - start) { self.offset += 1 }
        return self.offset > start ? String(decoding: self.bytes[start..<self.offset], as: UTF8.self) : nil
    }

    static func isAlnum(_ b: UInt8) -> Bool {
        (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A)
    }

    mutating func word() -> String? { self.span { b, _ in Self.isAlnum(b) } }

    /// RFC 7489 6.4 keyword: alphanumerics with inner hyphens.
    mutating func keyword() -> String? {
        let bytes = self.bytes
        let start = self.offset
        return self.span { b, i in
            if Self.isAlnum(b) { return true }
            let at = start + i
            return b == 0x2D && at + 1 < bytes.count && Self.isAlnum(bytes[at + 1])
        }
    }

    mutating func number() -> Int? {
        guard let digits = self.span({ b, _ in b >= 0x30 && b <= 0x39 }) else { return nil }
        return Int(digits)
    }

    mutating func skipValue() {
        while !self.atEnd, self.bytes[self.offset] != 0x3B { self.offset += 1 }
    }

    /// RFC 7489 6.4 dmarc-uri: a URI with a scheme, optionally "!" and a size with unit.
    mutating func uri() throws(DMARCSyntaxError) -> DMARCURI {
        guard let text = self.span({ b, _ in b != 0x2C && b != 0x20 && b != 0x09 && b != 0x3B }) else {
            throw self.error("expected uri")
        }
        let parts = text.split(separator: "!", maxSplits: 1, omittingEmptySubsequences: false)
        let address = String(parts[0])
        // RFC 3986 3.1: scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) ":".
        guard let colon = address.firstIndex(of: ":"), colon > address.startIndex,
            address[..<colon].utf8.first.map({ ($0 | 0x20) >= 0x61 && ($0 | 0x20) <= 0x7A }) == true,
            address[..<colon].utf8.allSatisfy({ Self.isAlnum($0) || $0 == 0x2B || $0 == 0x2D || $0 == 0x2E })
        else {
            throw self.error("missing scheme in uri \"\(address)\"")
        }
        var uri = DMARCURI(address: address, maxSize: 0, unit: "")
        if parts.count == 2 {
            var size = String(parts[1])
            if let last = size.last, "kKmMgGtT".contains(last) {
                uri.unit = last.lowercased()
                size.removeLast()
            }
            guard let n = UInt64(size) else { throw self.error("bad size in uri \"\(text)\"") }
            uri.maxSize = n
        }
        return uri
    }
}

extension String {
    func replacingAll(_ target: String, with replacement: String) -> String {
        self.split(separator: target, omittingEmptySubsequences: false).joined(separator: replacement)
    }
}
