// Listeners in mox.conf: the IP addresses to listen on and the services enabled on them.
import Sconf

/// A group of IP addresses and the services served on them.
public struct Listener: SconfRecord, Equatable, Sendable {
    public var ips: [String] = []
    public var natIPs: [String] = []
    public var ipsNATed = false
    public var hostname = ""
    public var tls: ListenerTLS? = nil
    public var smtpMaxMessageSize: Int64 = 0
    public var smtp = SMTPService()
    public var submission = SubmissionService()
    public var submissions = SubmissionsService()
    public var imap = IMAPService()
    public var imaps = IMAPSService()
    public var accountHTTP = WebService()
    public var accountHTTPS = WebService()
    public var adminHTTP = WebService()
    public var adminHTTPS = WebService()
    public var webmailHTTP = WebService()
    public var webmailHTTPS = WebService()
    public var webAPIHTTP = WebService()
    public var webAPIHTTPS = WebService()
    public var metricsHTTP = MetricsService()
    public var pprofHTTP = PprofService()
    public var autoconfigHTTPS = AutoconfigService()
    public var mtastsHTTPS = MTASTSService()
    public var webserverHTTP = WebserverService()
    public var webserverHTTPS = WebserverService()

    public init() {}

    public static let sconfFields: [SconfField<Listener>] = [
        .init(
            "IPs",
            { $0.ips },
            { $0.ips = $1 },
            doc: "IP addresses to listen on. 0.0.0.0 means all IPv4 addresses and :: all IPv6 addresses, "
                + "but naming the addresses used for mail is better: outgoing connections are then made "
                + "from those addresses only. When only one address family is listed and the machine can "
                + "connect out with both, both families are still used for outgoing connections; a direct "
                + "transport can restrict that."
        ),
        .init(
            "NATIPs",
            { $0.natIPs },
            { $0.natIPs = $1 },
            optional: true,
            doc: "Public IP addresses, when the server sits behind NAT and IPs lists private addresses. "
                + "Used instead of IPs in the DNS self-checks (iprev, MX, SPF, autoconfig) and for ACME."
        ),
        .init(
            "IPsNATed",
            { $0.ipsNATed },
            { $0.ipsNATed = $1 },
            optional: true,
            doc: "Deprecated: use NATIPs. Says that IPs are private addresses behind NAT, which skips the "
                + "DNS self-checks that involve IP addresses."
        ),
        .init(
            "Hostname",
            { $0.hostname },
            { $0.hostname = $1 },
            optional: true,
            doc: "Host name for this listener; when empty, the global Hostname. The account, admin, "
                + "webmail and webapi interfaces only answer requests for this name, for localhost and for "
                + "IP addresses; all but admin also answer for each client settings domain."
        ),
        .init(
            "TLS",
            { $0.tls },
            { $0.tls = $1 },
            optional: true,
            doc: "TLS for the listener's STARTTLS, implicit TLS and HTTPS services. Services that need TLS "
                + "cannot be enabled without it."
        ),
        .init(
            "SMTPMaxMessageSize",
            { $0.smtpMaxMessageSize },
            { $0.smtpMaxMessageSize = $1 },
            optional: true,
            doc: "Largest message accepted, in bytes, for incoming and submitted messages. Default: "
                + "104857600 (100 MiB)."
        ),
        .init(
            "SMTP",
            { $0.smtp },
            { $0.smtp = $1 },
            optional: true,
            doc: "SMTP for receiving mail from other mail servers, usually on port 25."
        ),
        .init(
            "Submission",
            { $0.submission },
            { $0.submission = $1 },
            optional: true,
            doc: "SMTP submission for mail clients sending mail, on a plain connection upgraded with "
                + "STARTTLS. Submissions, which uses TLS from the start, is preferred."
        ),
        .init(
            "Submissions",
            { $0.submissions },
            { $0.submissions = $1 },
            optional: true,
            doc: "SMTP submission over TLS from the start, for mail clients sending mail. Needs TLS on "
                + "the listener."
        ),
        .init(
            "IMAP",
            { $0.imap },
            { $0.imap = $1 },
            optional: true,
            doc: "IMAP for mail clients reading mail, on a plain connection upgraded with STARTTLS. "
                + "IMAPS, which uses TLS from the start, is preferred."
        ),
        .init(
            "IMAPS",
            { $0.imaps },
            { $0.imaps = $1 },
            optional: true,
            doc: "IMAP over TLS from the start, for mail clients reading mail. Needs TLS on the listener."
        ),
        .init(
            "AccountHTTP",
            { $0.accountHTTP },
            { $0.accountHTTP = $1 },
            optional: true,
            doc: "Web interface where users manage their account: password, delivery rules, and so on. "
                + "Plain HTTP. Default path: /."
        ),
        .init(
            "AccountHTTPS",
            { $0.accountHTTPS },
            { $0.accountHTTPS = $1 },
            optional: true,
            doc: "The account web interface over HTTPS. Needs TLS on the listener. Default path: /."
        ),
        .init(
            "AdminHTTP",
            { $0.adminHTTP },
            { $0.adminHTTP = $1 },
            optional: true,
            doc: "Web interface for the administrator: domains, accounts, queue and more. Plain HTTP. "
                + "Default path: /admin/. Best kept off public IPs; reach it through an SSH tunnel (e.g. "
                + "ssh -L 8080:localhost:80 you@yourmachine, then http://localhost:8080/admin/) or a VPN "
                + "address added to the internal listener."
        ),
        .init(
            "AdminHTTPS",
            { $0.adminHTTPS },
            { $0.adminHTTPS = $1 },
            optional: true,
            doc: "The admin web interface over HTTPS. Needs TLS on the listener. Default path: /admin/."
        ),
        .init(
            "WebmailHTTP",
            { $0.webmailHTTP },
            { $0.webmailHTTP = $1 },
            optional: true,
            doc: "Webmail, for reading and sending mail in a browser. Plain HTTP. Default path: /webmail/."
        ),
        .init(
            "WebmailHTTPS",
            { $0.webmailHTTPS },
            { $0.webmailHTTPS = $1 },
            optional: true,
            doc: "Webmail over HTTPS. Needs TLS on the listener. Default path: /webmail/."
        ),
        .init(
            "WebAPIHTTP",
            { $0.webAPIHTTP },
            { $0.webAPIHTTP = $1 },
            optional: true,
            doc: "The web API over plain HTTP, without TLS. Default path: /webapi/."
        ),
        .init(
            "WebAPIHTTPS",
            { $0.webAPIHTTPS },
            { $0.webAPIHTTPS = $1 },
            optional: true,
            doc: "The web API, a small HTTP/JSON interface for sending mail and managing messages, over "
                + "HTTPS. Needs TLS on the listener. Default path: /webapi/."
        ),
        .init(
            "MetricsHTTP",
            { $0.metricsHTTP },
            { $0.metricsHTTP = $1 },
            optional: true,
            doc: "Prometheus metrics at /metrics, for monitoring. Do not enable on a public IP."
        ),
        .init(
            "PprofHTTP",
            { $0.pprofHTTP },
            { $0.pprofHTTP = $1 },
            optional: true,
            doc: "Profiling endpoints under /debug/pprof/ for a running server. Never enable on a public IP."
        ),
        .init(
            "AutoconfigHTTPS",
            { $0.autoconfigHTTPS },
            { $0.autoconfigHTTPS = $1 },
            optional: true,
            doc: "Autoconfig and autodiscover, with which mail clients find their settings from just an "
                + "email address. Served on port 443; needs TLS on the listener unless NonTLS is set."
        ),
        .init(
            "MTASTSHTTPS",
            { $0.mtastsHTTPS },
            { $0.mtastsHTTPS = $1 },
            optional: true,
            doc: "Serves the MTA-STS policies of the domains (RFC 8461), which tell other mail servers to "
                + "require verified TLS when delivering here. Served on port 443; needs TLS on the listener "
                + "unless NonTLS is set."
        ),
        .init(
            "WebserverHTTP",
            { $0.webserverHTTP },
            { $0.webserverHTTP = $1 },
            optional: true,
            doc: "Plain HTTP web server for the WebHandlers in domains.conf. Handlers are served on every "
                + "listener where this is enabled."
        ),
        .init(
            "WebserverHTTPS",
            { $0.webserverHTTPS },
            { $0.webserverHTTPS = $1 },
            optional: true,
            doc: "HTTPS web server for the WebHandlers in domains.conf. Needs TLS on the listener: ACME, or "
                + "a certificate for each WebHandler domain."
        ),
    ]

    // MARK: - Services

    /// SMTP for incoming mail from other servers.
    public struct SMTPService: SconfRecord, Equatable, Sendable {
        public var enabled = false
        public var port = 0
        public var noSTARTTLS = false
        public var requireSTARTTLS = false
        public var noRequireTLS = false
        public var dnsbls: [String] = []
        public var firstTimeSenderDelay: SconfDuration? = nil
        public var tlsSessionTicketsDisabled: Bool? = nil

        public init() {}

        public static let sconfFields: [SconfField<SMTPService>] = [
            .init(
                "Enabled",
                { $0.enabled },
                { $0.enabled = $1 },
                doc: "Whether to accept SMTP connections on this listener."
            ),
            .init("Port", { $0.port }, { $0.port = $1 }, optional: true, doc: "TCP port. Default: 25."),
            .init(
                "NoSTARTTLS",
                { $0.noSTARTTLS },
                { $0.noSTARTTLS = $1 },
                optional: true,
                doc: "Do not offer STARTTLS, leaving connections unencrypted. Not recommended."
            ),
            .init(
                "RequireSTARTTLS",
                { $0.requireSTARTTLS },
                { $0.requireSTARTTLS = $1 },
                optional: true,
                doc: "Refuse incoming messages on connections without STARTTLS. Pairs well with an MTA-STS "
                    + "policy or DANE, but senders without TLS support can then not deliver. Messages to TLS "
                    + "reporting addresses are still accepted without TLS."
            ),
            .init(
                "NoRequireTLS",
                { $0.noRequireTLS },
                { $0.noRequireTLS = $1 },
                optional: true,
                doc: "Do not announce the REQUIRETLS extension (RFC 8689). A message sent with REQUIRETLS "
                    + "may only be passed on to servers that support it too, which can be impossible, e.g. "
                    + "when forwarding to mailing list members."
            ),
            .init(
                "DNSBLs",
                { $0.dnsbls },
                { $0.dnsbls = $1 },
                optional: true,
                doc: "DNS block list zones to check incoming connections against, e.g. sbl.spamhaus.org or "
                    + "bl.spamcop.net; check their terms of use. The lists are consulted, one after another, "
                    + "for each message from another server that DMARC did not already refuse or send to "
                    + "Junk; a message from a listed IP is refused with a temporary error (451 4.3.0), as "
                    + "mox does. Each list's health (its RFC 5782 test entries) is checked before use, at "
                    + "most every 4 hours, and an unhealthy list is skipped. The lists of the listener named "
                    + "public are also used to monitor the IPs this server sends from (metric "
                    + "mox_dnsbl_ips_success). To only monitor lists, see MonitorDNSBLs in domains.conf."
            ),
            .init(
                "FirstTimeSenderDelay",
                { $0.firstTimeSenderDelay },
                { $0.firstTimeSenderDelay = $1 },
                optional: true,
                doc: "How long to wait before accepting a message from a sender the recipient's account "
                    + "has not received mail from before. Default: 15s."
            ),
            .init(
                "TLSSessionTicketsDisabled",
                { $0.tlsSessionTicketsDisabled },
                { $0.tlsSessionTicketsDisabled = $1 },
                optional: true,
                doc: "Set to true to turn off TLS session tickets, or false to turn them on, instead of "
                    + "the default. Turning them off can help with some TLS interoperability problems."
            ),
        ]
    }

    /// SMTP submission with STARTTLS.
    public struct SubmissionService: SconfRecord, Equatable, Sendable {
        public var enabled = false
        public var port = 0
        public var noRequireSTARTTLS = false

        public init() {}

        public static let sconfFields: [SconfField<SubmissionService>] = [
            .init(
                "Enabled",
                { $0.enabled },
                { $0.enabled = $1 },
                doc: "Whether to accept submission connections on this listener."
            ),
            .init("Port", { $0.port }, { $0.port = $1 }, optional: true, doc: "TCP port. Default: 587."),
            .init(
                "NoRequireSTARTTLS",
                { $0.noRequireSTARTTLS },
                { $0.noRequireSTARTTLS = $1 },
                optional: true,
                doc: "Allow login and submission without STARTTLS, so passwords may cross the network "
                    + "unencrypted. Not recommended."
            ),
        ]
    }

    /// SMTP submission over implicit TLS.
    public struct SubmissionsService: SconfRecord, Equatable, Sendable {
        public var enabled = false
        public var port = 0
        public var enabledOnHTTPS = false

        public init() {}

        public static let sconfFields: [SconfField<SubmissionsService>] = [
            .init(
                "Enabled",
                { $0.enabled },
                { $0.enabled = $1 },
                doc: "Whether to accept submissions connections on this listener."
            ),
            .init("Port", { $0.port }, { $0.port = $1 }, optional: true, doc: "TCP port. Default: 465."),
            .init(
                "EnabledOnHTTPS",
                { $0.enabledOnHTTPS },
                { $0.enabledOnHTTPS = $1 },
                optional: true,
                doc: "Also speak SMTP submission on the HTTPS port 443, to clients that ask for the smtp "
                    + "protocol through TLS ALPN. Meant to get around censorship, e.g. for Delta Chat."
            ),
        ]
    }

    /// IMAP with STARTTLS.
    public struct IMAPService: SconfRecord, Equatable, Sendable {
        public var enabled = false
        public var port = 0
        public var noRequireSTARTTLS = false

        public init() {}

        public static let sconfFields: [SconfField<IMAPService>] = [
            .init(
                "Enabled",
                { $0.enabled },
                { $0.enabled = $1 },
                doc: "Whether to accept IMAP connections on this listener."
            ),
            .init("Port", { $0.port }, { $0.port = $1 }, optional: true, doc: "TCP port. Default: 143."),
            .init(
                "NoRequireSTARTTLS",
                { $0.noRequireSTARTTLS },
                { $0.noRequireSTARTTLS = $1 },
                optional: true,
                doc: "Allow login without STARTTLS. Only for connections that are protected in another way, "
                    + "such as a VPN."
            ),
        ]
    }

    /// IMAP over implicit TLS.
    public struct IMAPSService: SconfRecord, Equatable, Sendable {
        public var enabled = false
        public var port = 0
        public var enabledOnHTTPS = false

        public init() {}

        public static let sconfFields: [SconfField<IMAPSService>] = [
            .init(
                "Enabled",
                { $0.enabled },
                { $0.enabled = $1 },
                doc: "Whether to accept IMAPS connections on this listener."
            ),
            .init("Port", { $0.port }, { $0.port = $1 }, optional: true, doc: "TCP port. Default: 993."),
            .init(
                "EnabledOnHTTPS",
                { $0.enabledOnHTTPS },
                { $0.enabledOnHTTPS = $1 },
                optional: true,
                doc: "Also speak IMAP on the HTTPS port 443, to clients that ask for the imap protocol "
                    + "through TLS ALPN. Meant to get around censorship, e.g. for Delta Chat."
            ),
        ]
    }

    /// The Prometheus metrics endpoint.
    public struct MetricsService: SconfRecord, Equatable, Sendable {
        public var enabled = false
        public var port = 0

        public init() {}

        public static let sconfFields: [SconfField<MetricsService>] = [
            .init("Enabled", { $0.enabled }, { $0.enabled = $1 }, doc: "Whether to serve metrics on this listener."),
            .init("Port", { $0.port }, { $0.port = $1 }, optional: true, doc: "TCP port. Default: 8010."),
        ]
    }

    /// The profiling endpoint.
    public struct PprofService: SconfRecord, Equatable, Sendable {
        public var enabled = false
        public var port = 0

        public init() {}

        public static let sconfFields: [SconfField<PprofService>] = [
            .init(
                "Enabled",
                { $0.enabled },
                { $0.enabled = $1 },
                doc: "Whether to serve the profiling endpoints on this listener."
            ),
            .init("Port", { $0.port }, { $0.port = $1 }, optional: true, doc: "TCP port. Default: 8011."),
        ]
    }

    /// Autoconfig/autodiscover for mail clients.
    public struct AutoconfigService: SconfRecord, Equatable, Sendable {
        public var enabled = false
        public var port = 0
        public var nonTLS = false
        public var forwarded = false

        public init() {}

        public static let sconfFields: [SconfField<AutoconfigService>] = [
            .init(
                "Enabled",
                { $0.enabled },
                { $0.enabled = $1 },
                doc: "Whether to serve autoconfig and autodiscover on this listener."
            ),
            .init(
                "Port",
                { $0.port },
                { $0.port = $1 },
                optional: true,
                doc: "TCP port. Default: 443. Clients always connect to port 443, so another port needs "
                    + "something like port forwarding in front of it."
            ),
            .init(
                "NonTLS",
                { $0.nonTLS },
                { $0.nonTLS = $1 },
                optional: true,
                doc: "Speak plain HTTP instead of HTTPS on the port, e.g. behind a reverse proxy that "
                    + "handles TLS."
            ),
            .init(
                "Forwarded",
                { $0.forwarded },
                { $0.forwarded = $1 },
                optional: true,
                doc: "Take the client's IP address from the X-Forwarded-* headers, for rate limiting and "
                    + "logging. Only set this behind a proxy that sets them."
            ),
        ]
    }

    /// MTA-STS policy serving.
    public struct MTASTSService: SconfRecord, Equatable, Sendable {
        public var enabled = false
        public var port = 0
        public var nonTLS = false
        public var forwarded = false

        public init() {}

        public static let sconfFields: [SconfField<MTASTSService>] = [
            .init(
                "Enabled",
                { $0.enabled },
                { $0.enabled = $1 },
                doc: "Whether to serve MTA-STS policies on this listener."
            ),
            .init(
                "Port",
                { $0.port },
                { $0.port = $1 },
                optional: true,
                doc: "TCP port. Default: 443. Mail servers always fetch policies from port 443, so another "
                    + "port needs something like port forwarding in front of it."
            ),
            .init(
                "NonTLS",
                { $0.nonTLS },
                { $0.nonTLS = $1 },
                optional: true,
                doc: "Speak plain HTTP instead of HTTPS on the port, e.g. behind a reverse proxy that "
                    + "handles TLS."
            ),
            .init(
                "Forwarded",
                { $0.forwarded },
                { $0.forwarded = $1 },
                optional: true,
                doc: "Take the client's IP address from the X-Forwarded-* headers, for rate limiting and "
                    + "logging. Only set this behind a proxy that sets them."
            ),
        ]
    }

    /// The web server for WebHandlers.
    public struct WebserverService: SconfRecord, Equatable, Sendable {
        public var enabled = false
        public var port = 0
        public var rateLimitDisabled = false

        public init() {}

        public static let sconfFields: [SconfField<WebserverService>] = [
            .init(
                "Enabled",
                { $0.enabled },
                { $0.enabled = $1 },
                doc: "Whether to serve the WebHandlers on this listener."
            ),
            .init(
                "Port",
                { $0.port },
                { $0.port = $1 },
                optional: true,
                doc: "TCP port. Default: 80 for WebserverHTTP, 443 for WebserverHTTPS."
            ),
            .init(
                "RateLimitDisabled",
                { $0.rateLimitDisabled },
                { $0.rateLimitDisabled = $1 },
                optional: true,
                doc: "Do not rate limit requests on this port."
            ),
        ]
    }
}

/// One of the built-in web interfaces: account, admin, webmail or webapi.
public struct WebService: SconfRecord, Equatable, Sendable {
    public var enabled = false
    public var port = 0
    public var path = ""
    public var forwarded = false

    public init() {}

    public static let sconfFields: [SconfField<WebService>] = [
        .init("Enabled", { $0.enabled }, { $0.enabled = $1 }, doc: "Whether to serve this interface on the listener."),
        .init(
            "Port",
            { $0.port },
            { $0.port = $1 },
            optional: true,
            doc: "TCP port. Default: 80 for the HTTP variants, 443 for HTTPS. Which host names are "
                + "answered is described at the listener's Hostname."
        ),
        .init(
            "Path",
            { $0.path },
            { $0.path = $1 },
            optional: true,
            doc: "URL path to serve the interface under, starting and ending with a slash (cookies are "
                + "scoped to it). Defaults: / for account, /admin/, /webmail/ and /webapi/."
        ),
        .init(
            "Forwarded",
            { $0.forwarded },
            { $0.forwarded = $1 },
            optional: true,
            doc: "Take the client's IP address and whether the connection is secure from the X-Forwarded-* "
                + "headers, for rate limiting and the secure flag on cookies. Only set this behind a proxy "
                + "that sets them."
        ),
    ]
}
