// Which HTTP services a listener of mox.conf serves on which port, as mox lays them out: the
// services of one listener that share a port are served by one server and told apart by path and
// host; a port with any HTTPS service speaks TLS.

import MailConfig

/// The web services of mox.conf's listeners.
public enum WebServiceKind: String, Sendable, CaseIterable {
    case account, admin, webmail, webapi, metrics, autoconfig, mtasts, webserver
}

/// One port of one listener and what it serves.
public struct WebPort: Sendable, Equatable {
    public var port: Int
    public var tls: Bool
    /// Account, admin, webmail and webapi with their paths (ending in "/").
    public var servicePaths: [WebServiceKind: String] = [:]
    public var metrics = false
    public var autoconfig = false
    public var mtasts = false
    public var webserver = false
    /// X-Forwarded-For names the client (the port is behind a proxy).
    public var forwarded = false
    /// No per-IP request limit (WebserverHTTP/HTTPS's RateLimitDisabled).
    public var rateLimitDisabled = false
    /// mox's names of what the port serves, for the start-up log: "account-http at /", "metrics-http".
    public var kinds: [String] = []

    public init(port: Int, tls: Bool) {
        self.port = port
        self.tls = tls
    }
}

public struct WebPlanError: Error, CustomStringConvertible, Sendable {
    public var description: String
    init(_ description: String) { self.description = description }
}

public enum WebPlan {
    /// The ports of a listener's web services, in port order. `hasTLS` says whether the listener
    /// has a TLS config (needed for HTTPS services).
    public static func ports(listenerName: String, _ listener: Listener, hasTLS: Bool) throws(WebPlanError) -> [WebPort] {
        var ports: [Int: WebPort] = [:]
        func add(_ port: Int, https: Bool, _ kind: String, _ change: (inout WebPort) -> Void) throws(WebPlanError) {
            if https && !hasTLS {
                throw WebPlanError("listener \(listenerName): \(kind) needs TLS: configure TLS on the listener")
            }
            var entry = ports[port] ?? WebPort(port: port, tls: false)
            entry.tls = entry.tls || https
            change(&entry)
            entry.kinds.append(kind)
            ports[port] = entry
        }
        let services: [(WebServiceKind, WebService, Bool, String, Int)] = [
            (.account, listener.accountHTTP, false, "/", 80),
            (.account, listener.accountHTTPS, true, "/", 443),
            (.admin, listener.adminHTTP, false, "/admin/", 80),
            (.admin, listener.adminHTTPS, true, "/admin/", 443),
            (.webmail, listener.webmailHTTP, false, "/webmail/", 80),
            (.webmail, listener.webmailHTTPS, true, "/webmail/", 443),
            (.webapi, listener.webAPIHTTP, false, "/webapi/", 80),
            (.webapi, listener.webAPIHTTPS, true, "/webapi/", 443),
        ]
        for (kind, service, https, defaultPath, defaultPort) in services where service.enabled {
            var path = service.path.isEmpty ? defaultPath : service.path
            if !path.hasPrefix("/") {
                throw WebPlanError("listener \(listenerName): \(kind.rawValue) with path \"\(path)\" that must start with a slash")
            }
            if !path.hasSuffix("/") { path += "/" }
            let port = service.port == 0 ? defaultPort : service.port
            try add(port, https: https, "\(kind.rawValue)-\(https ? "https" : "http") at \(path)") {
                $0.servicePaths[kind] = path
                $0.forwarded = $0.forwarded || service.forwarded
            }
        }
        if listener.metricsHTTP.enabled {
            let port = listener.metricsHTTP.port == 0 ? 8010 : listener.metricsHTTP.port
            try add(port, https: false, "metrics-http") { $0.metrics = true }
        }
        if listener.autoconfigHTTPS.enabled {
            let service = listener.autoconfigHTTPS
            let port = service.port == 0 ? 443 : service.port
            try add(port, https: !service.nonTLS, "autoconfig-https") {
                $0.autoconfig = true
                $0.forwarded = $0.forwarded || service.forwarded
            }
        }
        if listener.mtastsHTTPS.enabled {
            let service = listener.mtastsHTTPS
            let port = service.port == 0 ? 443 : service.port
            if listener.autoconfigHTTPS.enabled, port == (listener.autoconfigHTTPS.port == 0 ? 443 : listener.autoconfigHTTPS.port),
                service.nonTLS != listener.autoconfigHTTPS.nonTLS
            {
                throw WebPlanError("listener \(listenerName): autoconfig and mta-sts enabled on same port but with both http and https")
            }
            try add(port, https: !service.nonTLS, "mtasts-https") {
                $0.mtasts = true
                $0.forwarded = $0.forwarded || service.forwarded
            }
        }
        for (service, https, defaultPort) in [
            (listener.webserverHTTP, false, 80), (listener.webserverHTTPS, true, 443),
        ] where service.enabled {
            let port = service.port == 0 ? defaultPort : service.port
            try add(port, https: https, "webserver-\(https ? "https" : "http")") {
                $0.webserver = true
                $0.rateLimitDisabled = $0.rateLimitDisabled || service.rateLimitDisabled
            }
        }
        if listener.pprofHTTP.enabled {
            let port = listener.pprofHTTP.port == 0 ? 8011 : listener.pprofHTTP.port
            if ports[port] != nil {
                throw WebPlanError("listener \(listenerName): cannot serve pprof on same endpoint as other http services")
            }
        }
        return ports.values.sorted { $0.port < $1.port }
    }
}
