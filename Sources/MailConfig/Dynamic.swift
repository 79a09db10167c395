// The dynamic configuration, domains.conf: domains, accounts, web handlers and routes. The
// server reloads it when it changes. Field names, order, types and optionality follow mox's
// `config.Dynamic` so that mox's files load unchanged.
import Sconf

/// The typed form of domains.conf.
public struct DynamicConfig: SconfRecord, Equatable, Sendable {
    public var domains: [String: DomainConfig] = [:]
    public var accounts: [String: AccountConfig] = [:]
    public var webDomainRedirects: [String: String] = [:]
    public var webHandlers: [WebHandler] = []
    public var routes: [Route] = []
    public var monitorDNSBLs: [String] = []

    public init() {}

    public static var sconfHeader: String? {
        """
        domains.conf: the dynamic configuration. The server reloads it when it changes; a file with \
        errors is not loaded and the previous configuration stays in use.
        Format: sconf. Indent with tabs only. A comment is a line of its own starting with #. \
        Values run to the end of the line and are never quoted or escaped. Keys marked \
        (optional) may be left out.
        """
    }

    public static let sconfFields: [SconfField<DynamicConfig>] = [
        .init(
            "Domains",
            { $0.domains },
            { $0.domains = $1 },
            doc: "Domains this server accepts mail for, keyed by domain name. Write internationalized "
                + "domain names in their Unicode form."
        ),
        .init(
            "Accounts",
            { $0.accounts },
            { $0.accounts = $1 },
            doc: "Accounts, keyed by account name (not an email address). Each account has a password, "
                + "one or more email addresses (possibly at several domains) that it receives mail for, and "
                + "its own directory with its messages and index database."
        ),
        .init(
            "WebDomainRedirects",
            { $0.webDomainRedirects },
            { $0.webDomainRedirects = $1 },
            optional: true,
            doc: "Web requests for a domain (the key) are redirected to another domain (the value), always "
                + "to HTTPS. For plain HTTP redirects, use a WebHandler with WebRedirect."
        ),
        .init(
            "WebHandlers",
            { $0.webHandlers },
            { $0.webHandlers = $1 },
            optional: true,
            doc: "Handlers for web requests: serve static files, redirect, forward to another web server "
                + "(reverse proxy) or pass to a built-in service. The first handler that matches a request "
                + "handles it. Built-in handlers for ACME validation, autoconfig and MTA-STS always go "
                + "first; the account, admin, webmail and webapi interfaces come after all WebHandlers, so "
                + "handlers can override them for some domains. A request no handler matches gets 404 "
                + "(not found)."
        ),
        .init(
            "Routes",
            { $0.routes },
            { $0.routes = $1 },
            optional: true,
            doc: "Global routes for outgoing messages, evaluated after the routes of the sending account and "
                + "of its domain. Each delivery attempt uses the transport of the first route that matches; "
                + "when none matches (the default, with no routes), messages are delivered directly."
        ),
        .init(
            "MonitorDNSBLs",
            { $0.monitorDNSBLs },
            { $0.monitorDNSBLs = $1 },
            optional: true,
            doc: "DNS block list zones that the IPs this server sends from are checked against "
                + "periodically, without using them to judge incoming mail (for that, see DNSBLs of the "
                + "SMTP service in mox.conf). The public IPs of the listeners (their NATIPs, else their "
                + "IPs, without loopback and private addresses; none when a listener is IPsNATed) are "
                + "checked at start, then after every 100 outgoing connections or every 3 hours, at most "
                + "every 5 minutes; results go to the metric mox_dnsbl_ips_success (1 not listed, 0 "
                + "listed or failed) and a listing is logged as an error. Examples: sbl.spamhaus.org, "
                + "bl.spamcop.net."
        ),
    ]
}

// MARK: - Domains

/// A domain this server accepts mail for.
public struct DomainConfig: SconfRecord, Equatable, Sendable {
    public var disabled = false
    public var description = ""
    public var clientSettingsDomain = ""
    public var localpartCatchallSeparator = ""
    public var localpartCatchallSeparators: [String] = []
    public var localpartCaseSensitive = false
    public var dkim = DKIMConfig()
    public var dmarc: DMARCConfig? = nil
    public var mtasts: MTASTSConfig? = nil
    public var tlsrpt: TLSRPTConfig? = nil
    public var routes: [Route] = []
    public var aliases: [String: Alias] = [:]

    public init() {}

    /// The catchall separators in effect (LocalpartCatchallSeparators, or the single
    /// LocalpartCatchallSeparator; validation allows one of the two). The first one builds
    /// fromid addresses.
    public var catchallSeparators: [String] {
        if !self.localpartCatchallSeparators.isEmpty { return self.localpartCatchallSeparators }
        return self.localpartCatchallSeparator.isEmpty ? [] : [self.localpartCatchallSeparator]
    }

    public static let sconfFields: [SconfField<DomainConfig>] = [
        .init(
            "Disabled",
            { $0.disabled },
            { $0.disabled = $1 },
            optional: true,
            doc: "Take the domain out of service, e.g. during a migration, while keeping its configuration "
                + "and its addresses in accounts. For a disabled domain: no ACME certificates are requested "
                + "for its names (the certificate for the mail host name still is); incoming SMTP mail for "
                + "it is refused with a temporary error (450 4.2.1); submitting a message with a sender "
                + "address at the domain is refused with a temporary error (451 4.3.0). Accounts with "
                + "addresses at the domain can still log in and read their mail."
        ),
        .init(
            "Description",
            { $0.description },
            { $0.description = $1 },
            optional: true,
            doc: "Free-form text describing the domain."
        ),
        .init(
            "ClientSettingsDomain",
            { $0.clientSettingsDomain },
            { $0.clientSettingsDomain = $1 },
            optional: true,
            doc: "Host name (Unicode form) to give mail clients in their settings instead of the server's "
                + "host name, e.g. mail.<domain>. With a name under the hosted domain, the mail can later "
                + "move to another server without every client changing its settings. When empty, the "
                + "server's host name is used."
        ),
        .init(
            "LocalpartCatchallSeparator",
            { $0.localpartCatchallSeparator },
            { $0.localpartCatchallSeparator = $1 },
            optional: true,
            doc: "When set, only the part of the localpart before this separator decides where mail is "
                + "delivered. With +, mail for you+anything@example.com goes to you@example.com."
        ),
        .init(
            "LocalpartCatchallSeparators",
            { $0.localpartCatchallSeparators },
            { $0.localpartCatchallSeparators = $1 },
            optional: true,
            doc: "Several separators, as LocalpartCatchallSeparator, e.g. both + and -. Set at most one of "
                + "the two fields. The first separator is the one used to build unique sender addresses "
                + "for FromIDLoginAddresses."
        ),
        .init(
            "LocalpartCaseSensitive",
            { $0.localpartCaseSensitive },
            { $0.localpartCaseSensitive = $1 },
            optional: true,
            doc: "Treat upper and lower case in localparts as different when delivering mail. By default "
                + "case is ignored."
        ),
        .init(
            "DKIM",
            { $0.dkim },
            { $0.dkim = $1 },
            optional: true,
            doc: "DKIM signing of outgoing messages (RFC 6376). Signing vouches for the messages under the "
                + "domain's name, so receivers can build a reputation for the domain, which helps delivery."
        ),
        .init(
            "DMARC",
            { $0.dmarc },
            { $0.dmarc = $1 },
            optional: true,
            doc: "Where DMARC aggregate reports for the domain (RFC 7489) are received. A DMARC policy, "
                + "published in DNS, tells receivers what to do with messages whose From address is at the "
                + "domain but that fail verification, and where to send reports about their checks. "
                + "Incoming reports are parsed, checked, counted in metrics and stored for the admin web "
                + "interface."
        ),
        .init(
            "MTASTS",
            { $0.mtasts },
            { $0.mtasts = $1 },
            optional: true,
            doc: "The MTA-STS policy of the domain (RFC 8461). It tells other mail servers which MX hosts are "
                + "valid and whether delivery must use STARTTLS with a WebPKI-verified certificate. A DNS TXT "
                + "record announces the policy; servers fetch it over HTTPS and cache it. To change the "
                + "policy, first change it here (with a new PolicyID), then update the DNS record. To remove "
                + "an enforced policy, first serve mode none until all cached copies have expired (mind "
                + "MaxAge and the DNS TTL), then remove the DNS record and stop serving the policy."
        ),
        .init(
            "TLSRPT",
            { $0.tlsrpt },
            { $0.tlsrpt = $1 },
            optional: true,
            doc: "Where TLS reports for the domain (RFC 8460) are received: reports by other mail servers "
                + "about their TLS connections when delivering to the domain. Incoming reports are parsed, "
                + "checked, counted in metrics and stored for the admin web interface."
        ),
        .init(
            "Routes",
            { $0.routes },
            { $0.routes = $1 },
            optional: true,
            doc: "Routes for outgoing messages from this domain, evaluated after the sending account's "
                + "routes and before the global routes. The first matching route's transport is used; with "
                + "no match, messages are delivered directly."
        ),
        .init(
            "Aliases",
            { $0.aliases },
            { $0.aliases = $1 },
            optional: true,
            doc: "Aliases (simple mailing lists) that deliver to one or more addresses of local accounts. "
                + "Keys are localparts, as written in email addresses."
        ),
    ]
}

/// DKIM signing for a domain.
public struct DKIMConfig: SconfRecord, Equatable, Sendable {
    public var selectors: [String: Selector] = [:]
    public var sign: [String] = []

    public init() {}

    public static let sconfFields: [SconfField<DKIMConfig>] = [
        .init(
            "Selectors",
            { $0.selectors },
            { $0.selectors = $1 },
            doc: "Signing keys, keyed by selector name. Each selector needs a DNS TXT record at "
                + "<selector>._domainkey.<domain> with its public key. A selector only signs when it is "
                + "listed in Sign."
        ),
        .init(
            "Sign",
            { $0.sign },
            { $0.sign = $1 },
            optional: true,
            doc: "Selectors to sign outgoing messages with; each adds a DKIM-Signature header."
        ),
    ]

    /// A DKIM signing key and how it signs.
    public struct Selector: SconfRecord, Equatable, Sendable {
        public var hash = ""
        public var canonicalization = Canonicalization()
        public var headers: [String] = []
        public var dontSealHeaders = false
        public var expiration = ""
        public var privateKeyFile = ""

        public init() {}

        public static let sconfFields: [SconfField<Selector>] = [
            .init(
                "Hash",
                { $0.hash },
                { $0.hash = $1 },
                optional: true,
                doc: "Hash algorithm: sha256 (the default) or the older sha1, which is not recommended."
            ),
            .init(
                "Canonicalization",
                { $0.canonicalization },
                { $0.canonicalization = $1 },
                optional: true,
                doc: "How strictly headers and body must stay unchanged for the signature to verify. "
                    + "Default: simple for both."
            ),
            .init(
                "Headers",
                { $0.headers },
                { $0.headers = $1 },
                optional: true,
                doc: "Header fields to sign. If empty, a sensible default set is signed."
            ),
            .init(
                "DontSealHeaders",
                { $0.dontSealHeaders },
                { $0.dontSealHeaders = $1 },
                optional: true,
                doc: "Allow extra instances of the signed headers to be added without breaking the "
                    + "signature. By default each signed header is also signed as absent once more, which "
                    + "prevents that. Not recommended."
            ),
            .init(
                "Expiration",
                { $0.expiration },
                { $0.expiration = $1 },
                optional: true,
                doc: "How long signatures stay valid after signing, as a duration such as 72h. Leave room "
                    + "for delivery through several hops; at least a few days. Empty: no expiration."
            ),
            .init(
                "PrivateKeyFile",
                { $0.privateKeyFile },
                { $0.privateKeyFile = $1 },
                doc: "File with the private key, RSA or Ed25519, PKCS#8 in PEM form. Relative to the "
                    + "directory of domains.conf."
            ),
        ]
    }

    /// DKIM canonicalization (RFC 6376 3.4).
    public struct Canonicalization: SconfRecord, Equatable, Sendable {
        public var headerRelaxed = false
        public var bodyRelaxed = false

        public init() {}

        public static let sconfFields: [SconfField<Canonicalization>] = [
            .init(
                "HeaderRelaxed",
                { $0.headerRelaxed },
                { $0.headerRelaxed = $1 },
                doc: "Use relaxed header canonicalization, which tolerates changes to header whitespace "
                    + "and to the case of header names. If false: simple."
            ),
            .init(
                "BodyRelaxed",
                { $0.bodyRelaxed },
                { $0.bodyRelaxed = $1 },
                doc: "Use relaxed body canonicalization, which tolerates changes to whitespace in the "
                    + "body. If false: simple."
            ),
        ]
    }
}

/// The address where DMARC reports for a domain are received.
public struct DMARCConfig: SconfRecord, Equatable, Sendable {
    public var localpart = ""
    public var domain = ""
    public var account = ""
    public var mailbox = ""

    public init() {}

    public static let sconfFields: [SconfField<DMARCConfig>] = [
        .init(
            "Localpart",
            { $0.localpart },
            { $0.localpart = $1 },
            doc: "Part before the @ of the reporting address; ASCII only. dmarcreports is a good choice."
        ),
        .init(
            "Domain",
            { $0.domain },
            { $0.domain = $1 },
            optional: true,
            doc: "Domain (Unicode form) of the reporting address, when it is not this domain. This lets a "
                + "domain whose mail is hosted elsewhere send its reports here: configure it as a domain "
                + "here without changing its other DNS records, set this field to a domain fully hosted on "
                + "this server, and only update its DMARC record so that rua names the resulting address."
        ),
        .init("Account", { $0.account }, { $0.account = $1 }, doc: "Account that receives the reports."),
        .init(
            "Mailbox",
            { $0.mailbox },
            { $0.mailbox = $1 },
            doc: "Mailbox in that account for the reports, e.g. DMARC."
        ),
    ]
}

/// The MTA-STS policy of a domain (RFC 8461).
public struct MTASTSConfig: SconfRecord, Equatable, Sendable {
    public var policyID = ""
    public var mode = ""
    public var maxAge = SconfDuration.sconfZero
    public var mx: [String] = []

    public init() {}

    public static let sconfFields: [SconfField<MTASTSConfig>] = [
        .init(
            "PolicyID",
            { $0.policyID },
            { $0.policyID = $1 },
            doc: "Version of the policy, also published in the DNS record. Change it whenever the policy "
                + "changes: first here, then in DNS."
        ),
        .init(
            "Mode",
            { $0.mode },
            { $0.mode = $1 },
            doc: "One of enforce (senders must not deliver without a verified TLS connection), testing "
                + "(senders may deliver anyway but report failures through TLSRPT) or none (the policy is "
                + "being withdrawn)."
        ),
        .init(
            "MaxAge",
            { $0.maxAge },
            { $0.maxAge = $1 },
            doc: "How long senders may cache the policy, e.g. 168h; usually one or a few weeks."
        ),
        .init(
            "MX",
            { $0.mx },
            { $0.mx = $1 },
            optional: true,
            doc: "Host names of the MX servers allowed for the domain. If empty, the server's host name. A "
                + "name may start with *. to match exactly one label: *.example matches host.example but not "
                + "sub.host.example."
        ),
    ]
}

/// The address where TLS reports for a domain are received (RFC 8460).
public struct TLSRPTConfig: SconfRecord, Equatable, Sendable {
    public var localpart = ""
    public var domain = ""
    public var account = ""
    public var mailbox = ""

    public init() {}

    public static let sconfFields: [SconfField<TLSRPTConfig>] = [
        .init(
            "Localpart",
            { $0.localpart },
            { $0.localpart = $1 },
            doc: "Part before the @ of the reporting address; ASCII only. tlsreports is a good choice."
        ),
        .init(
            "Domain",
            { $0.domain },
            { $0.domain = $1 },
            optional: true,
            doc: "Domain (Unicode form) of the reporting address, when it is not this domain. This lets a "
                + "domain whose mail is hosted elsewhere send its reports here: configure it as a domain "
                + "here without changing its other DNS records, set this field to a domain fully hosted on "
                + "this server, and only update its TLSRPT record so that rua names the resulting address."
        ),
        .init("Account", { $0.account }, { $0.account = $1 }, doc: "Account that receives the reports."),
        .init(
            "Mailbox",
            { $0.mailbox },
            { $0.mailbox = $1 },
            doc: "Mailbox in that account for the reports, e.g. TLSRPT."
        ),
    ]
}

/// An alias: an address at the domain that delivers to addresses of local accounts.
public struct Alias: SconfRecord, Equatable, Sendable {
    public var addresses: [String] = []
    public var postPublic = false
    public var listMembers = false
    public var allowMsgFrom = false

    public init() {}

    public static let sconfFields: [SconfField<Alias>] = [
        .init(
            "Addresses",
            { $0.addresses },
            { $0.addresses = $1 },
            doc: "Member addresses to deliver to; for now they must be addresses of local accounts. A "
                + "member that is also a direct recipient of the same message gets it only once, and the "
                + "member in the message's From header does not get it."
        ),
        .init(
            "PostPublic",
            { $0.postPublic },
            { $0.postPublic = $1 },
            optional: true,
            doc: "Accept messages to the alias from anyone. By default only members may send to it, judged "
                + "by the message From address, which must pass DMARC-like verification."
        ),
        .init(
            "ListMembers",
            { $0.listMembers },
            { $0.listMembers = $1 },
            optional: true,
            doc: "Let members see the addresses of the other members."
        ),
        .init(
            "AllowMsgFrom",
            { $0.allowMsgFrom },
            { $0.allowMsgFrom = $1 },
            optional: true,
            doc: "Let members send messages with the alias address in the From header."
        ),
    ]
}

// MARK: - Routes

/// A route for outgoing messages: which transport to use for which messages.
public struct Route: SconfRecord, Equatable, Sendable {
    public var fromDomain: [String] = []
    public var toDomain: [String] = []
    public var minimumAttempts = 0
    public var transport = ""

    public init() {}

    public static let sconfFields: [SconfField<Route>] = [
        .init(
            "FromDomain",
            { $0.fromDomain },
            { $0.fromDomain = $1 },
            optional: true,
            doc: "Match when the domain of the envelope sender (SMTP MAIL FROM) is one of these; an empty "
                + "list matches all. A domain starting with a dot also matches its subdomains."
        ),
        .init(
            "ToDomain",
            { $0.toDomain },
            { $0.toDomain = $1 },
            optional: true,
            doc: "As FromDomain, but for the domain of the envelope recipient."
        ),
        .init(
            "MinimumAttempts",
            { $0.minimumAttempts },
            { $0.minimumAttempts = $1 },
            optional: true,
            doc: "Match only after at least this many delivery attempts, e.g. to fall back to a smarthost "
                + "when direct delivery keeps failing. Default: 0."
        ),
        .init(
            "Transport",
            { $0.transport },
            { $0.transport = $1 },
            doc: "Name of the transport, from Transports in mox.conf, to deliver matching messages with."
        ),
    ]
}
