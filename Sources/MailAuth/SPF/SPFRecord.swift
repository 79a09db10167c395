// SPF records (RFC 7208 4.5, 5, 6, 12): parsing with precise errors, and formatting back.

import MailAddress

/// A parsed SPF record: its directives in order, and the modifiers.
public struct SPFRecord: Hashable, Sendable, CustomStringConvertible {
    public var directives: [SPFDirective] = []
    /// RFC 7208 6.1 redirect=, as a domain-spec (may hold macros).
    public var redirect: String?
    /// RFC 7208 6.2 exp=.
    public var explanation: String?
    /// Modifiers this implementation does not know (RFC 7208 6: ignored).
    public var otherModifiers: [(name: String, value: String)] = []

    public init() {}

    public static func == (a: SPFRecord, b: SPFRecord) -> Bool {
        a.directives == b.directives && a.redirect == b.redirect && a.explanation == b.explanation
            && a.otherModifiers.map(\.name) == b.otherModifiers.map(\.name)
            && a.otherModifiers.map(\.value) == b.otherModifiers.map(\.value)
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(self.directives)
        hasher.combine(self.redirect)
        hasher.combine(self.explanation)
    }

    /// The record as text, "v=spf1 ..." with default qualifiers left out.
    public var description: String {
        var parts = ["v=spf1"]
        parts += self.directives.map(\.description)
        if let redirect { parts.append("redirect=\(redirect)") }
        if let explanation { parts.append("exp=\(explanation)") }
        parts += self.otherModifiers.map { "\($0.name)=\($0.value)" }
        return parts.joined(separator: " ")
    }
}

/// RFC 7208 4.6.2: what a matching mechanism makes the result.
public enum SPFQualifier: String, Hashable, Sendable {
    case pass = "+"
    case fail = "-"
    case softfail = "~"
    case neutral = "?"

    var result: SPFStatus {
        switch self {
        case .pass: return .pass
        case .fail: return .fail
        case .softfail: return .softfail
        case .neutral: return .neutral
        }
    }
}

public struct SPFDirective: Hashable, Sendable, CustomStringConvertible {
    public var qualifier: SPFQualifier
    public var mechanism: SPFMechanism

    public init(qualifier: SPFQualifier = .pass, mechanism: SPFMechanism) {
        self.qualifier = qualifier
        self.mechanism = mechanism
    }

    public var description: String {
        (self.qualifier == .pass ? "" : self.qualifier.rawValue) + self.mechanism.description
    }
}

/// RFC 7208 5: the mechanisms. Domain specs are kept as text: they may hold macros, expanded
/// at evaluation.
public enum SPFMechanism: Hashable, Sendable, CustomStringConvertible {
    case all
    case include(String)
    case a(String?, ip4: Int?, ip6: Int?)
    case mx(String?, ip4: Int?, ip6: Int?)
    case ptr(String?)
    case ip4(IPAddress, prefix: Int)
    case ip6(IPAddress, prefix: Int)
    case exists(String)

    /// The mechanism's name, as in mox's "mechanism=" of Received-SPF.
    public var name: String {
        switch self {
        case .all: return "all"
        case .include: return "include"
        case .a: return "a"
        case .mx: return "mx"
        case .ptr: return "ptr"
        case .ip4: return "ip4"
        case .ip6: return "ip6"
        case .exists: return "exists"
        }
    }

    public var description: String {
        func dual(_ ip4: Int?, _ ip6: Int?) -> String {
            (ip4.map { "/\($0)" } ?? "") + (ip6.map { "//\($0)" } ?? "")
        }
        switch self {
        case .all: return "all"
        case .include(let d): return "include:\(d)"
        case .a(let d, let ip4, let ip6): return "a" + (d.map { ":\($0)" } ?? "") + dual(ip4, ip6)
        case .mx(let d, let ip4, let ip6): return "mx" + (d.map { ":\($0)" } ?? "") + dual(ip4, ip6)
        case .ptr(let d): return "ptr" + (d.map { ":\($0)" } ?? "")
        case .ip4(let ip, let p): return "ip4:\(ip)" + (p == 32 ? "" : "/\(p)")
        case .ip6(let ip, let p): return "ip6:\(ip)" + (p == 128 ? "" : "/\(p)")
        case .exists(let d): return "exists:\(d)"
        }
    }
}

/// Why a record does not parse: the term and the reason.
public struct SPFSyntaxError: Error, Hashable, Sendable, CustomStringConvertible {
    public var term: String
    public var reason: String

    public init(term: String, _ reason: String) {
        self.term = term
        self.reason = reason
    }

    public var description: String { "invalid spf term \"\(self.term)\": \(self.reason)" }
}

extension SPFRecord {
    /// RFC 7208 4.5: whether a TXT record is an SPF record at all: "v=spf1" alone or followed
    /// by a space, in any case.
    public static func isSPF(_ text: String) -> Bool {
        let lower = text.lowercased()
        return lower == "v=spf1" || lower.hasPrefix("v=spf1 ")
    }

    /// Parses an SPF record. Throws for a record that is SPF (see `isSPF`) but has bad syntax,
    /// and for text that is not SPF.
    public init(parsing text: String) throws(SPFSyntaxError) {
        guard Self.isSPF(text) else { throw SPFSyntaxError(term: String(text.prefix(20)), "not an spf record (no v=spf1)") }
        self.init()
        // RFC 7208 12: terms are separated by one or more SP; trailing spaces are allowed.
        for term in text.dropFirst(6).split(separator: " ", omittingEmptySubsequences: true).map(String.init) {
            try self.parseTerm(term)
        }
    }

    mutating func parseTerm(_ term: String) throws(SPFSyntaxError) {
        // A modifier is name "=" value, where name starts with a letter (RFC 7208 12).
        if let eq = term.firstIndex(of: "="), let first = term.first, first.isASCII, first.isLetter,
            term[..<eq].allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "-_.".contains($0)) })
        {
            let name = term[..<eq].lowercased()
            let value = String(term[term.index(after: eq)...])
            switch name {
            case "redirect":
                // RFC 7208 6: redirect and exp at most once each.
                guard self.redirect == nil else { throw SPFSyntaxError(term: term, "more than one redirect modifier") }
                try Self.checkDomainSpec(value, term: term)
                self.redirect = value
            case "exp":
                guard self.explanation == nil else { throw SPFSyntaxError(term: term, "more than one exp modifier") }
                try Self.checkDomainSpec(value, term: term)
                self.explanation = value
            default:
                try SPFMacro.check(value, term: term, explanation: false)
                self.otherModifiers.append((name: String(term[..<eq]), value: value))
            }
            return
        }
        var rest = Substring(term)
        var qualifier = SPFQualifier.pass
        if let q = rest.first.flatMap({ SPFQualifier(rawValue: String($0)) }) {
            qualifier = q
            rest = rest.dropFirst()
        }
        // The mechanism's name: up to ":" or "/".
        let nameEnd = rest.firstIndex(where: { $0 == ":" || $0 == "/" }) ?? rest.endIndex
        let name = rest[..<nameEnd].lowercased()
        var argument = rest[nameEnd...]
        func domainSpec(required: Bool, cidr: Bool = false) throws(SPFSyntaxError) -> String? {
            guard argument.first == ":" else {
                if required { throw SPFSyntaxError(term: term, "\(name) needs a domain") }
                return nil
            }
            argument = argument.dropFirst()
            // RFC 7208 7.1: a macro-literal may hold ":" and "/" (the openspf suite's
            // "a:foo:bar/baz.example.com"), so for a and mx only a dual-cidr-length at the very
            // end ends the domain-spec.
            let end = cidr ? Self.cidrSuffixStart(argument) : argument.endIndex
            let spec = String(argument[..<end])
            argument = argument[end...]
            try Self.checkDomainSpec(spec, term: term)
            return spec
        }
        func dualCIDR() throws(SPFSyntaxError) -> (Int?, Int?) {
            // RFC 7208 5.6: dual-cidr-length = [ ip4-cidr-length ] [ "/" ip6-cidr-length ]
            var ip4: Int?
            var ip6: Int?
            if argument.hasPrefix("/"), !argument.hasPrefix("//") {
                argument = argument.dropFirst()
                ip4 = try Self.cidr(&argument, max: 32, term: term)
            }
            if argument.hasPrefix("//") {
                argument = argument.dropFirst(2)
                ip6 = try Self.cidr(&argument, max: 128, term: term)
            }
            return (ip4, ip6)
        }
        let mechanism: SPFMechanism
        switch name {
        case "all":
            mechanism = .all
        case "include":
            mechanism = .include(try domainSpec(required: true)!)
        case "a":
            let d = try domainSpec(required: false, cidr: true)
            let (ip4, ip6) = try dualCIDR()
            mechanism = .a(d, ip4: ip4, ip6: ip6)
        case "mx":
            let d = try domainSpec(required: false, cidr: true)
            let (ip4, ip6) = try dualCIDR()
            mechanism = .mx(d, ip4: ip4, ip6: ip6)
        case "ptr":
            mechanism = .ptr(try domainSpec(required: false))
        case "exists":
            mechanism = .exists(try domainSpec(required: true)!)
        case "ip4", "ip6":
            guard argument.first == ":" else { throw SPFSyntaxError(term: term, "\(name) needs an address") }
            argument = argument.dropFirst()
            let end = argument.firstIndex(of: "/") ?? argument.endIndex
            let text = String(argument[..<end])
            argument = argument[end...]
            guard let ip = IPAddress(text), ip.isIPv4 == (name == "ip4"), !(name == "ip4" && text.contains(":")) else {
                throw SPFSyntaxError(term: term, "invalid \(name == "ip4" ? "ipv4" : "ipv6") address \"\(text)\"")
            }
            var prefix = name == "ip4" ? 32 : 128
            if argument.hasPrefix("/") {
                argument = argument.dropFirst()
                prefix = try Self.cidr(&argument, max: prefix, term: term)
            }
            mechanism = name == "ip4" ? .ip4(ip, prefix: prefix) : .ip6(ip, prefix: prefix)
        default:
            throw SPFSyntaxError(term: term, "unknown mechanism \"\(name)\"")
        }
        guard argument.isEmpty else { throw SPFSyntaxError(term: term, "unexpected \"\(argument)\"") }
        self.directives.append(SPFDirective(qualifier: qualifier, mechanism: mechanism))
    }

    /// Where a trailing dual-cidr-length ("/24", "//64", "/24//64") starts in `s`; its end when
    /// there is none.
    static func cidrSuffixStart(_ s: Substring) -> Substring.Index {
        func digitsSuffix(_ t: Substring, slashes: Int) -> Substring.Index? {
            let digits = t.reversed().prefix(while: { $0.isASCII && $0.isNumber }).count
            guard digits > 0 else { return nil }
            let start = t.index(t.endIndex, offsetBy: -digits)
            let before = t[..<start]
            guard before.hasSuffix(String(repeating: "/", count: slashes)) else { return nil }
            // "/24" must not be the second half of "//24".
            if slashes == 1 && before.hasSuffix("//") { return nil }
            return t.index(start, offsetBy: -slashes)
        }
        var end = s.endIndex
        if let i = digitsSuffix(s[..<end], slashes: 2) { end = i }
        if let i = digitsSuffix(s[..<end], slashes: 1) { end = i }
        return end
    }

    // RFC 7208 12: ip4-cidr-length = "/" ("0" / %x31-39 0*1DIGIT), at most 32; ip6 at most 128.
    static func cidr(_ s: inout Substring, max: Int, term: String) throws(SPFSyntaxError) -> Int {
        let digits = s.prefix(while: { $0.isASCII && $0.isNumber })
        guard !digits.isEmpty, digits.count <= 3, !(digits.count > 1 && digits.first == "0"), let v = Int(digits), v <= max else {
            throw SPFSyntaxError(term: term, "invalid cidr length (0 to \(max))")
        }
        s = s.dropFirst(digits.count)
        return v
    }

    /// RFC 7208 7.1: domain-spec = macro-string domain-end; domain-end = ( "." toplabel [ "." ] )
    /// / macro-expand. A literal domain must end in a valid top label.
    static func checkDomainSpec(_ spec: String, term: String) throws(SPFSyntaxError) {
        guard !spec.isEmpty else { throw SPFSyntaxError(term: term, "empty domain") }
        try SPFMacro.check(spec, term: term, explanation: false)
        var s = Substring(spec)
        if s.hasSuffix("}") { return }
        if s.hasSuffix(".") { s = s.dropLast() }
        // The last label, after the last "." (possibly following a macro).
        let top = s.split(separator: ".", omittingEmptySubsequences: false).last ?? ""
        guard !top.isEmpty, !top.contains("%"), top.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") }),
            top.contains(where: { $0.isLetter }), top.first != "-", top.last != "-",
            s.contains(".") || spec.hasPrefix("%")
        else {
            throw SPFSyntaxError(term: term, "domain \"\(spec)\" does not end in a valid top-level label")
        }
    }
}
