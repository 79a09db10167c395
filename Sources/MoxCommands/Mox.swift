import ArgumentParser

/// The root of the command tree: `mox [-config FILE] [-pedantic] COMMAND ...`.
public struct Mox: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "mox",
        abstract: "A modern, all-in-one mail server.",
        discussion: """
            Most commands read the configuration file mox.conf, and domains.conf from the same directory. \
            Name the file with -config before the command, e.g. `mox -config /etc/mox/mox.conf config test`, \
            or with the MOXCONF environment variable; the default is config/mox.conf.
            """,
        subcommands: [
            Serve.self,
            Localserve.self,
            Stop.self,
            Version.self,
            ConfigCommand.self,
            VerifyData.self,
            SetAccountPassword.self,
            RecalculateMailboxCounts.self,
            ImportCommand.self,
            ExportCommand.self,
            ClientConfigCommand.self,
            DNSCommand.self,
            SPFCommand.self,
            DKIMCommand.self,
            DMARCCommand.self,
            DNSBLCommand.self,
            QueueCommand.self,
            Sendmail.self,
        ]
    )

    @Option(
        name: .customLong("config", withSingleDash: true),
        help: ArgumentHelp(
            "Configuration file; domains.conf is read from the same directory. Defaults to $MOXCONF, then config/mox.conf.",
            valueName: "config/mox.conf"
        )
    )
    public var config: String?

    @Flag(
        name: .customLong("pedantic", withSingleDash: true),
        help: "Treat protocol violations that happen in the wild as errors instead of working around them."
    )
    public var pedantic = false

    public init() {}
}

public struct Version: MoxCommand {
    public static let configuration = CommandConfiguration(
        abstract: "Print the version of mox, and the operating system and architecture it was built for."
    )

    public init() {}
}

public struct ClientConfigCommand: MoxCommand {
    public static let configuration = CommandConfiguration(
        commandName: "clientconfig",
        abstract: "Print the configuration for email clients for a domain.",
        discussion: """
            One line per way to reach the server: protocol, host name, port, listener and a note on TLS. \
            Mail is sent on the submission ports, 465 with TLS or 587 with STARTTLS, not on port 25; IMAP \
            is on 993 with TLS or 143 with STARTTLS. Without TLS passwords cross the network in plain text, \
            which is only acceptable on an otherwise protected network such as a VPN. Mail clients that \
            support it get the same settings automatically from the autoconfig and autodiscover documents \
            (AutoconfigHTTPS in mox.conf).
            """
    )

    @Argument(help: ArgumentHelp("A domain from domains.conf.", valueName: "domain"))
    public var domain: String

    public init() {}
}
