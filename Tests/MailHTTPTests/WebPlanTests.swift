// Which ports a listener's web services get, how a request is routed, and the pure helpers of the
// static file handler and redirects. No sockets.

import MailAddress
import MailConfig
@testable import MailHTTP
import Testing

/// A listener section of mox.conf with `body` (tab-indented two levels) under it, parsed.
func listener(_ body: String, tls: Bool = false) throws -> Listener {
    var text = "DataDir: data\nLogLevel: info\nHostname: mail.example.org\nListeners:\n\tl:\n\t\tIPs:\n\t\t\t- 127.0.0.1\n"
    if tls {
        text += "\t\tTLS:\n\t\t\tKeyCerts:\n\t\t\t\t-\n\t\t\t\t\tCertFile: c.pem\n\t\t\t\t\tKeyFile: k.pem\n"
    }
    text += body
    text += "Postmaster:\n\tAccount: mjl\n\tMailbox: Inbox\n"
    let (s, _) = try ConfigLoader.parseStatic(text, file: "mox.conf")
    return try #require(s.listeners["l"])
}

@Suite struct WebPlanTests {
    @Test func defaultPortsAndPathsShareAPortByPath() throws {
        let l = try listener(
            "\t\tAccountHTTP:\n\t\t\tEnabled: true\n\t\tAdminHTTP:\n\t\t\tEnabled: true\n"
                + "\t\tWebAPIHTTP:\n\t\t\tEnabled: true\n\t\tMetricsHTTP:\n\t\t\tEnabled: true\n"
                + "\t\tWebserverHTTP:\n\t\t\tEnabled: true\n"
        )
        let ports = try WebPlan.ports(listenerName: "l", l, hasTLS: false)
        #expect(ports.map(\.port) == [80, 8010])
        let p80 = ports[0]
        #expect(!p80.tls)
        #expect(p80.servicePaths[.account] == "/")
        #expect(p80.servicePaths[.admin] == "/admin/")
        #expect(p80.servicePaths[.webapi] == "/webapi/")
        #expect(p80.webserver)
        #expect(!p80.metrics)
        #expect(ports[1].metrics)
    }

    @Test func configuredPortAndPathWithoutTrailingSlash() throws {
        let l = try listener("\t\tWebmailHTTP:\n\t\t\tEnabled: true\n\t\t\tPort: 1080\n\t\t\tPath: /mail\n")
        let ports = try WebPlan.ports(listenerName: "l", l, hasTLS: false)
        #expect(ports.count == 1)
        #expect(ports[0].port == 1080)
        #expect(ports[0].servicePaths[.webmail] == "/mail/")
    }

    @Test func httpsWithoutTLSIsAnError() throws {
        // The config check refuses this already; the plan does not rely on it.
        let l = try listener("\t\tAccountHTTPS:\n\t\t\tEnabled: true\n", tls: true)
        #expect(throws: WebPlanError.self) { try WebPlan.ports(listenerName: "l", l, hasTLS: false) }
        let ports = try WebPlan.ports(listenerName: "l", l, hasTLS: true)
        #expect(ports.map(\.port) == [443])
        #expect(ports[0].tls)
    }

    @Test func pprofCannotShareAPort() throws {
        let l = try listener(
            "\t\tMetricsHTTP:\n\t\t\tEnabled: true\n\t\t\tPort: 8011\n\t\tPprofHTTP:\n\t\t\tEnabled: true\n"
        )
        #expect(throws: WebPlanError.self) { try WebPlan.ports(listenerName: "l", l, hasTLS: false) }
    }

    @Test func autoconfigAndMTASTSOnOnePortMustAgreeOnTLS() throws {
        let plain = try listener(
            "\t\tAutoconfigHTTPS:\n\t\t\tEnabled: true\n\t\t\tPort: 8080\n\t\t\tNonTLS: true\n"
                + "\t\tMTASTSHTTPS:\n\t\t\tEnabled: true\n\t\t\tPort: 8080\n\t\t\tNonTLS: true\n"
        )
        let ports = try WebPlan.ports(listenerName: "l", plain, hasTLS: false)
        #expect(ports.count == 1)
        #expect(ports[0].autoconfig && ports[0].mtasts && !ports[0].tls)
        // The config check refuses this already; the plan does not rely on it.
        var mixed = plain
        mixed.mtastsHTTPS.nonTLS = false
        #expect(throws: WebPlanError.self) { try WebPlan.ports(listenerName: "l", mixed, hasTLS: true) }
    }
}

@Suite struct RequestRoutingTests {
    @Test func hostHeaders() {
        #expect(RequestHost(header: "Example.ORG:8080") == .domain(Domain.parse("example.org")!))
        #expect(RequestHost(header: "[::1]:1080") == .ip("::1"))
        #expect(RequestHost(header: "127.0.0.1:1080") == .ip("127.0.0.1"))
        #expect(RequestHost(header: "::1") == .ip("::1"))
        #expect(RequestHost(header: "") == .none)
        #expect(RequestHost(header: "bad host") == .none)
    }

    @Test func pathsAreDecodedAndCleanedNeverAboveTheRoot() {
        #expect(cleanRequestPath("/") == "/")
        #expect(cleanRequestPath("/a/b/../c") == "/a/c")
        #expect(cleanRequestPath("/../../etc/passwd") == "/etc/passwd")
        #expect(cleanRequestPath("/%2e%2e/%2E%2E/etc/passwd") == "/etc/passwd")
        #expect(cleanRequestPath("/dir/") == "/dir/")
        #expect(cleanRequestPath("//a//b/./") == "/a/b/")
        #expect(cleanRequestPath("/a%20b") == "/a b")
        #expect(cleanRequestPath("/bad%zz") == nil)
        #expect(cleanRequestPath("/bad%4") == nil)
        // Already clean: returned as is; anything else goes through cleaning.
        for clean in ["/", "/a", "/a/", "/a/b.txt", "/.well-known/x", "/a/.../b", "/a/..b"] {
            #expect(isCleanPath(clean), "\(clean)")
            #expect(cleanRequestPath(clean) == clean)
        }
        for unclean in ["", "a", "//", "/a//b", "/.", "/..", "/a/./b", "/a/../b", "/a/..", "/%41"] {
            #expect(!isCleanPath(unclean), "\(unclean)")
        }
        #expect(cleanRequestPath("/a/..") == "/")
    }

    @Test func pathPatternsLiteralOrRegex() throws {
        let literal = try #require(PathPattern("^/static/"))
        guard case .prefix("/static/") = literal else { Issue.record("not a prefix: \(literal)"); return }
        #expect(literal.match("/static/a.txt") == "/static/")
        #expect(literal.match("/x/static/") == nil)
        let escaped = try #require(PathPattern(#"^/a\.b/"#))
        guard case .prefix("/a.b/") = escaped else { Issue.record("not a prefix: \(escaped)"); return }
        #expect(escaped.match("/a.b/c") == "/a.b/")
        #expect(escaped.match("/aXb/c") == nil)
        // Classes, wildcards and alternations run as regular expressions.
        for pattern in [#"^/\d+/"#, "^/a.b/", "^/(x|y)/", "^/a$", "^/api/v[0-9]"] {
            guard case .regex = try #require(PathPattern(pattern)) else {
                Issue.record("\(pattern) taken as literal")
                continue
            }
        }
        #expect(PathPattern(#"^/\d+/"#)?.match("/123/x") == "/123/")
        #expect(PathPattern("^/a.b/")?.match("/aXb/") == "/aXb/")
        // The leftmost match anywhere, as Go's FindStringIndex (an alternative without "^").
        #expect(PathPattern("^/x/|/y/")?.match("/a/y/b") == "/y/")
        #expect(PathPattern("^/(unclosed") == nil)
    }

    @Test func systemRoutesByPortAndHost() throws {
        let config = try testConfig()
        var port = WebPort(port: 80, tls: false)
        port.metrics = true
        #expect(WebRouter.systemRoute(port: port, host: .none, path: "/metrics", config: config) == .metrics)
        #expect(WebRouter.systemRoute(port: port, host: .none, path: "/", config: config) == .metricsIndex)
        #expect(WebRouter.systemRoute(port: port, host: .none, path: "/mail/config-v1.1.xml", config: config) == nil)
        port.autoconfig = true
        port.mtasts = true
        let auto = RequestHost(header: "autoconfig.example.org")
        #expect(WebRouter.systemRoute(port: port, host: auto, path: "/mail/config-v1.1.xml", config: config) == .autoconfig)
        #expect(WebRouter.systemRoute(port: port, host: auto, path: "/autodiscover/autodiscover.xml", config: config) == .autodiscover)
        #expect(WebRouter.systemRoute(port: port, host: auto, path: "/profile.mobileconfig", config: config) == .mobileconfig)
        let unknown = RequestHost(header: "autoconfig.other.example")
        #expect(WebRouter.systemRoute(port: port, host: unknown, path: "/mail/config-v1.1.xml", config: config) == nil)
        let ip = RequestHost(header: "127.0.0.1")
        #expect(WebRouter.systemRoute(port: port, host: ip, path: "/mail/config-v1.1.xml", config: config) == nil)
        let sts = RequestHost(header: "mta-sts.example.org")
        #expect(WebRouter.systemRoute(port: port, host: sts, path: "/.well-known/mta-sts.txt", config: config) == .mtasts)
        #expect(WebRouter.systemRoute(port: port, host: auto, path: "/.well-known/mta-sts.txt", config: config) == nil)
    }

    @Test func domainRedirectsAndHandlersInConfigOrder() throws {
        let config = try testConfig()
        #expect(WebRouter.domainRedirect(host: RequestHost(header: "old.example.org"), config: config) == "example.org")
        #expect(WebRouter.domainRedirect(host: RequestHost(header: "example.org"), config: config) == nil)
        let handlers = CompiledWebHandler.compile(config.dynamicConfig.webHandlers)
        let host = RequestHost(header: "example.org")
        let first = try #require(WebRouter.webHandlerMatch(host: host, path: "/static/a.txt", handlers: handlers, from: 0))
        #expect(first.index == 0)
        #expect(first.matched == "/static/")
        #expect(handlers[0].name == "static")
        let redirect = try #require(WebRouter.webHandlerMatch(host: host, path: "/old/x", handlers: handlers, from: 0))
        #expect(redirect.index == 1)
        #expect(WebRouter.webHandlerMatch(host: host, path: "/static/a", handlers: handlers, from: 1) == nil)
        #expect(WebRouter.webHandlerMatch(host: RequestHost(header: "other.example"), path: "/static/a", handlers: handlers, from: 0) == nil)
    }
}

/// mox.conf and domains.conf with a public listener, a domain with MTA-STS, a domain redirect
/// and three web handlers.
func testConfig() throws -> Config {
    let staticText = """
        DataDir: data
        LogLevel: info
        Hostname: mail.example.org
        Listeners:
        \tpublic:
        \t\tIPs:
        \t\t\t- 127.0.0.1
        \t\tTLS:
        \t\t\tKeyCerts:
        \t\t\t\t-
        \t\t\t\t\tCertFile: c.pem
        \t\t\t\t\tKeyFile: k.pem
        \t\tIMAPS:
        \t\t\tEnabled: true
        \t\tSubmission:
        \t\t\tEnabled: true
        \t\t\tPort: 1587
        \t\tMTASTSHTTPS:
        \t\t\tEnabled: true
        \t\tWebserverHTTP:
        \t\t\tEnabled: true
        Postmaster:
        \tAccount: mjl
        \tMailbox: Inbox

        """
    let dynamicText = """
        Domains:
        \texample.org:
        \t\tMTASTS:
        \t\t\tPolicyID: 20260101T000000
        \t\t\tMode: enforce
        \t\t\tMaxAge: 24h0m0s
        \t\t\tMX:
        \t\t\t\t- mail.example.org
        \t\t\t\t- *.mx.example.org
        \tother.example.org: nil
        Accounts:
        \tmjl:
        \t\tDomain: example.org
        \t\tDestinations:
        \t\t\tmjl@example.org: nil
        WebDomainRedirects:
        \told.example.org: example.org
        WebHandlers:
        \t-
        \t\tLogName: static
        \t\tDomain: example.org
        \t\tPathRegexp: ^/static/
        \t\tWebStatic:
        \t\t\tStripPrefix: /static/
        \t\t\tRoot: web/static
        \t-
        \t\tDomain: example.org
        \t\tPathRegexp: ^/old/
        \t\tWebRedirect:
        \t\t\tOrigPathRegexp: ^/old/(.*)$
        \t\t\tReplacePath: /new/$1
        \t\t\tStatusCode: 307
        \t-
        \t\tDomain: example.org
        \t\tPathRegexp: ^/site/
        \t\tWebRedirect:
        \t\t\tBaseURL: https://www.example.org?x=1

        """
    let (s, locations) = try ConfigLoader.parseStatic(staticText, file: "mox.conf")
    let (d, _) = try ConfigLoader.parseDynamic(dynamicText, file: "domains.conf", staticConfig: s, staticLocations: locations)
    return Config(staticConfig: s, dynamicConfig: d, staticPath: "mox.conf", dynamicPath: "domains.conf")
}
