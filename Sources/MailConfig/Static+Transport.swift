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

    public static var sconfFields: [SconfField<Transport>] {
        [
            .init(
                "Submissions",
                \.submissions,
                optional: true,
                doc: "Hand messages to another server's queue with SMTP submission over TLS from the start "
                    + "(port 465 by default)."
            ),
            .init(
                "Submission",
                \.submission,
                optional: true,
                doc: "Hand messages to another server's queue with SMTP submission on a plain connection, "
                    + "upgraded with STARTTLS when possible (port 587 by default)."
            ),
            .init(
                "SMTP",
                \.smtp,
                optional: true,
                doc: "Relay messages to another server with plain SMTP, upgraded with STARTTLS when possible "
                    + "(port 25 by default), usually without authentication."
            ),
            .init(
                "Socks",
                \.socks,
                optional: true,
                doc: "Deliver directly to the recipient's MX hosts, with connections made through a SOCKS proxy."
            ),
            .init(
                "Direct",
                \.direct,
                optional: true,
                doc: "Deliver directly to the recipient's MX hosts, with adjusted connection settings."
            ),
            .init(
                "Fail",
                \.fail,
                optional: true,
                doc: "Do not deliver: fail each delivery attempt at once."
            ),
        ]
    }
}

/// Delivery through another SMTP server (a smarthost), by submission or relay.
public struct TransportSMTP: SconfRecord, Equatable, Sendable {
    public var host = ""
    public var port = 0
    public var startTLSInsecureSkipVerify = false
    public var noSTARTTLS = false
    public var auth: SMTPAuth? = nil

    public init() {}

    public static var sconfFields: [SconfField<TransportSMTP>] {
        [
            .init(
                "Host",
                \.host,
                doc: "Host name of the server to connect to, also checked against its TLS certificate."
            ),
            .init(
                "Port",
                \.port,
                optional: true,
                doc: "TCP port. When 0 or left out: 465 for Submissions, 587 for Submission, 25 for SMTP."
            ),
            .init(
                "STARTTLSInsecureSkipVerify",
                \.startTLSInsecureSkipVerify,
                optional: true,
                doc: "Accept a TLS certificate that cannot be verified after STARTTLS. Not allowed with "
                    + "Submissions."
            ),
            .init(
                "NoSTARTTLS",
                \.noSTARTTLS,
                optional: true,
                doc: "Do not try STARTTLS (Submission and SMTP only): credentials and messages then cross the "
                    + "network unencrypted."
            ),
            .init(
                "Auth",
                \.auth,
                optional: true,
                doc: "Credentials to log in to the server with. Without them, no login is attempted."
            ),
        ]
    }
}

/// Credentials for a smarthost.
public struct SMTPAuth: SconfRecord, Equatable, Sendable {
    public var username = ""
    public var password = ""
    public var mechanisms: [String] = []

    public init() {}

    public static var sconfFields: [SconfField<SMTPAuth>] {
        [
            .init("Username", \.username, doc: "User name to log in with."),
            .init("Password", \.password, doc: "Password to log in with."),
            .init(
                "Mechanisms",
                \.mechanisms,
                optional: true,
                doc: "SASL mechanisms that may be used, from SCRAM-SHA-256-PLUS, SCRAM-SHA-256, "
                    + "SCRAM-SHA-1-PLUS, SCRAM-SHA-1, CRAM-MD5 and PLAIN. Default: all but PLAIN. Listing only "
                    + "the strongest one the server supports prevents an attacker from downgrading the login."
            ),
        ]
    }
}

/// Direct delivery through a SOCKS proxy.
public struct TransportSocks: SconfRecord, Equatable, Sendable {
    public var address = ""
    public var remoteIPs: [String] = []
    public var remoteHostname = ""

    public init() {}

    public static var sconfFields: [SconfField<TransportSocks>] {
        [
            .init("Address", \.address, doc: "Address of the SOCKS proxy, as host:port or ip:port."),
            .init(
                "RemoteIPs",
                \.remoteIPs,
                doc: "IP addresses that the proxy's outgoing connections come from, usually the proxy host's "
                    + "IPv4 and IPv6 addresses. Add them to your SPF records (mind the DNS TTL) and give them "
                    + "reverse DNS names that resolve to RemoteHostname."
            ),
            .init(
                "RemoteHostname",
                \.remoteHostname,
                doc: "Host name of the RemoteIPs, used in SMTP EHLO; usually the proxy's host name."
            ),
        ]
    }
}

/// Direct delivery with adjusted connection settings.
public struct TransportDirect: SconfRecord, Equatable, Sendable {
    public var disableIPv4 = false
    public var disableIPv6 = false

    public init() {}

    public static var sconfFields: [SconfField<TransportDirect>] {
        [
            .init(
                "DisableIPv4",
                \.disableIPv4,
                optional: true,
                doc: "Never connect to remote SMTP servers over IPv4."
            ),
            .init(
                "DisableIPv6",
                \.disableIPv6,
                optional: true,
                doc: "Never connect to remote SMTP servers over IPv6."
            ),
        ]
    }
}

/// A transport that fails every delivery attempt.
public struct TransportFail: SconfRecord, Equatable, Sendable {
    public var smtpCode = 0
    public var smtpMessage = ""

    public init() {}

    public static var sconfFields: [SconfField<TransportFail>] {
        [
            .init(
                "SMTPCode",
                \.smtpCode,
                optional: true,
                doc: "SMTP reply code for the failure, 4xx (temporary) or 5xx (permanent). Default: 554."
            ),
            .init(
                "SMTPMessage",
                \.smtpMessage,
                optional: true,
                doc: "Text for the failure, shown in the delivery status notification: ASCII without control "
                    + "characters, at most 256 characters."
            ),
        ]
    }
}
