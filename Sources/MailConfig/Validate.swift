// Checks on a parsed mox.conf that go beyond the file's syntax: the checks mox makes when it
// loads the file, except those that need the network or the data directory.
import FoundationEssentials
import Sconf

/// Collects problems, each placed at the line where its field was given.
struct Validator {
    let file: String
    let locations: [String: Int]
    var errors: [ConfigError] = []

    init(file: String, locations: [String: Int]) {
        self.file = file
        self.locations = locations
    }

    mutating func add(_ fieldPath: String, _ reason: String) {
        self.errors.append(
            ConfigError(
                file: self.file,
                line: Self.line(for: fieldPath, in: self.locations),
                fieldPath: fieldPath,
                reason: reason
            )
        )
    }

    /// The line of `fieldPath`, or of its closest enclosing field that was given (a field left
    /// out of the file has no line of its own); 0 if none.
    static func line(for fieldPath: String, in locations: [String: Int]) -> Int {
        var p = fieldPath
        while !p.isEmpty {
            if let line = locations[p] {
                return line
            }
            if p.hasSuffix("]"), let bracket = p.lastIndex(of: "[") {
                p = String(p[..<bracket])
            } else if let dot = p.lastIndex(of: ".") {
                p = String(p[..<dot])
            } else {
                p = ""
            }
        }
        return 0
    }

    // MARK: - Shared checks

    mutating func checkDomain(_ s: String, _ path: String, what: String = "domain") {
        if let problem = ConfigSyntax.domainProblem(s) {
            self.add(path, "invalid \(what): \(problem)")
        }
    }

    mutating func checkPort(_ port: Int, _ path: String) {
        if port < 0 || port > 65535 {
            self.add(path, "port \(port) out of range: must be from 0 (the default port) to 65535")
        }
    }

    mutating func checkRegexp(_ pattern: String, _ path: String) {
        do {
            _ = try Regex(pattern)
        } catch {
            self.add(path, "invalid regular expression \"\(pattern)\": \(error)")
        }
    }

    /// Mailbox names must be in Unicode NFC form, as mailbox names are compared byte for byte.
    mutating func checkMailboxName(_ name: String, _ path: String) {
        let nfc = String(decoding: name._nfcCodeUnits, as: UTF8.self)  // stdlib NFC, no ICU needed
        if Array(nfc.unicodeScalars) != Array(name.unicodeScalars) {
            self.add(path, "mailbox name \"\(name)\" is not in Unicode NFC form; write it as \"\(nfc)\"")
        }
    }

    /// Text used in SMTP replies or login refusals: printable ASCII, at most 256 characters.
    mutating func checkReplyText(_ s: String, _ path: String) {
        if s.utf8.count > 256 {
            self.add(path, "text must be at most 256 characters")
        }
        if !ConfigSyntax.isPrintableASCII(s) {
            self.add(path, "text must be ASCII without control characters or newlines")
        }
    }

    // MARK: - mox.conf

    static let logLevels = ["error", "info", "debug", "trace", "traceauth", "tracedata", "warn", "fatal", "print"]

    mutating func checkStatic(_ c: StaticConfig) {
        if !Self.logLevels.contains(c.logLevel) {
            self.add(
                "LogLevel",
                "invalid log level \"\(c.logLevel)\": must be one of error, info, debug, trace, traceauth, tracedata"
            )
        }
        for (pkg, level) in c.packageLogLevels.sorted(by: { $0.key < $1.key }) where !Self.logLevels.contains(level) {
            self.add(
                "PackageLogLevels.\(pkg)",
                "invalid log level \"\(level)\": must be one of error, info, debug, trace, traceauth, tracedata"
            )
        }
        self.checkDomain(c.hostname, "Hostname", what: "host name")

        if !c.hostTLSRPT.account.isEmpty {
            self.checkReportLocalpart(c.hostTLSRPT.localpart, "HostTLSRPT.Localpart")
            self.checkMailboxName(c.hostTLSRPT.mailbox, "HostTLSRPT.Mailbox")
        }
        self.checkMailboxName(c.postmaster.mailbox, "Postmaster.Mailbox")

        for (name, acme) in c.acme.sorted(by: { $0.key < $1.key }) {
            let p = "ACME.\(name)"
            self.checkPort(acme.port, p + ".Port")
            if let url = URL(string: acme.directoryURL), url.scheme == "https" || url.scheme == "http",
                url.host != nil
            {
            } else {
                self.add(p + ".DirectoryURL", "invalid directory URL \"\(acme.directoryURL)\": must be an https URL")
            }
            if acme.renewBefore.nanoseconds < 0 {
                self.add(p + ".RenewBefore", "must not be negative")
            }
        }

        for (name, l) in c.listeners.sorted(by: { $0.key < $1.key }) {
            self.checkListener(l, name: name, acme: c.acme)
        }

        let zeroSpecialUse = SpecialUseMailboxes()
        if !c.defaultMailboxes.isEmpty
            && (c.initialMailboxes.specialUse != zeroSpecialUse || !c.initialMailboxes.regular.isEmpty)
        {
            self.add(
                "DefaultMailboxes",
                "cannot be used together with InitialMailboxes (DefaultMailboxes is deprecated)"
            )
        }
        for (i, mb) in c.defaultMailboxes.enumerated() {
            self.checkInitialMailbox(mb, "DefaultMailboxes[\(i)]")
        }
        let su = c.initialMailboxes.specialUse
        for (name, mb) in [
            ("Sent", su.sent), ("Archive", su.archive), ("Trash", su.trash), ("Draft", su.draft),
            ("Junk", su.junk),
        ] where !mb.isEmpty {
            self.checkInitialMailbox(mb, "InitialMailboxes.SpecialUse.\(name)")
        }
        for (i, mb) in c.initialMailboxes.regular.enumerated() {
            self.checkInitialMailbox(mb, "InitialMailboxes.Regular[\(i)]")
        }

        for (name, t) in c.transports.sorted(by: { $0.key < $1.key }) {
            self.checkTransport(t, path: "Transports.\(name)")
        }

        if c.quotaMessageSize < 0 {
            self.add("QuotaMessageSize", "must not be negative")
        }
    }

    mutating func checkReportLocalpart(_ lp: String, _ path: String) {
        if let problem = ConfigSyntax.localpartProblem(lp) {
            self.add(path, "invalid localpart: \(problem)")
        } else if lp.unicodeScalars.contains(where: { $0.value > 0x7f }) {
            self.add(path, "localpart \"\(lp)\" must be ASCII-only: reporting addresses are not internationalized")
        }
    }

    private mutating func checkInitialMailbox(_ mb: String, _ path: String) {
        self.checkMailboxName(mb, path)
        if mb.lowercased() == "inbox" {
            self.add(path, "cannot be Inbox: Inbox is always created")
        }
        if mb.contains("/") {
            self.add(path, "mailbox \"\(mb)\" cannot be a child mailbox")
        }
    }

    // MARK: - Listeners

    private mutating func checkListener(_ l: Listener, name: String, acme: [String: ACMEConfig]) {
        let p = "Listeners.\(name)"
        for (i, ip) in l.ips.enumerated() where IPAddress(ip) == nil {
            self.add(p + ".IPs[\(i)]", "invalid IP address \"\(ip)\"")
        }
        if l.ipsNATed && !l.natIPs.isEmpty {
            self.add(p + ".IPsNATed", "cannot be set together with NATIPs (IPsNATed is deprecated)")
        }
        for (i, s) in l.natIPs.enumerated() {
            if let ip = IPAddress(s) {
                if ip.isUnspecified || ip.isLoopback {
                    self.add(p + ".NATIPs[\(i)]", "NAT IP \(s) cannot be the unspecified or a loopback address")
                }
            } else {
                self.add(p + ".NATIPs[\(i)]", "invalid IP address \"\(s)\"")
            }
        }
        if !l.hostname.isEmpty {
            self.checkDomain(l.hostname, p + ".Hostname", what: "host name")
        }
        if l.smtpMaxMessageSize < 0 {
            self.add(p + ".SMTPMaxMessageSize", "must not be negative")
        }

        if let tls = l.tls {
            let tp = p + ".TLS"
            if !tls.acme.isEmpty && !tls.keyCerts.isEmpty {
                self.add(tp, "cannot have both ACME and KeyCerts")
            } else if !tls.acme.isEmpty {
                if acme[tls.acme] == nil {
                    let known = acme.keys.sorted().joined(separator: ", ")
                    self.add(
                        tp + ".ACME",
                        "unknown ACME provider \"\(tls.acme)\"; configured: \(known.isEmpty ? "none" : known)"
                    )
                }
            } else if tls.keyCerts.isEmpty {
                self.add(tp, "TLS needs either ACME or KeyCerts")
            }
            if !tls.minVersion.isEmpty && !["TLSv1.0", "TLSv1.1", "TLSv1.2", "TLSv1.3"].contains(tls.minVersion) {
                self.add(
                    tp + ".MinVersion",
                    "unknown TLS version \"\(tls.minVersion)\": must be TLSv1.0, TLSv1.1, TLSv1.2 or TLSv1.3"
                )
            }
        } else {
            // Services that cannot run without a certificate. Like mox, plain IMAP is not in the list.
            let needTLS: [(String, Bool)] = [
                ("SMTP", l.smtp.enabled && !l.smtp.noSTARTTLS),
                ("Submission", l.submission.enabled && !l.submission.noRequireSTARTTLS),
                ("Submissions", l.submissions.enabled),
                ("IMAPS", l.imaps.enabled),
                ("AccountHTTPS", l.accountHTTPS.enabled),
                ("AdminHTTPS", l.adminHTTPS.enabled),
                ("WebmailHTTPS", l.webmailHTTPS.enabled),
                ("WebAPIHTTPS", l.webAPIHTTPS.enabled),
                ("AutoconfigHTTPS", l.autoconfigHTTPS.enabled && !l.autoconfigHTTPS.nonTLS),
                ("MTASTSHTTPS", l.mtastsHTTPS.enabled && !l.mtastsHTTPS.nonTLS),
                ("WebserverHTTPS", l.webserverHTTPS.enabled),
            ]
            for (service, needs) in needTLS where needs {
                self.add(p + ".\(service)", "\(service) requires TLS, but the listener has no TLS section")
            }
        }

        if l.autoconfigHTTPS.enabled && l.mtastsHTTPS.enabled && l.autoconfigHTTPS.port == l.mtastsHTTPS.port
            && l.autoconfigHTTPS.nonTLS != l.mtastsHTTPS.nonTLS
        {
            self.add(p + ".MTASTSHTTPS", "AutoconfigHTTPS and MTASTSHTTPS share a port but not NonTLS")
        }

        for (i, zone) in l.smtp.dnsbls.enumerated() {
            self.checkDomain(zone, p + ".SMTP.DNSBLs[\(i)]", what: "DNSBL zone")
        }
        if let d = l.smtp.firstTimeSenderDelay, d.nanoseconds < 0 {
            self.add(p + ".SMTP.FirstTimeSenderDelay", "must not be negative")
        }

        let ports: [(String, Int)] = [
            ("SMTP", l.smtp.port), ("Submission", l.submission.port), ("Submissions", l.submissions.port),
            ("IMAP", l.imap.port), ("IMAPS", l.imaps.port), ("AccountHTTP", l.accountHTTP.port),
            ("AccountHTTPS", l.accountHTTPS.port), ("AdminHTTP", l.adminHTTP.port), ("AdminHTTPS", l.adminHTTPS.port),
            ("WebmailHTTP", l.webmailHTTP.port), ("WebmailHTTPS", l.webmailHTTPS.port),
            ("WebAPIHTTP", l.webAPIHTTP.port), ("WebAPIHTTPS", l.webAPIHTTPS.port),
            ("MetricsHTTP", l.metricsHTTP.port), ("PprofHTTP", l.pprofHTTP.port),
            ("AutoconfigHTTPS", l.autoconfigHTTPS.port), ("MTASTSHTTPS", l.mtastsHTTPS.port),
            ("WebserverHTTP", l.webserverHTTP.port), ("WebserverHTTPS", l.webserverHTTPS.port),
        ]
        for (service, port) in ports {
            self.checkPort(port, p + ".\(service).Port")
        }

        let webServices: [(String, WebService)] = [
            ("AccountHTTP", l.accountHTTP), ("AccountHTTPS", l.accountHTTPS), ("AdminHTTP", l.adminHTTP),
            ("AdminHTTPS", l.adminHTTPS), ("WebmailHTTP", l.webmailHTTP), ("WebmailHTTPS", l.webmailHTTPS),
            ("WebAPIHTTP", l.webAPIHTTP), ("WebAPIHTTPS", l.webAPIHTTPS),
        ]
        for (service, ws) in webServices where ws.enabled && !ws.path.isEmpty && !ws.path.hasPrefix("/") {
            self.add(p + ".\(service).Path", "path \"\(ws.path)\" must start with a slash")
        }
    }

    // MARK: - Transports

    private static let authMechanisms = [
        "SCRAM-SHA-256-PLUS", "SCRAM-SHA-256", "SCRAM-SHA-1-PLUS", "SCRAM-SHA-1", "CRAM-MD5", "PLAIN",
    ]

    private mutating func checkTransport(_ t: Transport, path p: String) {
        var methods = 0
        let smtps: [(String, TransportSMTP?, Bool)] = [
            ("Submissions", t.submissions, true), ("Submission", t.submission, false), ("SMTP", t.smtp, false),
        ]
        for (name, smtp, isTLS) in smtps {
            guard let s = smtp else { continue }
            methods += 1
            let sp = p + ".\(name)"
            self.checkDomain(s.host, sp + ".Host", what: "host")
            self.checkPort(s.port, sp + ".Port")
            if isTLS && s.startTLSInsecureSkipVerify {
                self.add(
                    sp + ".STARTTLSInsecureSkipVerify",
                    "cannot be used with Submissions, which uses TLS from the start"
                )
            }
            if isTLS && s.noSTARTTLS {
                self.add(sp + ".NoSTARTTLS", "cannot be used with Submissions, which uses TLS from the start")
            }
            if let auth = s.auth {
                var seen: Set<String> = []
                for (i, m) in auth.mechanisms.enumerated() {
                    let mp = sp + ".Auth.Mechanisms[\(i)]"
                    if !seen.insert(m).inserted {
                        self.add(mp, "duplicate authentication mechanism \(m)")
                    }
                    if !Self.authMechanisms.contains(m) {
                        self.add(
                            mp,
                            "unknown authentication mechanism \"\(m)\": must be one of "
                                + Self.authMechanisms.joined(separator: ", ")
                        )
                    }
                }
            }
        }
        if let s = t.socks {
            methods += 1
            let sp = p + ".Socks"
            if s.hostPort == nil {
                self.add(sp + ".Address", "invalid address \"\(s.address)\": must be host:port")
            }
            for (i, ip) in s.remoteIPs.enumerated() where IPAddress(ip) == nil {
                self.add(sp + ".RemoteIPs[\(i)]", "invalid IP address \"\(ip)\"")
            }
            self.checkDomain(s.remoteHostname, sp + ".RemoteHostname", what: "host name")
        }
        if let d = t.direct {
            methods += 1
            if d.disableIPv4 && d.disableIPv6 {
                self.add(p + ".Direct", "cannot disable both IPv4 and IPv6")
            }
        }
        if let f = t.fail {
            methods += 1
            if f.smtpCode != 0 && f.smtpCode / 100 != 4 && f.smtpCode / 100 != 5 {
                self.add(p + ".Fail.SMTPCode", "SMTP code \(f.smtpCode) must be 4xx or 5xx")
            }
            self.checkReplyText(f.smtpMessage, p + ".Fail.SMTPMessage")
        }
        if methods > 1 {
            self.add(p, "a transport can have only one method, found \(methods)")
        }
    }
}
