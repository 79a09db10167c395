import MailAddress
import MailConfig
import SMTPProtocol
import Testing

@testable import MailDelivery

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

@Suite struct SimulatedFailureTests {
    @Test(arguments: [
        ("xtemperror", 451), ("permerror", 550), ("rcpttopermerror", 550), ("test552", 552), ("x400", 400),
        ("x600", 600), ("x601", 0), ("x399", 0), ("normal", 0), ("ab", 0),
    ])
    func simulatedFailures(_ localpart: String, _ code: Int) async {
        let reply = await Deliverer.simulatedFailure(localpart, stage: "test")
        #expect((reply?.code ?? 0) == code)
    }

    @Test func configuredErrors() {
        #expect(
            Deliverer.configuredError("550 5.7.1 go away").description
                == SMTPReply(550, EnhancedCode(class: 5, subject: 7, detail: 1), "go away").description
        )
        #expect(Deliverer.configuredError("451 busy").code == 451)
        #expect(Deliverer.configuredError("nonsense").code == 550)
    }
}
