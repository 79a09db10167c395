import Logging
import Foundation
import MailAddress
import MailConfig
import MailSASL
import MailStore
import SMTPProtocol
import SMTPServer
import Testing

@testable import MoxRuntime

@Suite struct RecipientLookupTests {
    static let config: DynamicConfig = {
        var config = DynamicConfig()
        var domain = DomainConfig()
        domain.localpartCatchallSeparator = "+"
        config.domains["example.org"] = domain
        var caseSensitive = DomainConfig()
        caseSensitive.localpartCaseSensitive = true
        config.domains["exact.example"] = caseSensitive
        var disabled = DomainConfig()
        disabled.disabled = true
        config.domains["off.example"] = disabled
        var mjl = AccountConfig()
        mjl.domain = "example.org"
        var archive = Destination()
        archive.mailbox = "Archive"
        mjl.destinations = ["mjl": Destination(), "Archive@example.org": archive, "Bob@exact.example": Destination()]
        var catchall = AccountConfig()
        catchall.domain = "example.org"
        catchall.destinations = ["@exact.example": Destination()]
        config.accounts = ["mjl": mjl, "catch": catchall]
        return config
    }()

    static func lookup(_ text: String) -> RecipientLookup {
        var postmaster = Postmaster()
        postmaster.account = "mjl"
        postmaster.mailbox = "Postmaster"
        return Self.config.lookup(Address.parse(text)!, postmaster: postmaster)
    }

    @Test func matches() {
        #expect(
            Self.lookup("mjl@example.org")
                == .local(
                    LocalDestination(account: "mjl", mailbox: "", canonicalAddress: "mjl@example.org", smtpError: "")
                )
        )
        // Case-insensitive localparts, catchall separator suffix dropped.
        #expect(Self.lookup("MJL+news@Example.org") == Self.lookup("mjl@example.org"))
        #expect(
            Self.lookup("archive@example.org")
                == .local(
                    LocalDestination(
                        account: "mjl",
                        mailbox: "Archive",
                        canonicalAddress: "archive@example.org",
                        smtpError: ""
                    )
                )
        )
        // Case-sensitive domain: exact match, else the catchall.
        if case .local(let d) = Self.lookup("Bob@exact.example") {
            #expect(d.account == "mjl")
        } else {
            Issue.record("no match")
        }
        if case .local(let d) = Self.lookup("bob@exact.example") {
            #expect(d.account == "catch")
        } else {
            Issue.record("no match")
        }
        // RFC 5321 4.5.1: postmaster always.
        if case .local(let d) = Self.lookup("Postmaster@example.org") {
            #expect(d.mailbox == "Postmaster")
        } else {
            Issue.record("no match")
        }
        #expect(Self.lookup("nobody@example.org") == .unknownAddress)
        #expect(Self.lookup("mjl@other.example") == .unknownDomain)
        #expect(Self.lookup("mjl@off.example") == .domainDisabled)
    }

    @Test func accountMayUse() {
        #expect(Self.config.accountMayUse("mjl", Address.parse("mjl+x@example.org")!))
        #expect(!Self.config.accountMayUse("catch", Address.parse("mjl@example.org")!))
        #expect(Self.config.accountMayUse("catch", Address.parse("anyone@exact.example")!))
        #expect(!Self.config.accountMayUse("nosuch", Address.parse("mjl@example.org")!))
    }
}

@Suite struct LocalserveTests {
    @Test(arguments: [
        ("xtemperror", 451), ("permerror", 550), ("rcpttopermerror", 550), ("test552", 552), ("x400", 400),
        ("x600", 600), ("x601", 0), ("x399", 0), ("normal", 0), ("ab", 0),
    ])
    func simulatedFailures(_ localpart: String, _ code: Int) async {
        let reply = await StoreSMTPBackend.simulatedFailure(localpart, stage: "test")
        #expect((reply?.code ?? 0) == code)
    }

    @Test func configuredErrors() {
        #expect(
            StoreSMTPBackend.configuredError("550 5.7.1 go away").description
                == SMTPReply(550, EnhancedCode(class: 5, subject: 7, detail: 1), "go away").description
        )
        #expect(StoreSMTPBackend.configuredError("451 busy").code == 451)
        #expect(StoreSMTPBackend.configuredError("nonsense").code == 550)
    }

    @Test func setupWritesAConfigurationThatLoadsAndAnAccountThatLogsIn() async throws {
        let dir = NSTemporaryDirectory() + "localserve-test-\(UInt64.random(in: 0...UInt64.max))"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try await LocalserveSetup.write(dir: dir, ip: "127.0.0.1")
        let config = try ConfigLoader.load(staticPath: dir + "/mox.conf")
        #expect(config.staticConfig.listeners["local"]?.ips == ["127.0.0.1"])
        #expect(config.staticConfig.listeners["local"]?.submission.port == 1587)
        #expect(config.dynamicConfig.accounts["mox"]?.destinations.keys.sorted() == ["mox@localhost"])
        let accounts = AccountRegistry(dataDir: config.dataDirectory)
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
