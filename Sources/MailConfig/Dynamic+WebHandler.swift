// Web handlers in domains.conf: the web server's static files, redirects, reverse proxies and
// built-in services, per domain and path.
import Sconf

/// A rule for handling web requests for a domain and path.
public struct WebHandler: SconfRecord, Equatable, Sendable {
    public var logName = ""
    public var domain = ""
    public var pathRegexp = ""
    public var dontRedirectPlainHTTP = false
    public var compress = false
    public var webStatic: WebStatic? = nil
    public var webRedirect: WebRedirect? = nil
    public var webForward: WebForward? = nil
    public var webInternal: WebInternal? = nil

    public init() {}

    public static let sconfFields: [SconfField<WebHandler>] = [
        .init(
            "LogName",
            { $0.logName },
            { $0.logName = $1 },
            optional: true,
            doc: "Name for the handler in logs and metrics. Default: its position in the list."
        ),
        .init(
            "Domain",
            { $0.domain },
            { $0.domain = $1 },
            doc: "Domain the request must be for. The handler matches when both Domain and PathRegexp "
                + "match. Set exactly one of WebStatic, WebRedirect, WebForward and WebInternal."
        ),
        .init(
            "PathRegexp",
            { $0.pathRegexp },
            { $0.pathRegexp = $1 },
            doc: "Regular expression the request path must match. It must start with ^ so it matches from "
                + "the start of the path; it need not end with $. WebForward can strip the matched part."
        ),
        .init(
            "DontRedirectPlainHTTP",
            { $0.dontRedirectPlainHTTP },
            { $0.dontRedirectPlainHTTP = $1 },
            optional: true,
            doc: "Handle plain HTTP requests as they are. By default they are redirected to HTTPS with a "
                + "permanent redirect (308); set this when there is no HTTPS web server."
        ),
        .init(
            "Compress",
            { $0.compress },
            { $0.compress = $1 },
            optional: true,
            doc: "Compress responses with gzip when the client accepts it, the status is 200, the response "
                + "is not encoded yet and its content type is compressible (text/*, JSON, XML and some "
                + "other application types). Compressed static files are cached."
        ),
        .init(
            "WebStatic",
            { $0.webStatic },
            { $0.webStatic = $1 },
            optional: true,
            doc: "Serve files from a directory."
        ),
        .init(
            "WebRedirect",
            { $0.webRedirect },
            { $0.webRedirect = $1 },
            optional: true,
            doc: "Redirect the request to another URL."
        ),
        .init(
            "WebForward",
            { $0.webForward },
            { $0.webForward = $1 },
            optional: true,
            doc: "Pass the request on to another web server (reverse proxy)."
        ),
        .init(
            "WebInternal",
            { $0.webInternal },
            { $0.webInternal = $1 },
            optional: true,
            doc: "Pass the request to a built-in service, such as webmail or the web API."
        ),
    ]
}

/// Serves static files.
public struct WebStatic: SconfRecord, Equatable, Sendable {
    public var stripPrefix = ""
    public var root = ""
    public var listFiles = false
    public var continueNotFound = false
    public var responseHeaders: [String: String] = [:]

    public init() {}

    public static let sconfFields: [SconfField<WebStatic>] = [
        .init(
            "StripPrefix",
            { $0.stripPrefix },
            { $0.stripPrefix = $1 },
            optional: true,
            doc: "Prefix removed from the request path before it is turned into a file path. A request "
                + "whose path lacks the prefix gets 404 (not found), or is left to the next handlers when "
                + "ContinueNotFound is set."
        ),
        .init(
            "Root",
            { $0.root },
            { $0.root = $1 },
            doc: "Directory to serve files from. A relative path is relative to the server's working "
                + "directory."
        ),
        .init(
            "ListFiles",
            { $0.listFiles },
            { $0.listFiles = $1 },
            optional: true,
            doc: "Answer a request for a directory without index.html with a listing of its files, instead "
                + "of 403 (forbidden). A directory requested without a trailing slash is redirected to the "
                + "path with the slash."
        ),
        .init(
            "ContinueNotFound",
            { $0.continueNotFound },
            { $0.continueNotFound = $1 },
            optional: true,
            doc: "When the requested file does not exist, let the next handlers try (e.g. a reverse proxy) "
                + "instead of answering 404, like try_files in other web servers. Requests other than GET "
                + "and HEAD then do not match this handler."
        ),
        .init(
            "ResponseHeaders",
            { $0.responseHeaders },
            { $0.responseHeaders = $1 },
            optional: true,
            doc: "Headers to add to responses, e.g. Cache-Control or Content-Type. Content-Type is set from "
                + "the file name for known file types unless given here; directory listings get none."
        ),
    ]
}

/// Redirects requests.
public struct WebRedirect: SconfRecord, Equatable, Sendable {
    public var baseURL = ""
    public var origPathRegexp = ""
    public var replacePath = ""
    public var statusCode = 0

    public init() {}

    public static let sconfFields: [SconfField<WebRedirect>] = [
        .init(
            "BaseURL",
            { $0.baseURL },
            { $0.baseURL = $1 },
            optional: true,
            doc: "URL to redirect to, with an empty path: the path comes from the request, or from "
                + "OrigPathRegexp and ReplacePath. Its scheme, host, port and fragment are kept and query "
                + "strings are merged. Without a scheme, e.g. //newdomain/, the request's protocol is kept. "
                + "When empty, OrigPathRegexp and ReplacePath must be set, and only the path changes. A "
                + "redirect to the very same scheme, host and path does not match, so the next handler is "
                + "tried; this makes redirecting all plain HTTP to HTTPS possible."
        ),
        .init(
            "OrigPathRegexp",
            { $0.origPathRegexp },
            { $0.origPathRegexp = $1 },
            optional: true,
            doc: "Regular expression for the request path, which always starts with a slash. A request whose "
                + "path does not match gets 404 (not found)."
        ),
        .init(
            "ReplacePath",
            { $0.replacePath },
            { $0.replacePath = $1 },
            optional: true,
            doc: "New path for the redirect, built from the match of OrigPathRegexp: $1 stands for the first "
                + "group, and so on. When this and OrigPathRegexp are both empty, BaseURL must be set and "
                + "paths are kept as they are."
        ),
        .init(
            "StatusCode",
            { $0.statusCode },
            { $0.statusCode = $1 },
            optional: true,
            doc: "HTTP status code of the redirect, e.g. 307. Default: 308 (permanent redirect)."
        ),
    ]
}

/// Forwards requests to another web server.
public struct WebForward: SconfRecord, Equatable, Sendable {
    public var stripPath = false
    public var url = ""
    public var responseHeaders: [String: String] = [:]

    public init() {}

    public static let sconfFields: [SconfField<WebForward>] = [
        .init(
            "StripPath",
            { $0.stripPath },
            { $0.stripPath = $1 },
            optional: true,
            doc: "Remove the part of the path matched by PathRegexp before forwarding."
        ),
        .init(
            "URL",
            { $0.url },
            { $0.url = $1 },
            doc: "URL to forward requests to, e.g. http://127.0.0.1:8123/base. The request path is appended "
                + "(after StripPath); a query string in this URL is ignored. The Host header is passed "
                + "unchanged and X-Forwarded-For, -Host and -Proto are set. The HTTP_PROXY and HTTPS_PROXY "
                + "environment variables are honoured. WebSocket connections are passed through after "
                + "checking the handshake's version and key; other WebSocket headers, such as Origin, are "
                + "for the backend to check."
        ),
        .init(
            "ResponseHeaders",
            { $0.responseHeaders },
            { $0.responseHeaders = $1 },
            optional: true,
            doc: "Headers to add to responses, e.g. for security or caching."
        ),
    ]
}

/// Passes requests to a built-in service.
public struct WebInternal: SconfRecord, Equatable, Sendable {
    public var basePath = ""
    public var service = ""

    public init() {}

    public static let sconfFields: [SconfField<WebInternal>] = [
        .init(
            "BasePath",
            { $0.basePath },
            { $0.basePath = $1 },
            doc: "Path at which the service is served, e.g. /webmail/."
        ),
        .init("Service", { $0.service }, { $0.service = $1 }, doc: "The service: admin, account, webmail or webapi."),
    ]
}
