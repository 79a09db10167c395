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
