// Transports in mox.conf: ways of delivering outgoing messages, referenced by name from Routes.
import Sconf

/// A way of delivering outgoing messages. At most one method is set; with none set, messages
/// are delivered directly with SMTP to the recipient domain's MX hosts.
public struct Transport: SconfRecord, Equatable, Sendable {
    public var submissions: TransportSMTP? = nil
    public var submission: TransportSMTP? = nil
    public var smtp: TransportSMTP? = nil
    public var socks: TransportSocks? = nil
    public var direct: TransportDirect? = nil
    public var fail: TransportFail? = nil

    public init() {}

    public static let sconfFields: [SconfField<Transport>] = [
        .init(
            "Submissions",
            { $0.submissions },
            { $0.submissions = $1 },
            optional: true,
            doc: "Hand messages to another server's queue with SMTP submission over TLS from the start "
                + "(port 465 by default)."
        ),
        .init(
            "Submission",
            { $0.submission },
            { $0.submission = $1 },
            optional: true,
            doc: "Hand messages to another server's queue with SMTP submission on a plain connection, "
                + "upgraded with STARTTLS when possible (port 587 by default)."
        ),
        .init(
            "SMTP",
            { $0.smtp },
            { $0.smtp = $1 },
            optional: true,
            doc: "Relay messages to another server with plain SMTP, upgraded with STARTTLS when possible "
                + "(port 25 by default), usually without authentication."
        ),
        .init(
            "Socks",
            { $0.socks },
            { $0.socks = $1 },
            optional: true,
            doc: "Deliver directly to the recipient's MX hosts, with connections made through a SOCKS proxy."
        ),
        .init(
            "Direct",
            { $0.direct },
            { $0.direct = $1 },
            optional: true,
            doc: "Deliver directly to the recipient's MX hosts, with adjusted connection settings."
        ),
        .init(
            "Fail",
            { $0.fail },
            { $0.fail = $1 },
            optional: true,
            doc: "Do not deliver: fail each delivery attempt at once."
        ),
    ]
}

/// Delivery through another SMTP server (a smarthost), by submission or relay.
public struct TransportSMTP: SconfRecord, Equatable, Sendable {
    public var host = ""
    public var port = 0
    public var startTLSInsecureSkipVerify = false
    public var noSTARTTLS = false
    public var auth: SMTPAuth? = nil

    public init() {}

    public static let sconfFields: [SconfField<TransportSMTP>] = [
        .init(
            "Host",
            { $0.host },
            { $0.host = $1 },
            doc: "Host name of the server to connect to, also checked against its TLS certificate."
        ),
        .init(
            "Port",
            { $0.port },
            { $0.port = $1 },
            optional: true,
            doc: "TCP port. When 0 or left out: 465 for Submissions, 587 for Submission, 25 for SMTP."
        ),
        .init(
            "STARTTLSInsecureSkipVerify",
            { $0.startTLSInsecureSkipVerify },
            { $0.startTLSInsecureSkipVerify = $1 },
            optional: true,
            doc: "Accept a TLS certificate that cannot be verified after STARTTLS. Not allowed with "
                + "Submissions."
        ),
        .init(
            "NoSTARTTLS",
            { $0.noSTARTTLS },
            { $0.noSTARTTLS = $1 },
            optional: true,
            doc: "Do not try STARTTLS (Submission and SMTP only): credentials and messages then cross the "
                + "network unencrypted."
        ),
        .init(
            "Auth",
            { $0.auth },
            { $0.auth = $1 },
            optional: true,
            doc: "Credentials to log in to the server with. Without them, no login is attempted."
        ),
    ]
}

/// Credentials for a smarthost.
public struct SMTPAuth: SconfRecord, Equatable, Sendable {
    public var username = ""
    public var password = ""
    public var mechanisms: [String] = []

    public init() {}

    public static let sconfFields: [SconfField<SMTPAuth>] = [
        .init("Username", { $0.username }, { $0.username = $1 }, doc: "User name to log in with."),
        .init("Password", { $0.password }, { $0.password = $1 }, doc: "Password to log in with."),
        .init(
            "Mechanisms",
            { $0.mechanisms },
            { $0.mechanisms = $1 },
            optional: true,
            doc: "SASL mechanisms that may be used, from SCRAM-SHA-256-PLUS, SCRAM-SHA-256, "
                + "SCRAM-SHA-1-PLUS, SCRAM-SHA-1, CRAM-MD5 and PLAIN. Default: all but PLAIN. Listing only "
                + "the strongest one the server supports prevents an attacker from downgrading the login."
        ),
    ]
}

/// Direct delivery through a SOCKS proxy.
public struct TransportSocks: SconfRecord, Equatable, Sendable {
    public var address = ""
    public var remoteIPs: [String] = []
    public var remoteHostname = ""

    public init() {}

    /// Address's host (brackets removed) and port, from `host:port` or `[ipv6]:port`; nil
    /// when it is neither.
    public var hostPort: (host: String, port: Int)? {
        guard let colon = self.address.lastIndex(of: ":"), let port = Int(self.address[self.address.index(after: colon)...]),
            (0...65535).contains(port)
        else {
            return nil
        }
        var host = self.address[..<colon]
        if host.hasPrefix("[") && host.hasSuffix("]") {
            host = host.dropFirst().dropLast()
            return IPAddress(String(host)) != nil ? (String(host), port) : nil
        }
        return !host.isEmpty && !host.contains(":") ? (String(host), port) : nil
    }

    public static let sconfFields: [SconfField<TransportSocks>] = [
        .init(
            "Address",
            { $0.address },
            { $0.address = $1 },
            doc: "Address of the SOCKS5 proxy (RFC 1928), as host:port, ip:port or [ipv6]:port. The proxy must "
                + "accept connections without a login; one that asks for a username and password fails the "
                + "attempt with a temporary error."
        ),
        .init(
            "RemoteIPs",
            { $0.remoteIPs },
            { $0.remoteIPs = $1 },
            doc: "IP addresses that the proxy's outgoing connections come from, usually the proxy host's "
                + "IPv4 and IPv6 addresses. Add them to your SPF records (mind the DNS TTL) and give them "
                + "reverse DNS names that resolve to RemoteHostname."
        ),
        .init(
            "RemoteHostname",
            { $0.remoteHostname },
            { $0.remoteHostname = $1 },
            doc: "Host name of the RemoteIPs, used in SMTP EHLO; usually the proxy's host name."
        ),
    ]
}

/// Direct delivery with adjusted connection settings.
public struct TransportDirect: SconfRecord, Equatable, Sendable {
    public var disableIPv4 = false
    public var disableIPv6 = false

    public init() {}

    public static let sconfFields: [SconfField<TransportDirect>] = [
        .init(
            "DisableIPv4",
            { $0.disableIPv4 },
            { $0.disableIPv4 = $1 },
            optional: true,
            doc: "Never connect to remote SMTP servers over IPv4."
        ),
        .init(
            "DisableIPv6",
            { $0.disableIPv6 },
            { $0.disableIPv6 = $1 },
            optional: true,
            doc: "Never connect to remote SMTP servers over IPv6."
        ),
    ]
}

/// A transport that fails every delivery attempt.
public struct TransportFail: SconfRecord, Equatable, Sendable {
    public var smtpCode = 0
    public var smtpMessage = ""

    public init() {}

    public static let sconfFields: [SconfField<TransportFail>] = [
        .init(
            "SMTPCode",
            { $0.smtpCode },
            { $0.smtpCode = $1 },
            optional: true,
            doc: "SMTP reply code for the failure, 4xx (temporary) or 5xx (permanent). Default: 554."
        ),
        .init(
            "SMTPMessage",
            { $0.smtpMessage },
            { $0.smtpMessage = $1 },
            optional: true,
            doc: "Text for the failure, shown in the delivery status notification: ASCII without control "
                + "characters, at most 256 characters."
        ),
    ]
}
