import ArgumentParser

public struct ConfigCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "config",
        abstract: "Check, describe and edit the configuration files.",
        subcommands: [
            ConfigTest.self, ConfigDescribeDomains.self, ConfigDescribeStatic.self, ConfigAccount.self,
            ConfigAddress.self,
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
