import ArgumentParser

struct Mox: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mox",
        abstract: "A modern, all-in-one mail server.",
        discussion: """
            Most commands read the configuration file mox.conf, and domains.conf from the same directory. \
            Name the file with -config before the command, e.g. `mox -config /etc/mox/mox.conf config test`, \
            or with the MOXCONF environment variable; the default is config/mox.conf.
            """,
        subcommands: [
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
    var config: String?

    @Flag(
        name: .customLong("pedantic", withSingleDash: true),
        help: "Treat protocol violations that happen in the wild as errors instead of working around them."
    )
    var pedantic = false
}

struct Version: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print the version of mox, and the operating system and architecture it was built for."
    )

    func run() {
        print(moxVersion)
        print(platformName)
    }
}

/// `linux/amd64` style, as Go names platforms, so scripts written for mox keep working.
var platformName: String {
    #if os(Linux)
    let os = "linux"
    #elseif os(macOS)
    let os = "darwin"
    #else
    let os = "unknown"
    #endif
    #if arch(x86_64)
    let arch = "amd64"
    #elseif arch(arm64)
    let arch = "arm64"
    #else
    let arch = "unknown"
    #endif
    return "\(os)/\(arch)"
}
