import ArgumentParser
import Dispatch
import FoundationEssentials
import MailConfig
import MailStore
import MoxCommands
import MoxRuntime

#if canImport(Glibc)
import Glibc
#endif

// MARK: - mox config account

extension ConfigAccountList: RunnableCommand {
    func execute() throws {
        let config = try loadConfig()
        for name in config.dynamicConfig.accounts.keys.sorted() {
            print(name)
        }
    }
}

extension ConfigAccountAddresses: RunnableCommand {
    func execute() throws {
        let config = try loadConfig()
        guard let account = config.dynamicConfig.accounts[self.account] else {
            try fail("account \"\(self.account)\" does not exist")
        }
        for key in account.destinations.keys.sorted() {
            print(key.contains("@") ? key : "\(key)@\(account.domain)")
        }
    }
}

extension ConfigAccountAdd: RunnableCommand {
    func execute() throws {
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

extension ConfigAccountRemove: RunnableCommand {
    func execute() throws {
        let config = try loadConfig()
        guard config.dynamicConfig.accounts[self.account] != nil else {
            try fail("account \"\(self.account)\" does not exist")
        }
        // A running server keeps accounts open; ask it to let go of this one first.
        _ = MoxControl.closeAccount(dataDir: config.dataDirectory, name: self.account)
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

extension ConfigAddressAdd: RunnableCommand {
    func execute() throws {
        try editConfig { text, _ throws(ConfigEditError) in
            try DomainsEdit.addAddress(text, address: self.address, account: self.account)
        }
        print("address added")
    }
}

extension ConfigAddressRemove: RunnableCommand {
    func execute() throws {
        try editConfig { text, config throws(ConfigEditError) in
            guard let (account, key) = DomainsEdit.findDestination(self.address, in: config.dynamicConfig) else {
                throw ConfigEditError("address \(self.address) is not configured for any account")
            }
            return try DomainsEdit.removeAddress(text, key: key, account: account)
        }
        print("address removed")
    }
}
