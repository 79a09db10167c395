import ArgumentParser

public struct ConfigCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "config",
        abstract: "Check, describe and edit the configuration files.",
        subcommands: [
            ConfigTest.self, ConfigDescribeDomains.self, ConfigDescribeStatic.self, ConfigDescribeSendmail.self, ConfigExampleCommand.self,
            ConfigAccount.self, ConfigAddress.self, ConfigTLSPublicKey.self, ConfigDNSRecords.self, ConfigDNSCheck.self,
        ]
    )

    public init() {}
}

public struct ConfigTest: MoxCommand {
    public static let configuration = CommandConfiguration(
        commandName: "test",
        abstract: "Parse and validate the configuration files.",
        discussion: """
            Reads mox.conf (see -config) and domains.conf from the same directory, and checks every field. \
            When both are valid it prints "config OK" and exits with status 0. Otherwise it prints every \
            problem found, each with its file, line and field, and exits with status 1.
            """
    )

    public init() {}
}

public struct ConfigDescribeStatic: MoxCommand {
    public static let configuration = CommandConfiguration(
        commandName: "describe-static",
        abstract: "Print an annotated, empty mox.conf.",
        discussion: """
            Every field is shown with its documentation as comments, usually redirected to a file: \
            `mox config describe-static >mox.conf`. Changes to mox.conf take effect when the server is \
            restarted. The output is a starting point, not a valid configuration: required values are empty \
            and lists have one empty item.
            """
    )

    public init() {}
}

public struct ConfigDescribeDomains: MoxCommand {
    public static let configuration = CommandConfiguration(
        commandName: "describe-domains",
        abstract: "Print an annotated, empty domains.conf.",
        discussion: """
            Every field is shown with its documentation as comments, usually redirected to a file: \
            `mox config describe-domains >domains.conf`. The server reloads domains.conf when it changes. \
            The output is a starting point, not a valid configuration.
            """
    )

    public init() {}
}

public struct ConfigExampleCommand: MoxCommand {
    public static let configuration = CommandConfiguration(
        commandName: "example",
        abstract: "List the example configuration snippets, or print one.",
        discussion: """
            Without a name, prints the names of the examples, one per line. With a name, prints that \
            example: an annotated part of mox.conf or domains.conf for a common set-up (webhandlers: \
            redirects, static files and a reverse proxy for the domains.conf web server; transport: sending \
            through another provider's submission service). An unknown name prints "not found" and exits \
            with status 1. The examples are also on the config reference page of the website.
            """
    )

    @Argument(help: ArgumentHelp("The example to print.", valueName: "name"))
    public var name: String?

    public init() {}
}

// MARK: - mox config tlspubkey

public struct ConfigTLSPublicKey: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "tlspubkey",
        abstract: "List, add and remove TLS public keys for TLS client certificate authentication.",
        discussion: """
            A TLS public key logs in to an account as one of its addresses: an IMAP or SMTP \
            submission client that presents a certificate with that key during the TLS handshake can \
            authenticate with SASL EXTERNAL, and on IMAPS (port 993) it starts out logged in (the \
            PREAUTH greeting). Only the \
            public key counts, not who signed the certificate, so self-signed certificates are the usual \
            kind. Keys are kept in auth.db in the data directory; a running server uses a key from the \
            next connection on. Listeners ask for client certificates unless their TLS section sets \
            ClientAuthDisabled.
            """,
        subcommands: [
            ConfigTLSPublicKeyList.self, ConfigTLSPublicKeyGet.self, ConfigTLSPublicKeyAdd.self,
            ConfigTLSPublicKeyRemove.self, ConfigTLSPublicKeyGen.self,
        ]
    )

    public init() {}
}

public struct ConfigTLSPublicKeyList: MoxCommand {
    public static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "List the TLS public keys of an account, or of all accounts.",
        discussion: """
            Prints one key per line: its fingerprint (the base64url SHA-256 of the certificate's \
            public key), type, account, login address and name, separated by tabs.
            """
    )

    @Argument(help: ArgumentHelp("Only this account's keys.", valueName: "account"))
    public var account: String?

    public init() {}
}

public struct ConfigTLSPublicKeyGet: MoxCommand {
    public static let configuration = CommandConfiguration(
        commandName: "get",
        abstract: "Print a TLS public key and its certificate.",
        discussion: """
            Prints the key's type, name, account, address and whether IMAP PREAUTH is off for it, then \
            the certificate it was added from, in PEM.
            """
    )

    @Argument(help: ArgumentHelp("The key's fingerprint, as `list` prints it.", valueName: "fingerprint"))
    public var fingerprint: String

    public init() {}
}

public struct ConfigTLSPublicKeyAdd: MoxCommand {
    public static let configuration = CommandConfiguration(
        commandName: "add",
        abstract: "Add the public key of a certificate (PEM, on standard input) to the account of an address.",
        discussion: """
            The certificate is read from standard input, e.g. `mox config tlspubkey add \
            me@example.org <cert.pem`; only its public key is kept for logging in. Without a name, the \
            certificate's common name is used.
            """
    )

    @Flag(
        name: .customLong("no-imap-preauth", withSingleDash: true),
        help: ArgumentHelp(
            "Do not start IMAP connections made with this key logged in (PREAUTH); for clients that try to log in anyway."
        )
    )
    public var noIMAPPreauth = false

    @Argument(help: ArgumentHelp("The address the key logs in as.", valueName: "address"))
    public var address: String

    @Argument(help: ArgumentHelp("A name for the key.", valueName: "name"))
    public var name: String?

    public init() {}
}

public struct ConfigTLSPublicKeyRemove: MoxCommand {
    public static let configuration = CommandConfiguration(
        commandName: "rm",
        abstract: "Remove a TLS public key.",
        discussion: "Connections with a certificate for this key can no longer log in with it."
    )

    @Argument(help: ArgumentHelp("The key's fingerprint, as `list` prints it.", valueName: "fingerprint"))
    public var fingerprint: String

    public init() {}
}

public struct ConfigTLSPublicKeyGen: MoxCommand {
    public static let configuration = CommandConfiguration(
        commandName: "gen",
        abstract: "Generate an Ed25519 private key and a minimal certificate for TLS client authentication.",
        discussion: """
            Writes the private key to STEM.TIMESTAMP.ed25519privatekey.pkcs8.pem, the certificate to \
            STEM.TIMESTAMP.certificate.pem, and both together to \
            STEM.TIMESTAMP.ed25519privatekey-certificate.pem (TIMESTAMP as YYYYMMDDHHMM, in UTC), \
            readable by the owner only. Add the certificate to an account with `mox config tlspubkey \
            add ADDRESS <STEM.TIMESTAMP.certificate.pem`, and give the client the combined file. The \
            private key, as raw-url-base64 of its 32-byte seed, and the public key's fingerprint are \
            printed to standard error.
            """
    )

    @Argument(help: ArgumentHelp("The start of the names of the files to write.", valueName: "stem"))
    public var stem: String

    public init() {}
}

extension Mox {
    /// A fingerprint is base64url, so one in 64 starts with "-", which the argument parser would
    /// take for an option of `config tlspubkey get|rm`. Marks such a value as positional with "--"
    /// (help flags excepted) so the command works with any fingerprint `list` prints.
    public static func markingDashedFingerprint(_ arguments: [String]) -> [String] {
        guard arguments.count == 4, arguments[0] == "config", arguments[1] == "tlspubkey",
              ["get", "rm"].contains(arguments[2]) else { return arguments }
        let value = arguments[3]
        guard value.hasPrefix("-"), value.count > 2, !["-h", "-help", "--help"].contains(value) else {
            return arguments
        }
        return Array(arguments[0..<3]) + ["--", value]
    }
}

public struct ConfigDNSRecords: MoxCommand {
    public static let configuration = CommandConfiguration(
        commandName: "dnsrecords",
        abstract: "Print the DNS records a domain needs, in zone file syntax.",
        discussion: """
            From mox.conf and domains.conf: the MX record, SPF for the domain and for the mail host, the \
            public key of every DKIM selector, DMARC, MTA-STS and TLS reporting when configured, and the \
            records mail clients use to find their settings (autoconfig, autodiscover, RFC 6186 SRV). The \
            domain's TXT record is looked up once, to tell whether its zone is DNSSEC-signed. Paste the \
            output into the zone, or enter the records in the DNS provider's web interface; then check \
            them with mox config dnscheck.
            """
    )

    @Argument(help: ArgumentHelp("A domain from domains.conf.", valueName: "domain"))
    public var domain: String

    public init() {}
}

public struct ConfigDNSCheck: MoxCommand {
    public static let configuration = CommandConfiguration(
        commandName: "dnscheck",
        abstract: "Check the DNS records of a domain and print the problems found.",
        discussion: """
            Looks up what the domain publishes and compares it with what mox config dnsrecords prints: \
            DNSSEC, the reverse names of the mail host's IPs (IPRev), MX, SPF, DKIM, DMARC, TLS reporting, \
            MTA-STS, the SRV records for client settings, autoconfig and autodiscover. Prints "# area" \
            and its "error:" and "warning:" lines for each area with problems; nothing when all is well. \
            TLS on port 25 and DANE are not checked yet. Exits with status 0 when the checks ran, \
            whatever they found.
            """
    )

    @Argument(help: ArgumentHelp("A domain from domains.conf.", valueName: "domain"))
    public var domain: String

    public init() {}
}
