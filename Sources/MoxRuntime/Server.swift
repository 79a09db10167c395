// A running server: the listeners of mox.conf, the accounts, reloading domains.conf, and a
// clean stop on SIGINT/SIGTERM or `mox stop`.

import Logging
import ServiceLifecycle
import UnixSignals
import MailLog
import FoundationEssentials
import IMAPServer
import MailConfig
import MailDelivery
import MailAddress
import MailAuth
import MailDNS
import DNSResolver
import MailHTTP
import MailMetrics
import MailNetwork
import MailQueue
import MailTLS
import NIOCore
import NIOPosix
import SMTPServer
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

public final class MoxServer: Sendable {
    public let config: Config
    public let localserve: Bool
    let log: Logger
    /// LogLevel and PackageLogLevels of mox.conf.
    public let logLevels: LogLevels
    let accounts: AccountRegistry
    let backend: StoreSMTPBackend
    /// Connection rate and failed logins per network, one count for every listener and protocol.
    let clientLimits: ClientLimits
    let listeners = Mutex<[SMTPListener]>([])
    let imapListeners = Mutex<[IMAPListener]>([])
    /// The HTTP listeners (web services, metrics, autoconfig, MTA-STS, the webserver).
    let web: WebServer
    /// The outgoing queue and its runner.
    let outgoing: OutgoingQueue
    let queueRunner: QueueRunner
    let stopRequested = Mutex<[CheckedContinuation<Void, Never>]>([])
    let stopped = Mutex(false)

    public init(config: Config, localserve: Bool) throws(RuntimeError) {
        StartupMemory.configureAllocator()
        self.config = config
        self.localserve = localserve
        self.logLevels = try Self.logLevels(config)
        let levels = self.logLevels
        self.log = Logger(label: localserve ? "localserve" : "serve") { MoxLogHandler(label: $0, levels: levels) }
        self.clientLimits = localserve ? .unlimited() : ClientLimits()
        self.accounts = AccountRegistry(dataDir: config.dataDirectory, structures: .imap)
        MoxMetrics.bootstrap()
        self.web = WebServer(
            config: config,
            logger: Logger(label: "http") { MoxLogHandler(label: $0, levels: levels) },
            // A relative WebStatic Root is relative to the working directory, as in mox: localserve's
            // workdir handler serves the directory it was started in.
            unlimited: localserve
        )
        let smtpLog = Logger(label: "smtpserver") { MoxLogHandler(label: $0, levels: levels) }
        let queue: MailQueue
        do {
            queue = try MailQueue.open(directory: config.dataDirPath("queue"))
        } catch {
            throw RuntimeError("opening queue: \(error)")
        }
        self.outgoing = OutgoingQueue(queue: queue)
        let authenticator = Self.messageAuthenticator(config: config, localserve: localserve, levels: levels, log: smtpLog)
        self.backend = StoreSMTPBackend(
            config: config,
            accounts: self.accounts,
            localserve: localserve,
            log: smtpLog,
            authenticator: authenticator,
            outgoing: self.outgoing
        )
        let backend = self.backend
        self.queueRunner = QueueRunner(
            outgoing: self.outgoing, config: { backend.config }, accounts: self.accounts, resolver: authenticator.resolver,
            localserve: localserve, localserveAccount: LocalserveSetup.accountName,
            log: Logger(label: "queue") { MoxLogHandler(label: $0, levels: levels) }
        )
    }

    /// The checks of incoming mail: the system's resolver (or $MOXRESOLVCONF's), Debian's public
    /// suffix list, and in localserve the SPF and DKIM records of its own domains answered
    /// locally, so mail an app sends from them passes as mox's localserve lets it.
    static func messageAuthenticator(config: Config, localserve: Bool, levels: LogLevels, log: Logger) -> MessageAuthenticator {
        let env = ProcessInfo.processInfo.environment["MOXRESOLVCONF"] ?? ""
        var resolver: any MailDNS.Resolver = NetworkResolver(
            conf: NetworkResolver.systemConf(path: env.isEmpty ? "/etc/resolv.conf" : env),
            logger: Logger(label: "dns") { MoxLogHandler(label: $0, levels: levels) }
        )
        if localserve {
            let overlay = MockResolver()
            var names: [String] = []
            let (ring, _) = DKIMKeyring.load(config)
            for domain in config.dynamicConfig.domains.keys {
                guard let d = Domain.parse(domain) else { continue }
                overlay.addTXT(d.ascii, "v=spf1 ip4:127.0.0.1/8 ip6:::1 ~all")
                names.append(d.ascii)
                for sel in ring.signers[d.ascii] ?? [] {
                    let name = "\(sel.selector)._domainkey.\(d.ascii)"
                    overlay.addTXT(name, sel.key.txtRecord)
                    names.append(name)
                }
            }
            resolver = OverlayResolver(base: resolver, overlay: overlay, names: names)
        }
        let suffixes: PublicSuffixList
        switch PublicSuffixList.load() {
        case .success(let list): suffixes = list
        case .failure(let error):
            // Without the list every domain's organizational domain is its last two labels.
            log.warning("no public suffix list, dmarc uses the last two labels as organizational domain", metadata: ["error": "\(error)"])
            suffixes = PublicSuffixList()
        }
        return MessageAuthenticator(
            resolver: resolver, suffixes: suffixes, hostname: config.staticConfig.hostname, localserve: localserve
        )
    }

    /// mox.conf's LogLevel and PackageLogLevels, checked.
    public static func logLevels(_ config: Config) throws(RuntimeError) -> LogLevels {
        guard let level = MoxLogLevel(name: config.staticConfig.logLevel) else {
            throw RuntimeError("\(config.staticPath): LogLevel: unknown level \"\(config.staticConfig.logLevel)\"")
        }
        var packageLevels: [String: MoxLogLevel] = [:]
        for (package, name) in config.staticConfig.packageLogLevels {
            guard let packageLevel = MoxLogLevel(name: name) else {
                throw RuntimeError("\(config.staticPath): PackageLogLevels: \(package): unknown level \"\(name)\"")
            }
            packageLevels[package] = packageLevel
        }
        return LogLevels(defaultLevel: level, packages: packageLevels)
    }

    /// A logger for one of mox's packages, with its configured level.
    public func logger(_ package: String) -> Logger {
        let levels = self.logLevels
        return Logger(label: package) { MoxLogHandler(label: $0, levels: levels) }
    }

    /// One service to start.
    public struct Endpoint: Sendable, CustomStringConvertible {
        public var listenerName: String
        public var kind: ServiceKind
        public var ip: String
        public var port: Int

        public var address: String {
            (self.ip.contains(":") ? "[\(self.ip)]" : self.ip) + ":\(self.port)"
        }

        public var description: String {
            "\(self.kind.rawValue) on \(self.address) (listener \(self.listenerName))"
        }
    }

    public enum ServiceKind: String, Sendable {
        case smtp, submission, submissions, imap, imaps, http, https

        init(_ smtp: SMTPListenerKind) {
            switch smtp {
            case .smtp: self = .smtp
            case .submission: self = .submission
            case .submissions: self = .submissions
            }
        }
    }

    /// Starts every enabled SMTP service; returns what was started and, separately, the enabled
    /// services this version does not implement yet.
    public func start() async throws(RuntimeError) -> (started: [Endpoint], notImplemented: [String]) {
        var started: [Endpoint] = []
        var missing: [String] = []
        let staticConfig = self.config.staticConfig
        for (name, listener) in staticConfig.listeners.sorted(by: { $0.key < $1.key }) {
            let tls = try self.loadTLS(name, listener)
            let hostname = listener.hostname.isEmpty ? staticConfig.hostname : listener.hostname
            let ips = listener.ips.isEmpty ? ["0.0.0.0"] : listener.ips
            var services: [(SMTPListenerKind, Int)] = []
            if listener.smtp.enabled { services.append((.smtp, listener.smtp.port == 0 ? 25 : listener.smtp.port)) }
            if listener.submission.enabled {
                services.append((.submission, listener.submission.port == 0 ? 587 : listener.submission.port))
            }
            if listener.submissions.enabled {
                services.append((.submissions, listener.submissions.port == 0 ? 465 : listener.submissions.port))
            }
            for (kind, port) in services {
                if kind == .submissions && tls == nil {
                    throw RuntimeError("listener \(name): Submissions needs TLS: configure TLS on the listener")
                }
                var options = SMTPServerOptions(
                    hostname: hostname,
                    listener: kind,
                    tls: tls,
                    clientLimits: self.clientLimits
                )
                options.pedantic = staticConfig.pedantic && !self.localserve
                options.listenerName = name
                if self.localserve { options.connectionLimits = .unlimited }
                options.offerCRAMMD5 = self.localserve
                if listener.smtpMaxMessageSize > 0 {
                    options.maxMessageSize = Int(listener.smtpMaxMessageSize)
                }
                switch kind {
                case .smtp:
                    options.offerSTARTTLS = !listener.smtp.noSTARTTLS
                    options.requireSTARTTLSForMail = listener.smtp.requireSTARTTLS
                    options.offerREQUIRETLS = !listener.smtp.noRequireTLS
                case .submission:
                    options.requireTLSForSubmission = !listener.submission.noRequireSTARTTLS
                case .submissions:
                    break
                }
                for ip in ips {
                    let endpoint = Endpoint(listenerName: name, kind: ServiceKind(kind), ip: ip, port: port)
                    do {
                        let smtp = try await SMTPListener.start(
                            host: ip,
                            port: port,
                            options: options,
                            backend: self.backend,
                            group: MultiThreadedEventLoopGroup.singleton,
                            logger: self.logger("smtpserver")
                        )
                        self.listeners.withLock { $0.append(smtp) }
                    } catch {
                        await self.stop()
                        throw RuntimeError("listening for \(endpoint): \(error)")
                    }
                    started.append(endpoint)
                    self.log.info("listening", metadata: ["service": "\(kind.rawValue)", "addr": "\(endpoint.address)"])
                }
            }
            var imapServices: [(Bool, Int)] = []
            if listener.imap.enabled { imapServices.append((false, listener.imap.port == 0 ? 143 : listener.imap.port)) }
            if listener.imaps.enabled {
                imapServices.append((true, listener.imaps.port == 0 ? 993 : listener.imaps.port))
            }
            for (implicitTLS, port) in imapServices {
                if implicitTLS && tls == nil {
                    throw RuntimeError("listener \(name): IMAPS needs TLS: configure TLS on the listener")
                }
                var options = IMAPServerOptions(
                    hostname: hostname,
                    tls: tls,
                    clientLimits: self.clientLimits
                )
                options.implicitTLS = implicitTLS
                options.listenerName = name
                if self.localserve { options.connectionLimits = .unlimited }
                options.requireTLSForAuth = !listener.imap.noRequireSTARTTLS
                options.offerCRAMMD5 = self.localserve
                for ip in ips {
                    let endpoint = Endpoint(listenerName: name, kind: implicitTLS ? .imaps : .imap, ip: ip, port: port)
                    do {
                        let imap = try await IMAPListener.start(
                            host: ip,
                            port: port,
                            options: options,
                            backend: StoreIMAPBackend(self.backend),
                            group: MultiThreadedEventLoopGroup.singleton,
                            logger: self.logger("imapserver")
                        )
                        self.imapListeners.withLock { $0.append(imap) }
                    } catch {
                        await self.stop()
                        throw RuntimeError("listening for \(endpoint): \(error)")
                    }
                    started.append(endpoint)
                    self.log.info("listening", metadata: ["service": "\(endpoint.kind.rawValue)", "addr": "\(endpoint.address)"])
                }
            }
            let webPorts: [WebPort]
            do {
                webPorts = try WebPlan.ports(listenerName: name, listener, hasTLS: tls != nil)
            } catch {
                await self.stop()
                throw RuntimeError("\(error)")
            }
            for webPort in webPorts {
                for ip in ips {
                    let endpoint = Endpoint(listenerName: name, kind: webPort.tls ? .https : .http, ip: ip, port: webPort.port)
                    do {
                        try await self.web.start(host: ip, port: webPort, tls: tls, listenerName: name)
                    } catch {
                        await self.stop()
                        throw RuntimeError("listening for \(endpoint): \(error)")
                    }
                    started.append(endpoint)
                    self.log.info(
                        "listening",
                        metadata: [
                            "service": "\(webPort.kinds.joined(separator: ", "))",
                            "addr": "\(endpoint.address)",
                        ]
                    )
                }
            }
            if listener.pprofHTTP.enabled {
                // Go's profiler; nothing like it exists here.
                missing.append("PprofHTTP on listener \(name) (Go profiling, not applicable)")
            }
        }
        // Start-up code is mapped but not needed any more (see StartupMemory).
        StartupMemory.releaseCodePages()
        return (started, missing)
    }

    func loadTLS(_ name: String, _ listener: Listener) throws(RuntimeError) -> ServerTLS? {
        guard let tls = listener.tls else { return nil }
        guard let keyCert = tls.keyCerts.first else {
            if !tls.acme.isEmpty {
                throw RuntimeError("listener \(name): ACME certificates are not supported yet; configure KeyCerts")
            }
            return nil
        }
        do {
            return try ServerTLS.load(
                certificateFile: self.config.configDirPath(keyCert.certFile),
                keyFile: self.config.configDirPath(keyCert.keyFile),
                requestClientCertificates: !tls.clientAuthDisabled
            )
        } catch {
            throw RuntimeError("listener \(name): \(error)")
        }
    }

    /// The server's long-running parts, to run in one `ServiceGroup` (see `run`): the server
    /// itself, the domains.conf watcher and the control socket. SIGINT/SIGTERM (the group's
    /// graceful shutdown) or `mox stop` stop them all.
    public func services() -> [any Service] {
        var services: [any Service] = [
            self, DomainsConfigWatcher(server: self), ControlSocketService(server: self), self.queueRunner,
        ]
        if !self.localserve, let authenticator = self.backend.delivery.authenticator {
            let backend = self.backend
            services.append(
                DNSBLMonitor(config: { backend.config }, resolver: authenticator.resolver, log: self.logger("dnsblmonitor"))
            )
        }
        return services
    }

    /// Runs the services of ``services()`` until SIGINT, SIGTERM or `mox stop`, then returns once
    /// every connection has finished (up to the grace period) and the accounts are closed.
    public func runUntilStopped() async {
        let group = ServiceGroup(
            configuration: ServiceGroupConfiguration(
                services: self.services().map {
                    ServiceGroupConfiguration.ServiceConfiguration(
                        service: $0,
                        successTerminationBehavior: .gracefullyShutdownGroup,
                        failureTerminationBehavior: .gracefullyShutdownGroup
                    )
                },
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: self.log
            )
        )
        do {
            try await group.run()
        } catch {
            self.log.error("service group", metadata: ["err": "\(error)"])
        }
    }

    public func requestStop() {
        let waiting = self.stopRequested.withLock { list in
            defer { list = [] }
            return list
        }
        self.stopped.withLock { $0 = true }
        for continuation in waiting {
            continuation.resume()
        }
    }

    /// Stops the listeners (connections get up to 3 seconds to finish) and closes the accounts.
    public func stop() async {
        let listeners = self.listeners.withLock { list in
            defer { list = [] }
            return list
        }
        let imapListeners = self.imapListeners.withLock { list in
            defer { list = [] }
            return list
        }
        await withTaskGroup(of: Void.self) { group in
            for listener in listeners {
                group.addTask { await listener.stop() }
            }
            for listener in imapListeners {
                group.addTask { await listener.stop() }
            }
            group.addTask { await self.web.stop() }
        }
        await self.accounts.closeAll()
    }

    func watchDynamicConfig() async {
        var last = Self.modificationTime(self.config.dynamicPath)
        while !Task.isCancelled {
            try? await Task.sleep(for: .seconds(1))
            let now = Self.modificationTime(self.config.dynamicPath)
            guard now != last else { continue }
            last = now
            do {
                let reloaded = try ConfigLoader.load(staticPath: self.config.staticPath)
                self.backend.replaceConfig(reloaded)
                self.web.update(reloaded)
                self.log.info("domains.conf reloaded", metadata: ["path": "\(self.config.dynamicPath)"])
            } catch {
                self.log.error(
                    "domains.conf changed but has errors, keeping the previous configuration",
                    metadata: ["errors": "\(error)"]
                )
            }
        }
    }

    /// The file's modification time and size, to notice changes; nil when it cannot be read.
    static func modificationTime(_ path: String) -> [String]? {
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: path) else { return nil }
        return ["\(attributes[.modificationDate] ?? "")", "\(attributes[.size] ?? "")"]
    }
}

extension MoxServer: Service {
    /// Waits for a graceful shutdown (a signal, through the service group) or `mox stop`, then
    /// stops the listeners (transactions under way get the grace period) and closes the accounts.
    public func run() async throws {
        await withGracefulShutdownHandler {
            await withCheckedContinuation { continuation in
                let alreadyStopped = self.stopped.withLock { $0 }
                if alreadyStopped {
                    continuation.resume()
                } else {
                    self.stopRequested.withLock { $0.append(continuation) }
                }
            }
        } onGracefulShutdown: {
            self.log.info("shutting down", metadata: ["grace": "3s"])
            self.requestStop()
        }
        await self.stop()
    }
}

/// Reloads domains.conf when it changes, keeping the old configuration when the new one has
/// errors; stops with the server.
struct DomainsConfigWatcher: Service {
    let server: MoxServer

    func run() async throws {
        await cancelWhenGracefulShutdown {
            await self.server.watchDynamicConfig()
        }
    }
}

/// The control socket ("ctl" in the data directory) for `mox stop` and the account commands,
/// open while the server runs.
struct ControlSocketService: Service {
    let server: MoxServer

    func run() async throws {
        let server = self.server
        // A fresh configuration's data directory does not exist yet (the accounts make it when
        // they open, after this): make it now, as mox does at start, so the socket can be made.
        try? FileManager.default.createDirectory(
            atPath: server.config.dataDirPath("."), withIntermediateDirectories: true,
            attributes: [.posixPermissions: 0o770]
        )
        let control = ControlSocket(
            path: server.config.dataDirPath("ctl"),
            log: server.log,
            onStop: {
                server.log.info("shutting down", metadata: ["reason": "mox stop"])
                server.requestStop()
            },
            onCloseAccount: { name in
                await server.accounts.close(name)
                server.log.info("account closed on request", metadata: ["account": "\(name)"])
            },
            onQueue: { request in
                QueueControl(runner: server.queueRunner).handle(request)
            }
        )
        try? await gracefulShutdown()
        control?.close()
    }
}

extension StructureEncoder {
    /// The IMAP server's ENVELOPE and BODYSTRUCTURE, kept beside each stored message.
    public static let imap = StructureEncoder(
        ofMessage: { IMAPMessageStructure.of($0) },
        ofScan: { IMAPMessageStructure.of($0) }
    )
}
