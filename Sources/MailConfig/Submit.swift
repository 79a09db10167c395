// /etc/moxsubmit.conf: the settings of `mox sendmail`, the sendmail-compatible client that
// submits a message read from standard input to a mail server (cron jobs, scripts).
import Sconf

public struct SubmitConfig: SconfRecord, Equatable, Sendable {
    public var localHostname = ""
    public var host = ""
    public var port = 0
    public var tls = false
    public var startTLS = false
    public var tlsInsecureSkipVerify = false
    public var username = ""
    public var password = ""
    public var clientAuthEd25519PrivateKey = ""
    public var clientAuthCertPrivateKeyPEMFile = ""
    public var authMethod = ""
    public var from = ""
    public var defaultDestination = ""
    public var requireTLS = ""

    public init() {}

    /// The file `mox sendmail` reads, as mox names it; $MOXSUBMITCONF overrides it.
    public static let defaultPath = "/etc/moxsubmit.conf"

    public static var sconfHeader: String? {
        "Configuration for \"mox sendmail\", in /etc/moxsubmit.conf (or the file named by $MOXSUBMITCONF): where "
            + "and how messages read from standard input are submitted."
    }

    public static let sconfFields: [SconfField<SubmitConfig>] = [
        .init("LocalHostname", { $0.localHostname }, { $0.localHostname = $1 }, optional: true,
              doc: "Host name to announce in SMTP EHLO. Default: localhost."),
        .init("Host", { $0.host }, { $0.host = $1 }, doc: "Host name or IP address of the submission server."),
        .init("Port", { $0.port }, { $0.port = $1 }, optional: true,
              doc: "Port of the submission server. Default: 465 with TLS, else 587."),
        .init("TLS", { $0.tls }, { $0.tls = $1 }, optional: true,
              doc: "Connect with TLS from the first byte (submissions, usually port 465)."),
        .init("STARTTLS", { $0.startTLS }, { $0.startTLS = $1 }, optional: true,
              doc: "Switch to TLS with STARTTLS after connecting; required when set."),
        .init("TLSInsecureSkipVerify", { $0.tlsInsecureSkipVerify }, { $0.tlsInsecureSkipVerify = $1 }, optional: true,
              doc: "Accept a TLS certificate that cannot be verified (a self-signed one)."),
        .init("Username", { $0.username }, { $0.username = $1 }, doc: "User name to log in with, usually an email address."),
        .init("Password", { $0.password }, { $0.password = $1 }, optional: true,
              doc: "Password to log in with. One of Password, ClientAuthEd25519PrivateKey and "
                + "ClientAuthCertPrivateKeyPEMFile must be set; only Password is supported by this implementation."),
        .init("ClientAuthEd25519PrivateKey", { $0.clientAuthEd25519PrivateKey }, { $0.clientAuthEd25519PrivateKey = $1 }, optional: true,
              doc: "Base64 Ed25519 private key for a TLS client certificate (not supported yet by this implementation)."),
        .init("ClientAuthCertPrivateKeyPEMFile", { $0.clientAuthCertPrivateKeyPEMFile }, { $0.clientAuthCertPrivateKeyPEMFile = $1 }, optional: true,
              doc: "PEM file with a TLS client certificate and its private key (not supported yet by this implementation)."),
        .init("AuthMethod", { $0.authMethod }, { $0.authMethod = $1 }, optional: true,
              doc: "SASL mechanism to use (SCRAM-SHA-256, SCRAM-SHA-1, CRAM-MD5 or PLAIN). Default: the strongest "
                + "the server offers, PLAIN only over TLS."),
        .init("From", { $0.from }, { $0.from = $1 }, doc: "Address for MAIL FROM and the message's From header, which replaces any From in the message."),
        .init("DefaultDestination", { $0.defaultDestination }, { $0.defaultDestination = $1 }, optional: true,
              doc: "Address to send to when a recipient has no domain (e.g. \"root\" from cron)."),
        .init("RequireTLS", { $0.requireTLS }, { $0.requireTLS = $1 }, optional: true,
              doc: "RFC 8689: \"yes\" to submit with REQUIRETLS (verified TLS all the way), \"no\" to add "
                + "\"TLS-Required: No\" to the message, empty for neither."),
    ]
}
