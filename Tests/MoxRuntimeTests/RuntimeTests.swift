import Logging
import Foundation
import MailAddress
import MailConfig
import MailDelivery
import MailSASL
import MailStore
import SMTPProtocol
import SMTPServer
import Testing

@testable import MoxRuntime

@Suite struct LocalserveTests {

    @Test func setupWritesAConfigurationThatLoadsAndAnAccountThatLogsIn() async throws {
        let dir = NSTemporaryDirectory() + "localserve-test-\(UInt64.random(in: 0...UInt64.max))"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try await LocalserveSetup.write(dir: dir, ip: "127.0.0.1")
        let config = try ConfigLoader.load(staticPath: dir + "/mox.conf")
        #expect(config.staticConfig.listeners["local"]?.ips == ["127.0.0.1"])
        #expect(config.staticConfig.listeners["local"]?.submission.port == 1587)
        #expect(config.dynamicConfig.accounts["mox"]?.destinations.keys.sorted() == ["mox@localhost"])
        let accounts = AccountRegistry(dataDir: config.dataDirectory, structures: .imap)
        let backend = StoreSMTPBackend(
            config: config,
            accounts: accounts,
            localserve: true,
            log: Logger(label: "test")
        )
        #expect(await backend.verifyPassword(username: "mox@localhost", password: "moxmoxmox")?.account == "mox")
        #expect(await backend.verifyPassword(username: "mox@localhost", password: "wrong") == nil)
        #expect(await backend.verifyPassword(username: "other@localhost", password: "moxmoxmox") == nil)
        #expect(await backend.scramKeys(username: "mox@localhost", hash: .sha256) != nil)
        await accounts.closeAll()
        // A second write into the same directory refuses to overwrite.
        await #expect(throws: RuntimeError.self) { try await LocalserveSetup.write(dir: dir, ip: nil) }
        #expect(FileManager.default.fileExists(atPath: dir + "/mox.conf"))
    }
}

@Suite struct QuotaConfigTests {
    @Test func accountLimitOverridesTheDefault() {
        var config = Config(
            staticConfig: StaticConfig(),
            dynamicConfig: DynamicConfig(),
            staticPath: "/x/mox.conf",
            dynamicPath: "/x/domains.conf"
        )
        config.dynamicConfig.accounts = ["a": AccountConfig(), "b": AccountConfig(), "c": AccountConfig()]
        config.dynamicConfig.accounts["b"]?.quotaMessageSize = 1000
        config.dynamicConfig.accounts["c"]?.quotaMessageSize = -1
        #expect(config.quota(account: "a") == nil)
        #expect(config.quota(account: "b") == 1000)
        config.staticConfig.quotaMessageSize = 5000
        #expect(config.quota(account: "a") == 5000)
        #expect(config.quota(account: "b") == 1000)
        // Negative: no limit, whatever the default.
        #expect(config.quota(account: "c") == nil)
    }
}

@Suite struct LocalserveDirectoryTests {
    @Test func missingParentDirectoriesAreCreated() async throws {
        let base = NSTemporaryDirectory() + "localserve-parents-\(UInt64.random(in: 0...UInt64.max))"
        defer { try? FileManager.default.removeItem(atPath: base) }
        // Like ~/.config/mox-localserve on a machine without ~/.config.
        let dir = base + "/home/.config/mox-localserve"
        try await LocalserveSetup.write(dir: dir, ip: nil)
        #expect(FileManager.default.fileExists(atPath: dir + "/mox.conf"))
        #expect(FileManager.default.fileExists(atPath: dir + "/localhost.crt"))
    }
}

@Suite struct StartupMemoryTests {
    /// The executable's code mappings are dropped from the resident set, and code keeps running
    /// (it is mapped again from the page cache).
    @Test func codePagesAreReleasedAndCodeStillRuns() {
        #expect(StartupMemory.releaseCodePages() > 1_000_000)
        let words = (0..<1000).map { "w\($0)" }.joined(separator: " ")
        #expect(words.split(separator: " ").count == 1000)
    }
}
