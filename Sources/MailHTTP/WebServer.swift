// The HTTP server of mox.conf's web listeners: HummingbirdCore's HTTP/1.1 channel on the shared
// connection layer (MailListener), routing in mox's order (WebRouter), and for every request an
// access log line at debug and mox's request metrics.

import AsyncHTTPClient
import HTTPTypes
import HummingbirdCore
import Logging
import MailAddress
import MailConfig
import MailLog
import MailMetrics
import MailNetwork
import MailTLS
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// What the web server knows of the configuration; replaced when domains.conf changes.
public struct WebConfig: Sendable {
    public let config: Config
    public let handlers: [CompiledWebHandler]

    public init(_ config: Config) {
        self.config = config
        self.handlers = CompiledWebHandler.compile(config.dynamicConfig.webHandlers)
    }
}

public final class WebServer: Sendable {
    let current: Mutex<WebConfig>
    let listeners = Mutex<[MailListener]>([])
    let logger: Logger
    /// Requests per IP (IPv6 per /64) across all web ports: mox's limits.
    let requestLimiter: NetworkRateLimiter
    let connectionLimits: ConnectionLimits
    let client: HTTPClient
    /// What relative WebStatic roots are relative to: the working directory (""), or for
    /// localserve its directory.
    let rootBase: String
    /// Small WebStatic files, checked against their stat on every request.
    let smallFiles = SmallFileCache()
    /// Parsed Host headers: clients send the same few again and again. Emptied when full.
    let hosts = Mutex<[String: RequestHost]>([:])

    /// `unlimited`: no request or connection limits (localserve). `rootBase`: the directory
    /// relative WebStatic roots start from ("" for the working directory, as mox).
    public init(config: Config, logger: Logger, unlimited: Bool, rootBase: String = "") {
        self.rootBase = rootBase
        self.current = Mutex(WebConfig(config))
        self.logger = logger
        self.requestLimiter = unlimited
            ? .unlimited()
            : NetworkRateLimiter(windows: [
                .init(seconds: 60, limits: [1000, 3000, 9000]),
                .init(seconds: 3600, limits: [5000, 15000, 45000]),
            ])
        self.connectionLimits = unlimited ? .unlimited : ConnectionLimits()
        var clientConfig = HTTPClient.Configuration(
            redirectConfiguration: .disallow,
            timeout: .init(connect: .seconds(30)),
            decompression: .disabled
        )
        clientConfig.httpVersion = .http1Only
        // As Go's transport: a refused connection is a 502 at once (no retrying until the connect
        // timeout), and requests to one upstream are not queued behind a few connections.
        clientConfig.connectionPool.retryConnectionEstablishment = false
        clientConfig.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = 256
        self.client = HTTPClient(eventLoopGroup: MultiThreadedEventLoopGroup.singleton, configuration: clientConfig)
    }

    /// The request's host, parsed once per distinct Host header.
    func requestHost(_ header: String) -> RequestHost {
        if let known = self.hosts.withLock({ $0[header] }) { return known }
        let host = RequestHost(header: header)
        self.hosts.withLock { hosts in
            if hosts.count >= 1024 { hosts.removeAll(keepingCapacity: true) }
            hosts[header] = host
        }
        return host
    }

    /// Takes a new configuration (domains.conf reloaded) for the requests that follow.
    public func update(_ config: Config) {
        let compiled = WebConfig(config)
        self.current.withLock { $0 = compiled }
    }

    /// Listens on `host` for one port of a listener.
    public func start(host: String, port: WebPort, tls: ServerTLS?, listenerName: String) async throws {
        if port.tls && tls == nil {
            throw WebPlanError("listener \(listenerName): port \(port.port) serves HTTPS but the listener has no TLS")
        }
        let server = self
        let http1 = HTTP1Channel(
            responder: { request, writer, channel in
                try await server.respond(request, writer, channel, port: port, listenerName: listenerName)
            },
            configuration: .init(idleTimeout: .seconds(65))
        )
        let logger = self.logger
        let listener = try await MailListener.start(
            host: host,
            port: port.port,
            group: MultiThreadedEventLoopGroup.singleton,
            limits: self.connectionLimits,
            backlog: 1024,
            logger: logger,
            setup: { (channel: any Channel) -> EventLoopFuture<HTTP1Channel.Value> in
                if port.tls, let tls {
                    do {
                        try channel.pipeline.syncOperations.addHandler(tls.makeHandler())
                    } catch {
                        return channel.eventLoop.makeFailedFuture(error)
                    }
                }
                return http1.setup(channel: channel, logger: logger)
            },
            signal: { channel, signal in
                switch signal {
                case .shutdown:
                    // Idle keep-alive connections close now, busy ones after their response.
                    channel.eventLoop.execute {
                        channel.pipeline.fireUserInboundEventTriggered(ChannelShouldQuiesceEvent())
                    }
                case .shutdownNow:
                    channel.close(promise: nil)
                case .wakeup:
                    break
                }
            },
            session: { (value: HTTP1Channel.Value, _: UInt64, admission: Admission, _: MailListener) in
                guard admission == .admitted else {
                    value.channel.close(promise: nil)
                    return
                }
                await http1.handle(value: value, logger: logger)
            }
        )
        self.listeners.withLock { $0.append(listener) }
    }

    /// Stops accepting, lets requests under way finish (up to the grace period), then closes.
    public func stop() async {
        let listeners = self.listeners.withLock { list in
            defer { list = [] }
            return list
        }
        await withTaskGroup(of: Void.self) { group in
            for listener in listeners {
                group.addTask { await listener.stop() }
            }
        }
        try? await self.client.shutdown()
    }

    // MARK: - Requests

    func respond(
        _ request: Request,
        _ writer: consuming ResponseWriter,
        _ channel: any Channel,
        port: WebPort,
        listenerName: String
    ) async throws {
        let started = ContinuousClock.now
        let web = self.current.withLock { $0 }
        // Read once, now: once the client has closed, the channel no longer knows its peer. Only
        // formatted when something needs it (rate limit, forwarding, access log).
        var exchange = Exchange(
            request: request,
            port: port,
            remote: channel.remoteAddress,
            hostHeader: request.head.authority ?? ""
        )
        if port.forwarded, let forwardedFor = request.headers[HTTPField.Name("X-Forwarded-For")!] {
            let first = forwardedFor.split(separator: ",").first.map { String($0).trimmingSpaces() } ?? ""
            if !first.isEmpty { exchange.forwardedFor = first }
        }
        var response: WebResponse
        if !port.rateLimitDisabled, !self.requestLimiter.add(exchange.clientIP) {
            exchange.handler = "(ratelimited)"
            response = .text(.tooManyRequests, "429 - too many auth attempts\n")
            let sent = try await self.write(response, to: writer, request: request)
            MoxMetrics.httpRequest(
                handler: exchange.handler, proto: port.tls ? "https" : "http",
                method: MoxMetrics.methodLabel(request.method.rawValue), code: 429, untilStatus: 0,
                untilDone: 0
            )
            _ = sent
            return
        }
        response = await self.route(&exchange, web)
        let untilStatus = started.duration(to: .now)
        let sent: Int
        do {
            sent = try await self.write(response, to: writer, request: request)
        } catch {
            self.log(exchange, response.status.code, started: started, size: 0, error: "\(error)")
            throw error
        }
        let untilDone = started.duration(to: .now)
        MoxMetrics.httpRequest(
            handler: exchange.handler,
            proto: port.tls ? "https" : "http",
            method: MoxMetrics.methodLabel(request.method.rawValue),
            code: response.status.code,
            untilStatus: untilStatus.seconds,
            untilDone: untilDone.seconds
        )
        self.log(exchange, response.status.code, started: started, size: sent, error: nil)
    }

    /// The access log line, at debug, with mox's attributes.
    func log(_ exchange: Exchange, _ status: Int, started: ContinuousClock.Instant, size: Int, error: String?) {
        guard self.logger.logLevel <= .debug else { return }
        let request = exchange.request
        var metadata: Logger.Metadata = [
            "httpaccess": "",
            "handler": "\(exchange.handler)",
            "method": "\(MoxMetrics.methodLabel(request.method.rawValue))",
            "url": "\(request.uri.string)",
            "host": "\(exchange.hostHeader)",
            "duration": "\(DurationFormat.string(started.duration(to: .now)))",
            "statuscode": "\(status)",
            "proto": "http/1.1",
            "remoteaddr": "\(exchange.remoteAddress)",
            "tlsinfo": "\(exchange.port.tls ? "tls" : "plain")",
            "useragent": "\(request.headers[.userAgent] ?? "")",
            "referer": "\(request.headers[.referer] ?? "")",
            "size": "\(size)",
        ]
        if exchange.port.forwarded { metadata["clientip"] = "\(exchange.clientIP)" }
        if let error { metadata["err"] = "\(error)" }
        self.logger.debug("http request", metadata: metadata)
    }
}

/// One request as routing sees it.
struct Exchange {
    let request: Request
    let port: WebPort
    let remote: SocketAddress?
    let hostHeader: String
    /// The first address of X-Forwarded-For, on ports that trust it.
    var forwardedFor: String?
    /// The name of the handler that served it, for the log and metrics.
    var handler = "(nomatch)"

    var scheme: String { self.port.tls ? "https" : "http" }

    var remoteIP: String { self.remote?.ipAddress ?? "" }
    /// ip:port of the peer, for the access log.
    var remoteAddress: String { self.remote.map { "\($0.ipAddress ?? ""):\($0.port ?? 0)" } ?? "" }
    /// The client as mox sees it: X-Forwarded-For's first address where trusted, else the peer.
    var clientIP: String { self.forwardedFor ?? self.remoteIP }
}


enum DurationFormat {
    /// Like Go's time.Duration String for short spans: "850ns", "52.1µs", "1.234ms", "2.5s".
    static func string(_ d: Duration) -> String {
        let ns = Double(d.components.seconds) * 1e9 + Double(d.components.attoseconds) / 1e9
        func trim(_ v: Double) -> String {
            var s = String(format3(v))
            while s.contains(".") && (s.hasSuffix("0") || s.hasSuffix(".")) { s.removeLast() }
            return s
        }
        if ns < 1000 { return "\(Int(ns))ns" }
        if ns < 1e6 { return trim(ns / 1e3) + "µs" }
        if ns < 1e9 { return trim(ns / 1e6) + "ms" }
        return trim(ns / 1e9) + "s"
    }

    static func format3(_ v: Double) -> String {
        let scaled = Int((v * 1000).rounded())
        let frac = scaled % 1000
        return "\(scaled / 1000)." + (frac < 10 ? "00" : frac < 100 ? "0" : "") + "\(frac)"
    }
}
