// The server's metrics, under mox's names and labels (so dashboards and alert rules made for mox
// keep working), recorded through swift-metrics and served in Prometheus's text format.
//
// Code records with the functions of `MoxMetrics`; until `bootstrap()` runs (tests, commands
// other than serve/localserve) swift-metrics drops everything at no cost.

import CoreMetrics
import Metrics
import Prometheus
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

public enum MoxMetrics {
    /// Where every metric lives once bootstrapped; `/metrics` renders it.
    public static let registry = PrometheusCollectorRegistry()
    static let bootstrapped = Mutex(false)

    /// Routes swift-metrics to the Prometheus registry, with mox's help texts and buckets.
    /// Idempotent; the first call wins.
    public static func bootstrap() {
        let first = Self.bootstrapped.withLock { done -> Bool in
            defer { done = true }
            return !done
        }
        guard first else { return }
        MetricsSystem.bootstrap(MoxMetricsFactory(registry: Self.registry))
        // Timers made before this point went to swift-metrics' no-op handler.
        Self.httpTimers.withLock { $0.removeAll() }
        // Series that alert rules look at with increase(): present from the start, at 0.
        for package in [
            "ctl", "import", "serve", "imapserver", "mtastsdb", "queue", "smtpclient", "smtpserver", "dkimverify",
            "spfverify", "upgradethreads", "importmanage", "importmessages", "webadmin", "webmailsendevent", "webmail",
            "webmailrequest", "webmailquery", "webmailhandle",
        ] {
            Counter(label: "mox_panic_total", dimensions: [("pkg", package)]).increment(by: 0)
        }
        for level in ["info", "warn", "error"] {
            Counter(label: "mox_logging_level_\(level)_total").increment(by: 0)
        }
        ProcessMetrics.start()
    }

    /// The text exposition format (version 0.0.4) of every metric, process metrics refreshed.
    public static func render() -> [UInt8] {
        ProcessMetrics.update(Self.registry)
        return Self.registry.emitToBuffer()
    }

    // MARK: - SMTP server

    /// An incoming SMTP connection; `kind` is "smtp" or "submission" (mox's values).
    public static func smtpConnection(kind: String) {
        Counter(label: "mox_smtpserver_connection_total", dimensions: [("kind", kind)]).increment()
    }

    /// A reply written: how long since its command started, by command and reply code.
    public static func smtpCommand(kind: String, command: String, code: Int, enhancedCode: String, seconds: Double) {
        Timer(
            label: "mox_smtpserver_command_duration_seconds",
            dimensions: [("kind", kind), ("cmd", command), ("code", String(code)), ("ecode", enhancedCode)]
        ).recordNanoseconds(Int64(seconds * 1e9))
    }

    /// An incoming delivery (not submission): result delivered, reject, unknownuser, accounterror, delivererror.
    public static func smtpDelivery(result: String, reason: String) {
        Counter(label: "mox_smtpserver_delivery_total", dimensions: [("result", result), ("reason", reason)]).increment()
    }

    /// A submission: result ok, badmessage, badfrom, badheader, messagelimiterror, recipientlimiterror, queueerror.
    public static func smtpSubmission(result: String) {
        Counter(label: "mox_smtpserver_submission_total", dimensions: [("result", result)]).increment()
    }

    /// A STARTTLS handshake on an incoming-delivery connection, and one that failed.
    public static func smtpDeliverySTARTTLS() {
        Counter(label: "mox_smtpserver_delivery_starttls_total").increment()
    }

    public static func smtpDeliverySTARTTLSError(reason: String) {
        Counter(label: "mox_smtpserver_delivery_starttls_errors_total", dimensions: [("reason", reason)]).increment()
    }

    // MARK: - Queue

    /// A connection made for outgoing delivery: result ok, timeout, canceled or error.
    public static func queueConnection(result: String) {
        Counter(label: "mox_queue_connection_total", dimensions: [("result", result)]).increment()
    }

    /// One delivery attempt: its attempt number, transport, TLS mode and result (ok, okpartial,
    /// timeout, canceled, temperror, permerror, error).
    public static func queueDelivery(attempt: Int, transport: String, tlsMode: String, result: String, seconds: Double) {
        Timer(
            label: "mox_queue_delivery_duration_seconds",
            dimensions: [("attempt", String(attempt)), ("transport", transport), ("tlsmode", tlsMode), ("result", result)]
        ).recordNanoseconds(Int64(seconds * 1e9))
    }

    /// Messages in the queue on hold.
    public static func queueHold(_ count: Int) {
        Self.registry.makeGauge(descriptor: MetricCatalog.descriptor("mox_queue_hold"), labels: []).set(Double(count))
    }

    // MARK: - IMAP server

    /// An incoming IMAP connection; `service` is "imap" or "imaps".
    public static func imapConnection(service: String) {
        Counter(label: "mox_imap_connection_total", dimensions: [("service", service)]).increment()
    }

    /// A finished command, lowercased (`uid fetch`), with result ok, badsyntax, usererror, servererror, ioerror.
    public static func imapCommand(command: String, result: String, seconds: Double) {
        Timer(label: "mox_imap_command_duration_seconds", dimensions: [("cmd", command), ("result", result)])
            .recordNanoseconds(Int64(seconds * 1e9))
    }

    // MARK: - Authentication and connections

    /// A login attempt: kind submission, imap, webapi, webmail, webaccount, webadmin; variant the
    /// mechanism lowercased (plain, login, cram-md5, scram-sha-256, ..., httpbasic); result ok,
    /// badcreds, badchanbind, badprotocol, logindisabled, error, aborted.
    public static func authentication(kind: String, variant: String, result: String) {
        Counter(
            label: "mox_authentication_total",
            dimensions: [("kind", kind), ("variant", variant), ("result", result)]
        ).increment()
    }

    /// A connection refused because its address had too many failed logins.
    public static func authenticationRateLimited(kind: String) {
        Counter(label: "mox_authentication_ratelimited_total", dimensions: [("kind", kind)]).increment()
    }

    /// Open connections of a protocol (smtp, imap) on a listener: +1 when one opens, -1 when it closes.
    public static func connectionOpened(protocol name: String, listener: String) {
        Meter(label: "mox_connections_count", dimensions: [("listener", listener), ("protocol", name)]).increment()
    }

    public static func connectionClosed(protocol name: String, listener: String) {
        Meter(label: "mox_connections_count", dimensions: [("listener", listener), ("protocol", name)]).decrement()
    }

    /// A panic-like failure caught in a package (mox's mox_panic_total).
    public static func panic(package: String) {
        Counter(label: "mox_panic_total", dimensions: [("pkg", package)]).increment()
    }

    /// A log line at info, warn or error that passed the level filter.
    public static func logged(level: String) {
        Counter(label: "mox_logging_level_\(level)_total").increment()
    }

    // MARK: - HTTP server

    /// One HTTP request: until its status was written, and until its response was complete.
    /// `handler` is the serving handler's name (metrics, autoconfig, a WebHandler's LogName,
    /// "(nomatch)", ...); `proto` http or https; `method` lowercased.
    public static func httpRequest(
        handler: String,
        proto: String,
        method: String,
        code: Int,
        untilStatus: Double,
        untilDone: Double
    ) {
        let key = HTTPRequestLabels(handler: handler, proto: proto, method: method, code: code)
        let timers =
            Self.httpTimers.withLock { $0[key] }
            ?? {
                let dimensions = [("handler", handler), ("proto", proto), ("method", method), ("code", String(code))]
                let made = (
                    Timer(label: "mox_httpserver_request_duration_seconds", dimensions: dimensions),
                    Timer(label: "mox_httpserver_response_duration_seconds", dimensions: dimensions)
                )
                Self.httpTimers.withLock { $0[key] = made }
                return made
            }()
        timers.0.recordNanoseconds(Int64(untilStatus * 1e9))
        timers.1.recordNanoseconds(Int64(untilDone * 1e9))
    }

    /// The two timers of each label set, made once: a request then costs a dictionary lookup, not
    /// building the metric's key from its labels twice.
    struct HTTPRequestLabels: Hashable {
        let handler: String
        let proto: String
        let method: String
        let code: Int
    }
    static let httpTimers = Mutex<[HTTPRequestLabels: (Timer, Timer)]>([:])

    /// One DNS lookup: mox's labels, type as its resolver's method names ("txt", "mx", "ip",
    /// "addr", ...), result ok, nxdomain, temporary, timeout or error.
    public static func dnsLookup(package: String, type: String, result: String, seconds: Double) {
        Timer(label: "mox_dns_lookup_duration_seconds", dimensions: [("pkg", package), ("type", type), ("result", result)])
            .recordNanoseconds(Int64(seconds * 1e9))
    }

    /// One DNS blocklist lookup (incoming mail or monitoring), status pass, fail or temperror.
    public static func dnsblLookup(zone: String, status: String, seconds: Double) {
        Timer(label: "mox_dnsbl_lookup_duration_seconds", dimensions: [("zone", zone), ("status", status)])
            .recordNanoseconds(Int64(seconds * 1e9))
    }

    /// The monitor's verdict on one of our IPs in one zone: 1 not listed, 0 listed or the lookup
    /// failed, -1 our IPs could not be determined.
    public static func dnsblIPSuccess(zone: String, ip: String, value: Double) {
        Self.dnsblGauge(zone: zone, ip: ip).set(value)
    }

    /// Drops a zone/IP pair the monitor no longer checks, so its last value does not linger.
    public static func dnsblIPRemove(zone: String, ip: String) {
        Self.registry.unregisterGauge(Self.dnsblGauge(zone: zone, ip: ip))
    }

    /// Directly in the registry (not through swift-metrics), which can remove a label pair.
    static func dnsblGauge(zone: String, ip: String) -> Prometheus.Gauge {
        Self.registry.makeGauge(descriptor: MetricCatalog.descriptor("mox_dnsbl_ips_success"), labels: [("zone", zone), ("ip", ip)])
    }

    /// Outgoing delivery connections made since start; the queue counts them, the DNSBL monitor
    /// checks more often when there are more.
    public static let outgoingConnections = Atomic<Int>(0)

    public static func autoconfRequest(domain: String) {
        Counter(label: "mox_autoconf_request_total", dimensions: [("domain", domain)]).increment()
    }

    public static func autodiscoverRequest(domain: String) {
        Counter(label: "mox_autodiscover_request_total", dimensions: [("domain", domain)]).increment()
    }

    /// mox's lowercase name for an HTTP method, "(other)" for one outside the IANA registry's common set.
    public static func methodLabel(_ method: String) -> String {
        switch method {
        case "GET": return "get"
        case "HEAD": return "head"
        case "POST": return "post"
        default: break
        }
        let lower = method.lowercased()
        return Self.knownMethods.contains(lower) ? lower : "(other)"
    }

    static let knownMethods: Set<String> = [
        "acl", "baseline-control", "bind", "checkin", "checkout", "connect", "copy", "delete", "get", "head",
        "label", "link", "lock", "merge", "mkactivity", "mkcalendar", "mkcol", "mkredirectref", "mkworkspace",
        "move", "options", "orderpatch", "patch", "post", "pri", "propfind", "proppatch", "put", "rebind",
        "report", "search", "trace", "unbind", "uncheckout", "unlink", "unlock", "update", "updateredirectref",
        "version-control",
    ]
}

/// Help texts and histogram buckets of mox's metrics, as mox declares them.
enum MetricCatalog {
    static let help: [String: String] = [
        "mox_smtpserver_connection_total": "Incoming SMTP connections.",
        "mox_smtpserver_command_duration_seconds": "SMTP server command duration and result codes in seconds.",
        "mox_smtpserver_delivery_total":
            "SMTP incoming message delivery from external source, not submission. Result values: delivered, reject, unknownuser, accounterror, delivererror. Reason indicates why a message was rejected/accepted.",
        "mox_smtpserver_submission_total":
            "SMTP server incoming submission results, known values (those ending with error are server errors): ok, badmessage, badfrom, badheader, messagelimiterror, recipientlimiterror, localserveerror, queueerror.",
        "mox_smtpserver_errors_total": "SMTP server errors, known values: dkimsign, queuedsn.",
        "mox_smtpserver_delivery_starttls_total": "Total number of STARTTLS handshakes for incoming deliveries.",
        "mox_smtpserver_delivery_starttls_errors_total":
            "Errors with TLS handshake during STARTTLS for incoming deliveries.",
        "mox_queue_connection_total": "Queue client connections, outgoing.",
        "mox_queue_delivery_duration_seconds": "SMTP client delivery attempt to single host.",
        "mox_queue_hold": "Messages in queue that are on hold.",
        "mox_imap_connection_total": "Incoming IMAP connections.",
        "mox_imap_command_duration_seconds": "IMAP command duration and result codes in seconds.",
        "mox_authentication_total": "Authentication attempts and results.",
        "mox_authentication_ratelimited_total": "Authentication attempts that were refused due to rate limiting.",
        "mox_connections_count": "Open connections, per protocol/listener.",
        "mox_panic_total": "Number of unhandled panics, by package.",
        "mox_logging_level_info_total": "Total number of logging events at level info.",
        "mox_logging_level_warn_total": "Total number of logging events at level warn.",
        "mox_logging_level_error_total": "Total number of logging events at level error.",
        "mox_dns_lookup_duration_seconds": "DNS lookups.",
        "mox_httpserver_request_duration_seconds":
            "HTTP(s) server request with handler name, protocol, method, result codes, and duration until response status code is written, in seconds.",
        "mox_httpserver_response_duration_seconds":
            "HTTP(s) server response with handler name, protocol, method, result codes, and duration of entire response, in seconds.",
        "mox_dnsbl_ips_success": "DNSBL lookups to configured DNSBLs of our IPs.",
        "mox_dnsbl_lookup_duration_seconds": "DNSBL lookup",
        "mox_autoconf_request_total": "Number of autoconf requests.",
        "mox_autodiscover_request_total": "Number of autodiscover requests.",
    ]

    static let buckets: [String: [Double]] = [
        "mox_smtpserver_command_duration_seconds": [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 20, 30, 60, 120],
        "mox_queue_delivery_duration_seconds": [0.01, 0.05, 0.1, 0.5, 1, 5, 10, 20, 30, 60, 120],
        "mox_imap_command_duration_seconds": [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 20],
        "mox_dns_lookup_duration_seconds": [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 20, 30],
        "mox_dnsbl_lookup_duration_seconds": [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 20],
        "mox_httpserver_request_duration_seconds": [
            0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 20, 30, 60, 120,
        ],
        "mox_httpserver_response_duration_seconds": [
            0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 20, 30, 60, 120,
        ],
    ]

    static func descriptor(_ name: String, help: String? = nil) -> MetricNameDescriptor {
        MetricNameDescriptor(metricName: name, unitName: "", helpText: help ?? Self.help[name] ?? "")
    }

    static let defaultBuckets: [Double] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]
}

/// swift-metrics onto the Prometheus registry, giving each metric mox's help text and buckets.
struct MoxMetricsFactory: MetricsFactory {
    let registry: PrometheusCollectorRegistry
    /// Handlers by label and dimensions. swift-metrics asks the factory on every `Counter(...)` or
    /// `Timer(...)`, and the registry's own lookup checks the help text and labels each time: with
    /// one request per few microseconds (HTTP), that was a measurable share of the work.
    let cache = HandlerCache()

    final class HandlerCache: Sendable {
        let counters = Mutex<[String: any CounterHandler]>([:])
        let timers = Mutex<[String: any TimerHandler]>([:])
    }

    static func key(_ label: String, _ dimensions: [(String, String)]) -> String {
        var key = label
        for (name, value) in dimensions {
            key += "\u{0}"
            key += name
            key += "\u{1}"
            key += value
        }
        return key
    }

    func makeCounter(label: String, dimensions: [(String, String)]) -> any CounterHandler {
        let key = Self.key(label, dimensions)
        if let handler = self.cache.counters.withLock({ $0[key] }) { return handler }
        let handler = self.registry.makeCounter(descriptor: MetricCatalog.descriptor(label), labels: dimensions)
        self.cache.counters.withLock { $0[key] = handler }
        return handler
    }

    func makeFloatingPointCounter(label: String, dimensions: [(String, String)]) -> any FloatingPointCounterHandler {
        self.registry.makeCounter(descriptor: MetricCatalog.descriptor(label), labels: dimensions)
    }

    func makeRecorder(label: String, dimensions: [(String, String)], aggregate: Bool) -> any RecorderHandler {
        let descriptor = MetricCatalog.descriptor(label)
        guard aggregate else { return self.registry.makeGauge(descriptor: descriptor, labels: dimensions) }
        return self.registry.makeValueHistogram(
            descriptor: descriptor,
            labels: dimensions,
            buckets: MetricCatalog.buckets[label] ?? MetricCatalog.defaultBuckets
        )
    }

    func makeMeter(label: String, dimensions: [(String, String)]) -> any MeterHandler {
        self.registry.makeGauge(descriptor: MetricCatalog.descriptor(label), labels: dimensions)
    }

    func makeTimer(label: String, dimensions: [(String, String)]) -> any TimerHandler {
        let key = Self.key(label, dimensions)
        if let handler = self.cache.timers.withLock({ $0[key] }) { return handler }
        let seconds = MetricCatalog.buckets[label] ?? MetricCatalog.defaultBuckets
        let handler = self.registry.makeDurationHistogram(
            descriptor: MetricCatalog.descriptor(label),
            labels: dimensions,
            buckets: seconds.map { Duration.nanoseconds(Int64($0 * 1e9)) }
        )
        self.cache.timers.withLock { $0[key] = handler }
        return handler
    }

    // Metrics live as long as the process: nothing to release.
    func destroyCounter(_ handler: any CounterHandler) {}
    func destroyFloatingPointCounter(_ handler: any FloatingPointCounterHandler) {}
    func destroyRecorder(_ handler: any RecorderHandler) {}
    func destroyMeter(_ handler: any MeterHandler) {}
    func destroyTimer(_ handler: any TimerHandler) {}
}

/// The process_* metrics Prometheus's own clients export on Linux, read from /proc at each scrape.
enum ProcessMetrics {
    static let startTime = Mutex<Double>(0)
    static let lastCPU = Mutex<Double>(0)

    static func start() {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        let start = Double(now.tv_sec) + Double(now.tv_nsec) / 1e9 - Self.uptimeSeconds()
        Self.startTime.withLock { $0 = start }
    }

    /// Seconds since the process started, from /proc/self/stat's start time and the system's uptime.
    static func uptimeSeconds() -> Double {
        guard let stat = Self.statFields(), stat.count > 19, let started = Double(stat[19]),
            let uptimeText = Self.read("/proc/uptime"),
            let uptime = Double(uptimeText.split(separator: " ").first ?? "")
        else { return 0 }
        return max(0, uptime - started / Double(sysconf(Int32(_SC_CLK_TCK))))
    }

    /// /proc/self/stat's fields after the command name (field 3, the state, is index 0).
    static func statFields() -> [Substring]? {
        guard let text = Self.read("/proc/self/stat"), let close = text.lastIndex(of: ")") else { return nil }
        return text[text.index(after: close)...].split(separator: " ")
    }

    static func read(_ path: String) -> String? {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: 4096)
        let count = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, 4096) }
        guard count > 0 else { return nil }
        return String(decoding: buffer[..<count], as: UTF8.self)
    }

    static func update(_ registry: PrometheusCollectorRegistry) {
        let pageSize = Double(sysconf(Int32(_SC_PAGESIZE)))
        let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))
        if let stat = Self.statFields(), stat.count > 21 {
            // Fields 14 and 15 (utime, stime), 23 (vsize) and 24 (rss) of proc(5).
            let cpu = ((Double(stat[11]) ?? 0) + (Double(stat[12]) ?? 0)) / ticks
            let delta = Self.lastCPU.withLock { last -> Double in
                defer { last = max(last, cpu) }
                return max(0, cpu - last)
            }
            registry.makeCounter(descriptor: MetricCatalog.descriptor("process_cpu_seconds_total", help: "Total user and system CPU time spent in seconds."))
                .increment(by: delta)
            registry.makeGauge(descriptor: MetricCatalog.descriptor("process_virtual_memory_bytes", help: "Virtual memory size in bytes."))
                .set(to: Double(stat[20]) ?? 0)
            registry.makeGauge(descriptor: MetricCatalog.descriptor("process_resident_memory_bytes", help: "Resident memory size in bytes."))
                .set(to: (Double(stat[21]) ?? 0) * pageSize)
        }
        registry.makeGauge(descriptor: MetricCatalog.descriptor("process_start_time_seconds", help: "Start time of the process since unix epoch in seconds."))
            .set(to: Self.startTime.withLock { $0 })
        var limit = rlimit()
        if getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit) == 0 {
            registry.makeGauge(descriptor: MetricCatalog.descriptor("process_max_fds", help: "Maximum number of open file descriptors."))
                .set(to: Double(limit.rlim_cur))
        }
        registry.makeGauge(descriptor: MetricCatalog.descriptor("process_open_fds", help: "Number of open file descriptors."))
            .set(to: Double(Self.openDescriptors()))
    }

    static func openDescriptors() -> Int {
        guard let dir = opendir("/proc/self/fd") else { return 0 }
        defer { closedir(dir) }
        var count = 0
        while readdir(dir) != nil { count += 1 }
        return max(0, count - 3)  // ".", ".." and the directory's own descriptor
    }
}

extension Duration {
    /// The duration in seconds, as metrics record it.
    public var seconds: Double {
        let (s, atto) = self.components
        return Double(s) + Double(atto) / 1e18
    }
}
