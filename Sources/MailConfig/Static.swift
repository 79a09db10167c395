// The static configuration, mox.conf: read once when the server starts. Field names, order,
// types and optionality follow mox's `config.Static` so that mox's files load unchanged.
import Sconf

/// The typed form of mox.conf.
///
/// Nested records that are plain structs in mox (such as `TLS` or `Postmaster`) are plain
/// values here too: when left out of the file they hold their zero value. Records that mox
/// holds through a pointer are Swift optionals, `nil` when left out.
public struct StaticConfig: SconfRecord, Equatable, Sendable {
    public var dataDir = ""
    public var logLevel = ""
    public var packageLogLevels: [String: String] = [:]
    public var user = ""
    public var noFixPermissions = false
    public var hostname = ""
    public var checkUpdates = false
    public var pedantic = false
    public var tls = GlobalTLS()
    public var acme: [String: ACMEConfig] = [:]
    public var adminPasswordFile = ""
    public var listeners: [String: Listener] = [:]
    public var postmaster = Postmaster()
    public var hostTLSRPT = HostTLSRPT()
    public var initialMailboxes = InitialMailboxes()
    public var defaultMailboxes: [String] = []
    public var transports: [String: Transport] = [:]
    public var noOutgoingDMARCReports = false
    public var noOutgoingTLSReports = false
    public var outgoingTLSReportsForAllSuccess = false
    public var quotaMessageSize: Int64 = 0

    public init() {}

    public static var sconfHeader: String? {
        """
        mox.conf: the static configuration, read when the server starts; restart after changing it.
        Format: sconf. Indent with tabs only. A comment is a line of its own starting with #. \
        Values run to the end of the line and are never quoted or escaped. Keys marked \
        (optional) may be left out.
        """
    }

    public static let sconfFields: [SconfField<StaticConfig>] = [
        .init(
            "DataDir",
            { $0.dataDir },
            { $0.dataDir = $1 },
            doc: "Directory holding all state: the queue, the accounts with their messages, and "
                + "certificates and keys obtained through ACME. A relative path is taken relative to the "
                + "directory that holds mox.conf."
        ),
        .init(
            "LogLevel",
            { $0.logLevel },
            { $0.logLevel = $1 },
            doc: "Log level for all packages without an override in PackageLogLevels. One of error, info, "
                + "debug, trace, traceauth or tracedata. At trace, SMTP and IMAP protocol exchanges are "
                + "logged without authentication and message data; traceauth adds the authentication "
                + "exchanges (with passwords); tracedata adds full message data as well, which can be a lot."
        ),
        .init(
            "PackageLogLevels",
            { $0.packageLogLevels },
            { $0.packageLogLevels = $1 },
            optional: true,
            doc: "Log level per package, overriding LogLevel. Keys are package names such as smtpserver, "
                + "imapserver, smtpclient, queue, dkim, spf, dmarc, dmarcdb, mtasts, tlsrpt, autotls or junk; "
                + "values are log levels as for LogLevel."
        ),
        .init(
            "User",
            { $0.user },
            { $0.user = $1 },
            optional: true,
            doc: "System user to run as once all sockets have been opened as root. Default: mox. A value "
                + "that is not a known user name is read as a number and used as both uid and gid."
        ),
        .init(
            "NoFixPermissions",
            { $0.noFixPermissions },
            { $0.noFixPermissions = $1 },
            optional: true,
            doc: "Leave file ownership and permissions alone at startup. Without this, the owner and mode "
                + "of the work, config and data directories, their files and the mox binary are corrected "
                + "when needed."
        ),
        .init(
            "Hostname",
            { $0.hostname },
            { $0.hostname = $1 },
            doc: "Fully qualified host name of this machine, used in SMTP greetings and as the MX target, "
                + "typically mail.<domain>."
        ),
        .init(
            "CheckUpdates",
            { $0.checkUpdates },
            { $0.checkUpdates = $1 },
            optional: true,
            doc: "Check once a day for a new release, with a single DNS TXT lookup of _updates.xmox.nl. "
                + "When one is found, its changelog is downloaded from https://updates.xmox.nl/changelog "
                + "and delivered to the postmaster mailbox."
        ),
        .init(
            "Pedantic",
            { $0.pedantic },
            { $0.pedantic = $1 },
            optional: true,
            doc: "Reject protocol violations by SMTP, IMAP and other clients and servers, instead of "
                + "tolerating the common ones seen in practice."
        ),
        .init(
            "TLS",
            { $0.tls },
            { $0.tls = $1 },
            optional: true,
            doc: "TLS settings that apply to the whole server, such as extra certificate authorities "
                + "trusted for outgoing SMTP connections and HTTPS requests."
        ),
        .init(
            "ACME",
            { $0.acme },
            { $0.acme = $1 },
            optional: true,
            doc: "ACME providers (e.g. Let's Encrypt) for requesting TLS certificates automatically. The "
                + "key is a name of your choosing, e.g. letsencrypt, referenced from the TLS settings of "
                + "listeners."
        ),
        .init(
            "AdminPasswordFile",
            { $0.adminPasswordFile },
            { $0.adminPasswordFile = $1 },
            optional: true,
            doc: "File with the hashed password for the admin web interface. Without it, admin logins "
                + "are not possible."
        ),
        .init(
            "Listeners",
            { $0.listeners },
            { $0.listeners = $1 },
            doc: "Listeners, each a set of IP addresses with the services enabled on them: SMTP, IMAP, "
                + "web interfaces, metrics and more. The key is a name of your choosing. Every listener with "
                + "SMTP or IMAP serves all configured domains. A listener named public gets extra checks: "
                + "its host names are used for ACME certificates, and its IPs are monitored in the DNS "
                + "block lists, if any are configured."
        ),
        .init(
            "Postmaster",
            { $0.postmaster },
            { $0.postmaster = $1 },
            doc: "Where messages to postmaster addresses are delivered: the bare address postmaster, "
                + "postmaster at the host name (of the server and of each listener with SMTP), and "
                + "postmaster at each domain that has no postmaster address of its own."
        ),
        .init(
            "HostTLSRPT",
            { $0.hostTLSRPT },
            { $0.hostTLSRPT = $1 },
            optional: true,
            doc: "Where TLS reports (TLSRPT) about this mail host are received. Reports about DANE "
                + "concern the MX host and arrive here; reports about MTA-STS concern recipient domains and "
                + "are configured per domain in domains.conf. If left out, the host has no TLS reporting "
                + "address and no host TLSRPT DNS record is suggested."
        ),
        .init(
            "InitialMailboxes",
            { $0.initialMailboxes },
            { $0.initialMailboxes = $1 },
            optional: true,
            doc: "Mailboxes created for each new account, in addition to Inbox, which always exists. "
                + "Mailboxes can have a special-use role that mail clients understand. If left out or "
                + "empty, new accounts get Sent, Archive, Trash, Drafts and Junk."
        ),
        .init(
            "DefaultMailboxes",
            { $0.defaultMailboxes },
            { $0.defaultMailboxes = $1 },
            optional: true,
            doc: "Deprecated: use InitialMailboxes. Names of mailboxes to create for a new account, besides "
                + "Inbox. If empty, Sent, Archive, Trash, Drafts and Junk are created."
        ),
        .init(
            "Transports",
            { $0.transports },
            { $0.transports = $1 },
            optional: true,
            doc: "Named ways of delivering outgoing messages other than the built-in direct SMTP "
                + "delivery, e.g. through a smarthost or a SOCKS proxy. Routes in domains.conf refer to "
                + "them by name. Each transport sets at most one method. When another party sends mail for "
                + "your domain, its IPs may need to be added to the domain's SPF record, and it may need DKIM "
                + "records of its own."
        ),
        .init(
            "NoOutgoingDMARCReports",
            { $0.noOutgoingDMARCReports },
            { $0.noOutgoingDMARCReports = $1 },
            optional: true,
            doc: "Do not send DMARC aggregate reports. By default, domains whose DMARC policy asks for "
                + "reports receive them, from postmaster@<hostname>, for intervals of whole hours (1 to 24, "
                + "aligned to whole days in UTC)."
        ),
        .init(
            "NoOutgoingTLSReports",
            { $0.noOutgoingTLSReports },
            { $0.noOutgoingTLSReports = $1 },
            optional: true,
            doc: "Do not send TLS reports. By default, domains whose TLSRPT DNS record asks for reports "
                + "receive a daily report (covering a day in UTC) about failed STARTTLS connections and the "
                + "MTA-STS and DANE policies involved. Reports are sent from the postmaster address of the "
                + "configured domain that contains the host name; without such a domain, or without DKIM for "
                + "it, no reports are sent."
        ),
        .init(
            "OutgoingTLSReportsForAllSuccess",
            { $0.outgoingTLSReportsForAllSuccess },
            { $0.outgoingTLSReportsForAllSuccess = $1 },
            optional: true,
            doc: "Also send TLS reports when all connections succeeded. By default a report is only sent "
                + "when there was at least one failure; reports always include the success counts."
        ),
        .init(
            "QuotaMessageSize",
            { $0.quotaMessageSize },
            { $0.quotaMessageSize = $1 },
            optional: true,
            doc: "Default limit, in bytes, on the total size of the messages in each account; 0 means no "
                + "limit. Accounts can override it. Adding a message that would exceed the limit fails. The "
                + "limit counts message files only, not the account's index database or file system "
                + "overhead (allow about 15% extra)."
        ),
    ]
}

// MARK: - TLS and ACME

/// Server-wide TLS settings (mox.conf `TLS`).
public struct GlobalTLS: SconfRecord, Equatable, Sendable {
    public var ca: CA? = nil

    public init() {}

    public static let sconfFields: [SconfField<GlobalTLS>] = [
        .init(
            "CA",
            { $0.ca },
            { $0.ca = $1 },
            optional: true,
            doc: "Certificate authorities to trust when verifying the TLS certificates of remote servers."
        )
    ]

    /// Extra trusted certificate authorities.
    public struct CA: SconfRecord, Equatable, Sendable {
        public var additionalToSystem = false
        public var certFiles: [String] = []

        public init() {}

        public static let sconfFields: [SconfField<CA>] = [
            .init(
                "AdditionalToSystem",
                { $0.additionalToSystem },
                { $0.additionalToSystem = $1 },
                optional: true,
                doc: "Trust the certificates in CertFiles in addition to the system's trusted authorities. "
                    + "If false, only the certificates in CertFiles are trusted."
            ),
            .init(
                "CertFiles",
                { $0.certFiles },
                { $0.certFiles = $1 },
                optional: true,
                doc: "PEM files with certificate authority certificates to trust. Relative paths are "
                    + "relative to the directory of mox.conf."
            ),
        ]
    }
}

/// An ACME provider for automatic TLS certificates.
public struct ACMEConfig: SconfRecord, Equatable, Sendable {
    public var directoryURL = ""
    public var renewBefore = SconfDuration.sconfZero
    public var contactEmail = ""
    public var port = 0
    public var issuerDomainName = ""
    public var externalAccountBinding: ExternalAccountBinding? = nil

    public init() {}

    public static let sconfFields: [SconfField<ACMEConfig>] = [
        .init(
            "DirectoryURL",
            { $0.directoryURL },
            { $0.directoryURL = $1 },
            doc: "URL of the provider's ACME directory. For Let's Encrypt: "
                + "https://acme-v02.api.letsencrypt.org/directory."
        ),
        .init(
            "RenewBefore",
            { $0.renewBefore },
            { $0.renewBefore = $1 },
            optional: true,
            doc: "How long before a certificate expires to request a new one. Default: 30 days (720h)."
        ),
        .init(
            "ContactEmail",
            { $0.contactEmail },
            { $0.contactEmail = $1 },
            doc: "Email address registered with the provider, which may use it to warn about certificates "
                + "that are about to expire. An address hosted on this server may not receive such warnings "
                + "if TLS is what is broken."
        ),
        .init(
            "Port",
            { $0.port },
            { $0.port = $1 },
            optional: true,
            doc: "Port on which to answer ACME tls-alpn-01 validation requests. Default: 443. The provider "
                + "always connects to port 443, so a different port only works with something like firewall "
                + "port forwarding that passes the TLS connection through untouched; an HTTPS reverse proxy "
                + "does not work."
        ),
        .init(
            "IssuerDomainName",
            { $0.issuerDomainName },
            { $0.issuerDomainName = $1 },
            optional: true,
            doc: "Domain name of the certificate authority, used in the suggested CAA DNS records that "
                + "restrict which authority may issue certificates for your domains. When empty and "
                + "DirectoryURL is Let's Encrypt's, letsencrypt.org is used."
        ),
        .init(
            "ExternalAccountBinding",
            { $0.externalAccountBinding },
            { $0.externalAccountBinding = $1 },
            optional: true,
            doc: "Link the new ACME account to an account you already have at the provider, for "
                + "providers that require it (RFC 8555 7.3.4). The request is signed with a key that both "
                + "you and the provider know."
        ),
    ]
}

/// External account binding for an ACME provider (RFC 8555 7.3.4).
public struct ExternalAccountBinding: SconfRecord, Equatable, Sendable {
    public var keyID = ""
    public var keyFile = ""

    public init() {}

    public static let sconfFields: [SconfField<ExternalAccountBinding>] = [
        .init("KeyID", { $0.keyID }, { $0.keyID = $1 }, doc: "Key identifier given by the ACME provider."),
        .init(
            "KeyFile",
            { $0.keyFile },
            { $0.keyFile = $1 },
            doc: "File holding the key given by the ACME provider, base64url-encoded, used to sign the "
                + "account request. Relative to the directory of mox.conf."
        ),
    ]
}

/// TLS settings of a listener.
public struct ListenerTLS: SconfRecord, Equatable, Sendable {
    public var acme = ""
    public var keyCerts: [KeyCert] = []
    public var minVersion = ""
    public var hostPrivateKeyFiles: [String] = []
    public var clientAuthDisabled = false

    public init() {}

    public static let sconfFields: [SconfField<ListenerTLS>] = [
        .init(
            "ACME",
            { $0.acme },
            { $0.acme = $1 },
            optional: true,
            doc: "Name of an ACME provider from the top-level ACME section, e.g. letsencrypt, to get "
                + "certificates for this listener automatically."
        ),
        .init(
            "KeyCerts",
            { $0.keyCerts },
            { $0.keyCerts = $1 },
            optional: true,
            doc: "Certificates with their private keys to serve on this listener. The files are read by "
                + "the root process before it drops privileges, so they need no special permissions. If a "
                + "key is kept when its certificate is renewed, list it in HostPrivateKeyFiles too and "
                + "publish DANE TLSA records."
        ),
        .init(
            "MinVersion",
            { $0.minVersion },
            { $0.minVersion = $1 },
            optional: true,
            doc: "Oldest TLS version to accept: TLSv1.0, TLSv1.1, TLSv1.2 or TLSv1.3. Default: TLSv1.2."
        ),
        .init(
            "HostPrivateKeyFiles",
            { $0.hostPrivateKeyFiles },
            { $0.hostPrivateKeyFiles = $1 },
            optional: true,
            doc: "Private key files (PEM; PKCS#8 preferred, PKCS#1 and EC keys also read) for the "
                + "certificates requested through ACME. Configuring them up front lets DANE TLSA records "
                + "be published before any certificate exists; DANE, protected by DNSSEC, is used by "
                + "senders that deliver with STARTTLS. Only RSA 2048-bit and ECDSA P-256 keys are used, "
                + "the first of each type for new certificates."
        ),
        .init(
            "ClientAuthDisabled",
            { $0.clientAuthDisabled },
            { $0.clientAuthDisabled = $1 },
            optional: true,
            doc: "Do not ask TLS clients for a certificate. Set this for clients that misbehave when the "
                + "server requests TLS client authentication."
        ),
    ]
}

/// A certificate and its private key.
public struct KeyCert: SconfRecord, Equatable, Sendable {
    public var certFile = ""
    public var keyFile = ""

    public init() {}

    public static let sconfFields: [SconfField<KeyCert>] = [
        .init(
            "CertFile",
            { $0.certFile },
            { $0.certFile = $1 },
            doc: "PEM file with the certificate followed by any intermediate CA certificates."
        ),
        .init(
            "KeyFile",
            { $0.keyFile },
            { $0.keyFile = $1 },
            doc: "PEM file with the certificate's private key: PKCS#8 preferred, PKCS#1 and EC keys are "
                + "read too."
        ),
    ]
}

// MARK: - Postmaster, TLS reports, mailboxes

/// Where postmaster mail goes.
public struct Postmaster: SconfRecord, Equatable, Sendable {
    public var account = ""
    public var mailbox = ""

    public init() {}

    public static let sconfFields: [SconfField<Postmaster>] = [
        .init(
            "Account",
            { $0.account },
            { $0.account = $1 },
            doc: "Account, from domains.conf, that receives postmaster messages."
        ),
        .init(
            "Mailbox",
            { $0.mailbox },
            { $0.mailbox = $1 },
            doc: "Mailbox in that account, e.g. Postmaster or Inbox."
        ),
    ]
}

/// Where TLS reports about this host are delivered.
public struct HostTLSRPT: SconfRecord, Equatable, Sendable {
    public var account = ""
    public var mailbox = ""
    public var localpart = ""

    public init() {}

    public static let sconfFields: [SconfField<HostTLSRPT>] = [
        .init(
            "Account",
            { $0.account },
            { $0.account = $1 },
            doc: "Account that receives TLS reports for the host, usually the postmaster's account."
        ),
        .init(
            "Mailbox",
            { $0.mailbox },
            { $0.mailbox = $1 },
            doc: "Mailbox in that account for the reports; TLSRPT is a good choice."
        ),
        .init(
            "Localpart",
            { $0.localpart },
            { $0.localpart = $1 },
            doc: "Part before the @ of the reporting address at the host name; tlsreports is a good choice."
        ),
    ]
}

/// Mailboxes created with each new account.
public struct InitialMailboxes: SconfRecord, Equatable, Sendable {
    public var specialUse = SpecialUseMailboxes()
    public var regular: [String] = []

    public init() {}

    public static let sconfFields: [SconfField<InitialMailboxes>] = [
        .init(
            "SpecialUse",
            { $0.specialUse },
            { $0.specialUse = $1 },
            optional: true,
            doc: "Names of the mailboxes to create for each special-use role (RFC 6154)."
        ),
        .init(
            "Regular",
            { $0.regular },
            { $0.regular = $1 },
            optional: true,
            doc: "Names of further mailboxes to create, without a special-use role."
        ),
    ]
}

/// Mailbox names per special-use role (RFC 6154), which mail clients recognize, e.g. to store
/// sent messages in the mailbox with the Sent role.
public struct SpecialUseMailboxes: SconfRecord, Equatable, Sendable {
    public var sent = ""
    public var archive = ""
    public var trash = ""
    public var draft = ""
    public var junk = ""

    public init() {}

    public static let sconfFields: [SconfField<SpecialUseMailboxes>] = [
        .init("Sent", { $0.sent }, { $0.sent = $1 }, optional: true, doc: "Mailbox for sent messages, e.g. Sent."),
        .init(
            "Archive",
            { $0.archive },
            { $0.archive = $1 },
            optional: true,
            doc: "Mailbox for archived messages, e.g. Archive."
        ),
        .init(
            "Trash",
            { $0.trash },
            { $0.trash = $1 },
            optional: true,
            doc: "Mailbox for deleted messages, e.g. Trash."
        ),
        .init(
            "Draft",
            { $0.draft },
            { $0.draft = $1 },
            optional: true,
            doc: "Mailbox for message drafts, e.g. Drafts."
        ),
        .init("Junk", { $0.junk }, { $0.junk = $1 }, optional: true, doc: "Mailbox for spam, e.g. Junk."),
    ]
}
