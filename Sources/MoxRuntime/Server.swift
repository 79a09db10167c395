// A running server: the listeners of mox.conf, the accounts, reloading domains.conf, and a
// clean stop on SIGINT/SIGTERM or `mox stop`.

import Dispatch
import Logging
import MailLog
import FoundationEssentials
import IMAPServer
import MailConfig
import MailNetwork
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
    let stopRequested = Mutex<[CheckedContinuation<Void, Never>]>([])
    let stopped = Mutex(false)

    public init(config: Config, localserve: Bool) throws(RuntimeError) {
        self.config = config
        self.localserve = localserve
        self.logLevels = try Self.logLevels(config)
        let levels = self.logLevels
        self.log = Logger(label: localserve ? "localserve" : "serve") { MoxLogHandler(label: $0, levels: levels) }
        self.clientLimits = localserve ? .unlimited() : ClientLimits()
        self.accounts = AccountRegistry(dataDir: config.dataDirectory)
        self.backend = StoreSMTPBackend(
            config: config,
            accounts: self.accounts,
            localserve: localserve,
            log: Logger(label: "smtpserver") { MoxLogHandler(label: $0, levels: levels) }
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
        case smtp, submission, submissions, imap, imaps

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
            let unimplemented: [(String, Bool, Int)] = [
                ("AccountHTTP", listener.accountHTTP.enabled, listener.accountHTTP.port),
                ("AccountHTTPS", listener.accountHTTPS.enabled, listener.accountHTTPS.port),
                ("AdminHTTP", listener.adminHTTP.enabled, listener.adminHTTP.port),
                ("AdminHTTPS", listener.adminHTTPS.enabled, listener.adminHTTPS.port),
                ("WebmailHTTP", listener.webmailHTTP.enabled, listener.webmailHTTP.port),
                ("WebmailHTTPS", listener.webmailHTTPS.enabled, listener.webmailHTTPS.port),
                ("WebAPIHTTP", listener.webAPIHTTP.enabled, listener.webAPIHTTP.port),
                ("WebAPIHTTPS", listener.webAPIHTTPS.enabled, listener.webAPIHTTPS.port),
                ("MetricsHTTP", listener.metricsHTTP.enabled, listener.metricsHTTP.port),
                ("WebserverHTTP", listener.webserverHTTP.enabled, listener.webserverHTTP.port),
                ("WebserverHTTPS", listener.webserverHTTPS.enabled, listener.webserverHTTPS.port),
            ]
            for (service, enabled, port) in unimplemented where enabled {
                missing.append("\(service)\(port > 0 ? " (port \(port))" : "") on listener \(name)")
            }
        }
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

    /// Runs until SIGINT, SIGTERM or ``requestStop()``, then stops cleanly. Meanwhile reloads
    /// domains.conf when it changes, keeping the old configuration when the new one has errors.
    public func runUntilStopped() async {
        let signals = SignalWatcher(signals: [SIGINT, SIGTERM]) { [weak self] signal in
            self?.log.info("shutting down", metadata: ["signal": "\(signal == SIGINT ? "interrupt" : "terminated")"])
            self?.requestStop()
        }
        let reloader = Task { [self] in await self.watchDynamicConfig() }
        let control = ControlSocket(
            path: self.config.dataDirPath("ctl"),
            log: self.log,
            onStop: { [weak self] in
                self?.log.info("shutting down", metadata: ["reason": "mox stop"])
                self?.requestStop()
            },
            onCloseAccount: { [weak self] name in
                await self?.accounts.close(name)
                self?.log.info("account closed on request", metadata: ["account": "\(name)"])
            }
        )
        await withCheckedContinuation { continuation in
            let alreadyStopped = self.stopped.withLock { $0 }
            if alreadyStopped {
                continuation.resume()
            } else {
                self.stopRequested.withLock { $0.append(continuation) }
            }
        }
        reloader.cancel()
        await self.stop()
        control?.close()
        signals.cancel()
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

/// Calls a handler (on a dispatch queue) when one of the signals arrives. The sources are only
/// set in init and cancelled once.
final class SignalWatcher: @unchecked Sendable {
    private let sources: [any DispatchSourceSignal]

    init(signals: [Int32], handler: @escaping @Sendable (Int32) -> Void) {
        var sources: [any DispatchSourceSignal] = []
        for signalNumber in signals {
            signal(signalNumber, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: .global())
            source.setEventHandler { handler(signalNumber) }
            source.resume()
            sources.append(source)
        }
        self.sources = sources
    }

    func cancel() {
        for source in self.sources {
            source.cancel()
        }
    }
}
