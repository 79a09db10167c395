import ArgumentParser

// MARK: - mox config account

public struct ConfigAccount: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "account",
        abstract: "List, add and remove accounts.",
        subcommands: [
            ConfigAccountList.self, ConfigAccountAddresses.self, ConfigAccountAdd.self, ConfigAccountRemove.self,
        ]
    )

    public init() {}
}

public struct ConfigAccountList: MoxCommand {
    public static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "List all accounts.",
        discussion: """
            Prints the name of each account configured under Accounts in domains.conf, one per line, in \
            alphabetical order.
            """
    )

    public init() {}
}

public struct ConfigAccountAddresses: MoxCommand {
    public static let configuration = CommandConfiguration(
        commandName: "addresses",
        abstract: "List all addresses of an account.",
        discussion: """
            Prints each address the account receives mail for, one per line, as configured under the \
            account's Destinations in domains.conf; a destination given as a localpart only is shown at \
            the account's domain. An address that starts with "@" is a catchall address for its domain.
            """
    )

    @Argument(help: ArgumentHelp("The account name, as under Accounts in domains.conf.", valueName: "account"))
    public var account: String

    public init() {}
}

public struct ConfigAccountAdd: MoxCommand {
    public static let configuration = CommandConfiguration(
        commandName: "add",
        abstract: "Add an account with one email address.",
        discussion: """
            Adds the account at the end of Accounts in domains.conf, with the address's domain as its \
            domain and the address as its only destination, and creates the account's mailboxes in the \
            data directory. The address's domain must be configured under Domains. The rest of \
            domains.conf, comments included, is left as it was; the new file is validated first and \
            replaces the old one atomically, so a running server never reads a half-written or invalid \
            file. The account has no password yet: set one with `mox setaccountpassword`.
            """
    )

    @Argument(help: ArgumentHelp("The new account's name.", valueName: "account"))
    public var account: String

    @Argument(help: ArgumentHelp("The account's first email address.", valueName: "address"))
    public var address: String

    public init() {}
}

public struct ConfigAccountRemove: MoxCommand {
    public static let configuration = CommandConfiguration(
        commandName: "rm",
        abstract: "Remove an account and all its data.",
        discussion: """
            Removes the account from domains.conf, with all its addresses: mail to them is rejected \
            from then on. As with mox, all data of the account is removed too: its directory under \
            data/accounts/, with every message. Make a copy first (see `mox export`) if it may be needed \
            again. A running server (mox serve or localserve) is asked through its control socket to \
            close the account first; the removal is refused, and nothing is changed, while another \
            process (such as another command) still has the account open. The rest of domains.conf, \
            comments included, is left as it was, and the new file replaces the old one atomically.
            """
    )

    @Argument(help: ArgumentHelp("The account to remove.", valueName: "account"))
    public var account: String

    public init() {}
}

// MARK: - mox config address

public struct ConfigAddress: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "address",
        abstract: "Add and remove addresses of accounts.",
        subcommands: [ConfigAddressAdd.self, ConfigAddressRemove.self]
    )

    public init() {}
}

public struct ConfigAddressAdd: MoxCommand {
    public static let configuration = CommandConfiguration(
        commandName: "add",
        abstract: "Add an address to an account.",
        discussion: """
            Adds the address as a destination of the account, after its other destinations in \
            domains.conf. An address that starts with "@" (no localpart) is a catchall address: it \
            receives mail for all addresses of its domain that have no destination of their own. The \
            domain must be configured under Domains and the address must not belong to another account. \
            The rest of domains.conf, comments included, is left as it was, and the new file replaces the \
            old one atomically after it is validated.
            """
    )

    @Argument(help: ArgumentHelp("The address, or @domain for a catchall address.", valueName: "address"))
    public var address: String

    @Argument(help: ArgumentHelp("The account that receives the address's mail.", valueName: "account"))
    public var account: String

    public init() {}
}

public struct ConfigAddressRemove: MoxCommand {
    public static let configuration = CommandConfiguration(
        commandName: "rm",
        abstract: "Remove an address from its account.",
        discussion: """
            Removes the address from the Destinations of the account it belongs to; mail to it is \
            rejected from then on (unless a catchall address takes it). An account's last address cannot \
            be removed: remove the account instead. The comparison ignores case. The rest of \
            domains.conf, comments included, is left as it was, and the new file replaces the old one \
            atomically.
            """
    )

    @Argument(help: ArgumentHelp("The address to remove.", valueName: "address"))
    public var address: String

    public init() {}
}
