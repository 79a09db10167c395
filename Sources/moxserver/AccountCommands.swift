import ArgumentParser
import Dispatch
import FoundationEssentials
import MailConfig
import MailStore

#if canImport(Glibc)
import Glibc
#endif

// MARK: - mox config account

struct ConfigAccount: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "account",
        abstract: "List, add and remove accounts.",
        subcommands: [
            ConfigAccountList.self, ConfigAccountAddresses.self, ConfigAccountAdd.self, ConfigAccountRemove.self,
        ]
    )
}

struct ConfigAccountList: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "List all accounts.",
        discussion: """
            Prints the name of each account configured under Accounts in domains.conf, one per line, in \
            alphabetical order.
            """
    )

    func run() throws {
        let config = try loadConfig()
        for name in config.dynamicConfig.accounts.keys.sorted() {
            print(name)
        }
    }
}

struct ConfigAccountAddresses: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "addresses",
        abstract: "List all addresses of an account.",
        discussion: """
            Prints each address the account receives mail for, one per line, as configured under the \
            account's Destinations in domains.conf; a destination given as a localpart only is shown at \
            the account's domain. An address that starts with "@" is a catchall address for its domain.
            """
    )

    @Argument(help: ArgumentHelp("The account name, as under Accounts in domains.conf.", valueName: "account"))
    var account: String

    func run() throws {
        let config = try loadConfig()
        guard let account = config.dynamicConfig.accounts[self.account] else {
            try fail("account \"\(self.account)\" does not exist")
        }
        for key in account.destinations.keys.sorted() {
            print(key.contains("@") ? key : "\(key)@\(account.domain)")
        }
    }
}

struct ConfigAccountAdd: ParsableCommand {
    static let configuration = CommandConfiguration(
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
    var account: String

    @Argument(help: ArgumentHelp("The account's first email address.", valueName: "address"))
    var address: String

    func run() throws {
        let config = try editConfig { text, _ throws(ConfigEditError) in
            try DomainsEdit.addAccount(text, name: self.account, address: self.address)
        }
        let name = self.account
        let dataDir = config.dataDirectory
        try runAsync { () async throws in
            let account = try await Account.open(dataDir: dataDir, name: name)
            await account.close()
        }
        print("account added")
    }
}

struct ConfigAccountRemove: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rm",
        abstract: "Remove an account and all its data.",
        discussion: """
            Removes the account from domains.conf, with all its addresses: mail to them is rejected \
            from then on. As with mox, all data of the account is removed too: its directory under \
            data/accounts/, with every message. Make a copy first (see `mox export`) if it may be needed \
            again. The removal is refused, and nothing is changed, while another process (the server or \
            another command) has the account open. The rest of domains.conf, comments included, is left \
            as it was, and the new file replaces the old one atomically.
            """
    )

    @Argument(help: ArgumentHelp("The account to remove.", valueName: "account"))
    var account: String

    func run() throws {
        let config = try loadConfig()
        guard config.dynamicConfig.accounts[self.account] != nil else {
            try fail("account \"\(self.account)\" does not exist")
        }
        do {
            try Account.removeData(dataDir: config.dataDirectory, name: self.account) {
                try editConfig { text, _ throws(ConfigEditError) in
                    try DomainsEdit.removeAccount(text, name: self.account)
                }
            }
        } catch let error as StoreError {
            try fail(error.description)
        }
        print("account removed")
    }
}

// MARK: - mox config address

struct ConfigAddress: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "address",
        abstract: "Add and remove addresses of accounts.",
        subcommands: [ConfigAddressAdd.self, ConfigAddressRemove.self]
    )
}

struct ConfigAddressAdd: ParsableCommand {
    static let configuration = CommandConfiguration(
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
    var address: String

    @Argument(help: ArgumentHelp("The account that receives the address's mail.", valueName: "account"))
    var account: String

    func run() throws {
        try editConfig { text, _ throws(ConfigEditError) in
            try DomainsEdit.addAddress(text, address: self.address, account: self.account)
        }
        print("address added")
    }
}

struct ConfigAddressRemove: ParsableCommand {
    static let configuration = CommandConfiguration(
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
    var address: String

    func run() throws {
        try editConfig { text, config throws(ConfigEditError) in
            guard let (account, key) = DomainsEdit.findDestination(self.address, in: config.dynamicConfig) else {
                throw ConfigEditError("address \(self.address) is not configured for any account")
            }
            return try DomainsEdit.removeAddress(text, key: key, account: account)
        }
        print("address removed")
    }
}

// MARK: - Helpers

/// Prints `message` to standard error with the command's name and exits with status 1.
func fail(_ message: String) throws -> Never {
    writeStderr("mox: \(message)\n")
    throw ExitCode(1)
}

/// Loads mox.conf (from -config) and domains.conf; on problems prints them and exits with status 1.
func loadConfig() throws -> Config {
    do {
        return try ConfigLoader.load(staticPath: GlobalOptions.shared.configPath)
    } catch {
        try fail("loading configuration:\n\(error)")
    }
}

/// Applies an edit to domains.conf; a refused edit is printed and exits with status 1.
@discardableResult
func editConfig(_ edit: (String, Config) throws(ConfigEditError) -> String) throws -> Config {
    do {
        return try ConfigEditor.apply(staticPath: GlobalOptions.shared.configPath, edit)
    } catch {
        try fail(error.description)
    }
}

/// Runs async code from a synchronous command and waits for it.
func runAsync<T: Sendable>(_ body: @escaping @Sendable () async throws -> T) throws -> T {
    let box = ResultBox<T>()
    let done = DispatchSemaphore(value: 0)
    Task {
        do {
            box.result = .success(try await body())
        } catch {
            box.result = .failure(error)
        }
        done.signal()
    }
    done.wait()
    switch box.result {
    case .success(let value):
        return value
    case .failure(let error as ExitCode):
        throw error
    case .failure(let error):
        try fail("\(error)")
    case nil:
        try fail("internal error: task ended without a result")
    }
}

/// Carries a task's result to the thread waiting for it; the semaphore orders the accesses.
final class ResultBox<T>: @unchecked Sendable {
    var result: Result<T, any Error>?
}
