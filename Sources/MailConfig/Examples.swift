/// Annotated configuration snippets for common set-ups, shown by `mox config example [NAME]` and
/// on the config reference page. Each is checked against the config schema by a test, so they
/// stay valid as fields change.
public enum ConfigExample: String, CaseIterable, Sendable {
    case webhandlers
    case transport

    /// The names, in the order `mox config example` lists them.
    public static var names: [String] { Self.allCases.map(\.rawValue) }

    /// The snippet, ending in a newline.
    public var text: String {
        switch self {
        case .webhandlers: return Self.webhandlersText
        case .transport: return Self.transportStatic + "\n" + Self.transportDynamic
        }
    }

    /// The parts of an example that belong to each file: (mox.conf part, domains.conf part).
    public var files: (staticPart: String?, dynamicPart: String?) {
        switch self {
        case .webhandlers: return (nil, Self.webhandlersText)
        case .transport: return (Self.transportStatic, Self.transportDynamic)
        }
    }

    static let webhandlersText = """
        # Part of a domains.conf: the web server for the domains mox hosts. It needs a listener in
        # mox.conf with WebserverHTTP and/or WebserverHTTPS enabled.
        WebDomainRedirects:
        \t# Requests for the bare domain go to www, over https, with the same path.
        \texample.com: www.example.com
        WebHandlers:
        \t# Handlers are tried in this order; the first whose domain and path match answers.
        \t-
        \t\t# Shown in logs and metrics.
        \t\tLogName: tohttps
        \t\tDomain: www.example.com
        \t\tPathRegexp: ^/
        \t\t# Matching plain http is what this handler is for, so it must not be redirected to
        \t\t# https first.
        \t\tDontRedirectPlainHTTP: true
        \t\t# Send plain http requests to the same path on https. Over https the target is the
        \t\t# request itself, so the handler does not match and the next one is tried.
        \t\tWebRedirect:
        \t\t\tBaseURL: https://www.example.com
        \t-
        \t\tLogName: files
        \t\tDomain: www.example.com
        \t\tPathRegexp: ^/files/
        \t\t# Files from a directory relative to mox's working directory, with listings of
        \t\t# directories that have no index.html.
        \t\tWebStatic:
        \t\t\tStripPrefix: /files
        \t\t\tRoot: web/files
        \t\t\tListFiles: true
        \t\t\tResponseHeaders:
        \t\t\t\tX-Served-By: mox
        \t-
        \t\tLogName: moved
        \t\tDomain: www.example.com
        \t\tPathRegexp: ^/moved/page
        \t\tDontRedirectPlainHTTP: true
        \t\t# A temporary redirect to another site; its query and fragment are kept.
        \t\tWebRedirect:
        \t\t\tBaseURL: //other.example.com?from=www#top
        \t\t\tStatusCode: 307
        \t-
        \t\tLogName: renamed
        \t\tDomain: www.example.com
        \t\tPathRegexp: ^/before/
        \t\t# Rewrite the path on the same site: /before/x goes to /after/x.
        \t\tWebRedirect:
        \t\t\tOrigPathRegexp: ^/before/(.*)
        \t\t\tReplacePath: /after/$1
        \t-
        \t\tLogName: application
        \t\tDomain: www.example.com
        \t\tPathRegexp: ^/app/
        \t\t# A reverse proxy to an application on this machine. The matched part of the path is
        \t\t# removed: /app/x is forwarded as /v2/x.
        \t\tWebForward:
        \t\t\tStripPath: true
        \t\t\tURL: http://127.0.0.1:8080/v2/
        \t\t\tResponseHeaders:
        \t\t\t\tX-Frame-Options: deny
        \t\t\t\tX-Content-Type-Options: nosniff

        """

    static let transportStatic = """
        # Part of a mox.conf: a transport named Relay, which sends outgoing mail through the
        # submission service of another provider instead of to the recipients' servers.
        Transports:
        \tRelay:
        \t\t# Submission with TLS from the first byte, port 465 unless Port says otherwise.
        \t\tSubmissions:
        \t\t\tHost: smtp.provider.example
        \t\t\t# The account at the provider.
        \t\t\tAuth:
        \t\t\t\tUsername: me@provider.example
        \t\t\t\tPassword: secret
        \t\t\t\t# Only mechanisms that do not send the password itself, and bind to the TLS
        \t\t\t\t# connection.
        \t\t\t\tMechanisms:
        \t\t\t\t\t- SCRAM-SHA-256-PLUS

        """

    static let transportDynamic = """
        # Part of a domains.conf: a route that sends all outgoing mail through that transport.
        Routes:
        \t-
        \t\tTransport: Relay

        """
}
