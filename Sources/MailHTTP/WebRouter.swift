// Which handler serves a request, in mox's order: the system handlers (metrics, autoconfig,
// MTA-STS), then domains.conf's WebDomainRedirects and WebHandlers (on ports with the webserver),
// then the account/admin/webmail/webapi services, else 404. Pure: no I/O.

import MailAddress
import MailConfig

/// The request's Host, without port: an IP address, a domain, or neither (unparsable or absent).
public enum RequestHost: Equatable, Sendable {
    case ip(String)
    case domain(Domain)
    case none

    public init(header: String) {
        var host = Substring(header)
        if host.hasPrefix("[") {
            // [v6]:port
            if let close = host.firstIndex(of: "]") {
                self = .ip(String(host[host.index(after: host.startIndex)..<close]))
                return
            }
            self = .none
            return
        }
        if let colon = host.lastIndex(of: ":"), host.firstIndex(of: ":") == colon {
            host = host[..<colon]
        }
        if host.isEmpty {
            self = .none
        } else if Self.isIPv4(host) || host.contains(":") {
            self = .ip(String(host))
        } else if let domain = Domain.parse(String(host).lowercased()) {
            self = .domain(domain)
        } else {
            self = .none
        }
    }

    static func isIPv4(_ s: Substring) -> Bool {
        let parts = s.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 4 && parts.allSatisfy { !$0.isEmpty && $0.count <= 3 && $0.allSatisfy(\.isNumber) && Int($0)! < 256 }
    }

    public var domain: Domain? {
        if case .domain(let d) = self { return d }
        return nil
    }
}

/// Percent-decodes a request path and cleans it as mox does (Go's path.Clean, keeping a trailing
/// slash): "." and ".." segments resolved, never above the root, repeated slashes collapsed.
/// Nil when the encoding is invalid.
public func cleanRequestPath(_ raw: String) -> String? {
    if isCleanPath(raw) { return raw }
    guard let decoded = percentDecode(raw) else { return nil }
    var segments: [Substring] = []
    for segment in decoded.split(separator: "/", omittingEmptySubsequences: true) {
        if segment == "." { continue }
        if segment == ".." {
            if !segments.isEmpty { segments.removeLast() }
            continue
        }
        segments.append(segment)
    }
    var path = "/" + segments.joined(separator: "/")
    if decoded.hasSuffix("/") && path != "/" { path += "/" }
    return path
}

/// Whether a path is already what cleaning makes of it: starts with "/", no percent escapes, no
/// empty, "." or ".." segments (a trailing slash is kept).
func isCleanPath(_ path: String) -> Bool {
    var utf8 = path.utf8.makeIterator()
    guard utf8.next() == UInt8(ascii: "/") else { return false }
    // Length of the current segment so far, and whether it is all dots.
    var length = 0
    var dots = true
    while let b = utf8.next() {
        switch b {
        case UInt8(ascii: "%"):
            return false
        case UInt8(ascii: "/"):
            if length == 0 || (dots && length <= 2) { return false }
            length = 0
            dots = true
        default:
            length += 1
            if b != UInt8(ascii: ".") { dots = false }
        }
    }
    return !(dots && length > 0 && length <= 2)
}

func percentDecode(_ s: String) -> String? {
    guard s.utf8.contains(UInt8(ascii: "%")) else { return s }
    var out: [UInt8] = []
    out.reserveCapacity(s.utf8.count)
    var bytes = s.utf8.makeIterator()
    while let b = bytes.next() {
        if b == UInt8(ascii: "%") {
            guard let h = bytes.next(), let l = bytes.next(), let hv = hexValue(h), let lv = hexValue(l) else { return nil }
            out.append(hv << 4 | lv)
        } else {
            out.append(b)
        }
    }
    return String(validating: out, as: UTF8.self)
}

func hexValue(_ b: UInt8) -> UInt8? {
    switch b {
    case UInt8(ascii: "0")...UInt8(ascii: "9"): return b - UInt8(ascii: "0")
    case UInt8(ascii: "a")...UInt8(ascii: "f"): return b - UInt8(ascii: "a") + 10
    case UInt8(ascii: "A")...UInt8(ascii: "F"): return b - UInt8(ascii: "A") + 10
    default: return nil
    }
}

/// A system handler: served before the webserver and the services, not overridable.
public enum SystemRoute: Equatable, Sendable {
    case metrics
    case metricsIndex
    case autoconfig
    case autodiscover
    case mobileconfig
    case mtasts

    /// The handler name in logs and metrics, as mox names it.
    public var name: String {
        switch self {
        case .metrics, .metricsIndex: "metrics"
        case .autoconfig: "autoconfig"
        case .autodiscover: "autodiscover"
        case .mobileconfig: "mobileconfig"
        case .mtasts: "mtasts"
        }
    }
}

public enum WebRouter {
    /// The system handler for a request on `port`, if any.
    public static func systemRoute(port: WebPort, host: RequestHost, path: String, config: Config) -> SystemRoute? {
        if port.metrics {
            if path == "/metrics" { return .metrics }
            if path == "/" { return .metricsIndex }
        }
        if port.autoconfig, Self.autoconfigHostMatches(host, config) {
            switch path {
            case "/mail/config-v1.1.xml": return .autoconfig
            case "/autodiscover/autodiscover.xml": return .autodiscover
            case "/profile.mobileconfig": return .mobileconfig
            default: break
            }
        }
        if port.mtasts, path == "/.well-known/mta-sts.txt", let domain = host.domain, domain.ascii.hasPrefix("mta-sts.") {
            return .mtasts
        }
        return nil
    }

    /// Autoconfig answers for the mail server's own host names and the configured domains
    /// (not reports-only ones), with or without an "autoconfig." label in front; never for IPs.
    static func autoconfigHostMatches(_ host: RequestHost, _ config: Config) -> Bool {
        guard var name = host.domain?.ascii else { return false }
        if name.hasPrefix("autoconfig.") { name.removeFirst("autoconfig.".count) }
        if name == config.staticConfig.hostname.lowercased() { return true }
        if let public_ = config.staticConfig.listeners["public"], !public_.hostname.isEmpty,
            name == public_.hostname.lowercased()
        {
            return true
        }
        return Self.configuredDomain(name, config) != nil
    }

    /// The domains.conf domain for an ASCII name, if configured.
    static func configuredDomain(_ ascii: String, _ config: Config) -> DomainConfig? {
        if let d = config.dynamicConfig.domains[ascii] { return d }
        for (name, d) in config.dynamicConfig.domains where Domain.parse(name)?.ascii == ascii {
            return d
        }
        return nil
    }

    /// A WebDomainRedirects entry for the host: the domain to redirect to.
    public static func domainRedirect(host: RequestHost, config: Config) -> String? {
        guard let domain = host.domain else { return nil }
        for (from, to) in config.dynamicConfig.webDomainRedirects where Domain.parse(from)?.ascii == domain.ascii {
            return Domain.parse(to)?.ascii ?? to
        }
        return nil
    }

    /// The WebHandlers that match the request, from `start` on, in config order: the index and the
    /// part of the path the PathRegexp matched.
    public static func webHandlerMatch(
        host: RequestHost,
        path: String,
        handlers: [CompiledWebHandler],
        from start: Int
    ) -> (index: Int, matched: String)? {
        guard let domain = host.domain, start < handlers.count else { return nil }
        for index in start..<handlers.count {
            let handler = handlers[index]
            guard handler.domain == domain.ascii, let matched = handler.path?.match(path) else { continue }
            return (index, matched)
        }
        return nil
    }
}

/// A WebHandler with its regular expressions compiled once per configuration.
public struct CompiledWebHandler: @unchecked Sendable {
    public let config: WebHandler
    /// The handler's name in logs and metrics: LogName, or its index.
    public let name: String
    public let domain: String
    public let path: PathPattern?
    public let origPathRegex: Regex<AnyRegexOutput>?

    public init(_ config: WebHandler, index: Int) {
        self.config = config
        self.name = config.logName.isEmpty ? String(index) : config.logName
        self.domain = Domain.parse(config.domain)?.ascii ?? config.domain.lowercased()
        self.path = PathPattern(config.pathRegexp)
        if let redirect = config.webRedirect, !redirect.origPathRegexp.isEmpty {
            self.origPathRegex = try? Regex(redirect.origPathRegexp)
        } else {
            self.origPathRegex = nil
        }
    }

    public static func compile(_ handlers: [WebHandler]) -> [CompiledWebHandler] {
        handlers.enumerated().map { CompiledWebHandler($0.element, index: $0.offset) }
    }
}

/// A WebHandler's PathRegexp. Matched as mox does (the leftmost match anywhere in the path,
/// Go's FindStringIndex; validation requires a leading "^", so in practice a prefix). A pattern
/// that is "^" and literal text, as most are ("^/static/"), is compared as a prefix without
/// running the regular expression engine.
public enum PathPattern: @unchecked Sendable {
    case prefix(String)
    case regex(Regex<AnyRegexOutput>)

    public init?(_ pattern: String) {
        if let literal = Self.literalPrefix(pattern) {
            self = .prefix(literal)
        } else if let regex = try? Regex(pattern) {
            self = .regex(regex)
        } else {
            return nil
        }
    }

    /// The text that matches: nil when the path does not match.
    public func match(_ path: String) -> String? {
        switch self {
        case .prefix(let literal):
            return path.hasPrefix(literal) ? literal : nil
        case .regex(let regex):
            guard let match = try? regex.firstMatch(in: path) else { return nil }
            return String(path[match.range])
        }
    }

    /// For "^" followed by characters without special meaning in RE2 syntax (backslash-escaped
    /// punctuation counts as the character), the text they match.
    static func literalPrefix(_ pattern: String) -> String? {
        guard pattern.hasPrefix("^") else { return nil }
        let special: Set<Character> = ["\\", ".", "+", "*", "?", "(", ")", "|", "[", "]", "{", "}", "^", "$"]
        var literal = ""
        var escaped = false
        for c in pattern.dropFirst() {
            if escaped {
                // \d, \w, \b and the like are classes or assertions, not characters.
                guard c.isPunctuation || c.isSymbol else { return nil }
                literal.append(c)
                escaped = false
            } else if c == "\\" {
                escaped = true
            } else if special.contains(c) {
                return nil
            } else {
                literal.append(c)
            }
        }
        return escaped ? nil : literal
    }
}
