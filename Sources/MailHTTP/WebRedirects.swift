// Where WebRedirect sends a request, and which URL a WebForward asks its upstream for. Pure.

import MailConfig

/// The parts of an absolute or scheme-relative URL that redirects and forwards use.
public struct SimpleURL: Equatable, Sendable {
    public var scheme = ""
    /// Host with port, as written.
    public var host = ""
    public var path = ""
    public var query: String?
    public var fragment: String?

    /// Parses `scheme://host/path?query#fragment`, `//host...` or a bare path.
    public init?(_ text: String) {
        var rest = Substring(text)
        if let hash = rest.firstIndex(of: "#") {
            self.fragment = String(rest[rest.index(after: hash)...])
            rest = rest[..<hash]
        }
        if let q = rest.firstIndex(of: "?") {
            self.query = String(rest[rest.index(after: q)...])
            rest = rest[..<q]
        }
        if let sep = rest.firstRange(of: "://") {
            let scheme = rest[..<sep.lowerBound]
            // RFC 3986 3.1: a letter, then letters, digits, "+", "-" or ".".
            guard let first = scheme.first, first.isASCII, first.isLetter,
                scheme.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "+-.".contains($0)) })
            else { return nil }
            self.scheme = scheme.lowercased()
            rest = rest[sep.upperBound...]
            let slash = rest.firstIndex(of: "/") ?? rest.endIndex
            self.host = String(rest[..<slash])
            rest = rest[slash...]
        } else if rest.hasPrefix("//") {
            rest = rest.dropFirst(2)
            let slash = rest.firstIndex(of: "/") ?? rest.endIndex
            self.host = String(rest[..<slash])
            rest = rest[slash...]
        }
        self.path = String(rest)
    }

    public var string: String {
        var s = ""
        if !self.scheme.isEmpty { s += self.scheme + ":" }
        if !self.host.isEmpty || !self.scheme.isEmpty { s += "//" + self.host }
        s += self.path
        if let query { s += "?" + query }
        if let fragment { s += "#" + fragment }
        return s
    }
}

public enum WebRedirectPlan: Equatable, Sendable {
    /// Answer with this status and Location.
    case redirect(status: Int, location: String)
    /// OrigPathRegexp did not match: 404.
    case notFound
    /// The destination is the request itself (scheme, host and path): try the next handler.
    case notHandled
}

public enum WebRedirects {
    /// The redirect for a request: `scheme` http/https, `host` the Host header, `path` the
    /// cleaned path, `query` the raw query (nil when absent).
    public static func plan(
        _ handler: CompiledWebHandler,
        scheme: String,
        host: String,
        path: String,
        query: String?
    ) -> WebRedirectPlan {
        guard let redirect = handler.config.webRedirect else { return .notFound }
        var destination = path
        if let regex = handler.origPathRegex {
            guard let match = try? regex.firstMatch(in: path) else { return .notFound }
            destination = String(path[..<match.range.lowerBound])
                + Self.expand(redirect.replacePath, match)
                + String(path[match.range.upperBound...])
        }
        var target = SimpleURL("")!
        target.path = destination
        target.query = query
        if !redirect.baseURL.isEmpty, let base = SimpleURL(redirect.baseURL) {
            target.scheme = base.scheme
            target.host = base.host
            target.fragment = base.fragment
            if let baseQuery = base.query {
                target.query = query.map { baseQuery + "&" + $0 } ?? baseQuery
            }
            if target.path.isEmpty { target.path = "/" }
            // Redirecting to exactly this request would loop: leave it to the next handler.
            let effectiveScheme = target.scheme.isEmpty ? scheme : target.scheme
            if effectiveScheme == scheme && target.host.lowercased() == host.lowercased() && target.path == path {
                return .notHandled
            }
        }
        let status = redirect.statusCode == 0 ? 308 : redirect.statusCode
        return .redirect(status: status, location: target.string)
    }

    /// Expands `$1`, `${1}`, `$name` and `$$` in a replacement, as Go's regexp Expand does.
    static func expand(_ template: String, _ match: Regex<AnyRegexOutput>.Match) -> String {
        var out = ""
        var chars = Substring(template)
        while let dollar = chars.firstIndex(of: "$") {
            out += chars[..<dollar]
            chars = chars[chars.index(after: dollar)...]
            if chars.first == "$" {
                out += "$"
                chars = chars.dropFirst()
                continue
            }
            var name: Substring
            if chars.first == "{", let close = chars.firstIndex(of: "}") {
                name = chars[chars.index(after: chars.startIndex)..<close]
                chars = chars[chars.index(after: close)...]
            } else {
                let end = chars.firstIndex(where: { !($0.isLetter || $0.isNumber || $0 == "_") }) ?? chars.endIndex
                name = chars[..<end]
                chars = chars[end...]
            }
            if name.isEmpty {
                out += "$"
                continue
            }
            if let n = Int(name) {
                if n < match.output.count, let sub = match.output[n].substring { out += sub }
            } else if let sub = match.output[String(name)]?.substring {
                out += sub
            }
        }
        out += chars
        return out
    }

    /// The upstream URL of a WebForward: the request path (with StripPath, less the part the
    /// PathRegexp matched) appended to the target's path, target query first.
    public static func forwardURL(target: String, stripPath: Bool, path: String, matched: String, query: String?) -> String? {
        guard var url = SimpleURL(target) else { return nil }
        var rest = path
        if stripPath {
            rest = String(path.dropFirst(matched.count))
            if !rest.isEmpty && !rest.hasPrefix("/") { rest = "/" + rest }
        }
        if !rest.isEmpty {
            if url.path.hasSuffix("/") && rest.hasPrefix("/") {
                url.path += rest.dropFirst()
            } else if !url.path.hasSuffix("/") && !rest.hasPrefix("/") {
                url.path += "/" + rest
            } else {
                url.path += rest
            }
        }
        if url.path.isEmpty { url.path = "/" }
        switch (url.query, query) {
        case (let a?, let b?): url.query = a + "&" + b
        case (nil, let b?): url.query = b
        default: break
        }
        url.fragment = nil
        return url.string
    }
}
