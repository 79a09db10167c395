import MailAddress
import MailDNS
import Testing

@testable import MailAuth

@Suite struct SPFRecordTests {
    @Test(arguments: [
        "v=spf1",
        "v=spf1 -all",
        "V=SPF1 +MX -ALL",
        "v=spf1 ip4:192.0.2.0/24 ip6:2001:db8::/32 a mx/24 a:mail.example.org//64 ~all",
        "v=spf1 include:_spf.example.org ?all",
        "v=spf1 exists:%{ir}.%{l1r+-}._spf.%{d} -all",
        "v=spf1 ptr:example.org redirect=_spf.example.org",
        "v=spf1 mx exp=explain._spf.%{d} -all",
        "v=spf1 a:%{d}  -all   ",
        "v=spf1 unknown-mod=anything.%{d} -all",
    ])
    func parses(text: String) throws {
        let record = try SPFRecord(parsing: text)
        // Formatting and parsing again gives the same record.
        #expect(try SPFRecord(parsing: record.description) == record)
    }

    @Test func directivesInOrder() throws {
        let r = try SPFRecord(parsing: "v=spf1 ip4:192.0.2.1 -mx:example.org/24//48 ~all redirect=other.example")
        #expect(r.directives.map(\.description) == ["ip4:192.0.2.1", "-mx:example.org/24//48", "~all"])
        #expect(r.directives[0].mechanism == .ip4(IPAddress("192.0.2.1")!, prefix: 32))
        #expect(r.redirect == "other.example")
    }

    @Test(arguments: [
        ("v=spf1 foo", "unknown mechanism"),
        ("v=spf1 ip4:192.0.2.1/33", "cidr length"),
        ("v=spf1 ip4:2001:db8::1", "invalid ipv4"),
        ("v=spf1 ip6:192.0.2.1", "invalid ipv6"),
        ("v=spf1 ip6:2001:db8::/129", "cidr length"),
        ("v=spf1 ip4:192.0.2.0/024", "cidr length"),
        ("v=spf1 include", "needs a domain"),
        ("v=spf1 include:", "empty domain"),
        ("v=spf1 a:example", "top-level label"),
        ("v=spf1 a:example.123", "top-level label"),
        ("v=spf1 redirect=a.example redirect=b.example", "more than one redirect"),
        ("v=spf1 exp=a.example exp=b.example", "more than one exp"),
        ("v=spf1 exists:%{x}.example", "unknown macro letter"),
        ("v=spf1 exists:%{d0}.example", "zero labels"),
        ("v=spf1 exists:%{d", "unclosed macro"),
        ("v=spf1 exists:%z.example", "invalid macro"),
        ("v=spf1 a:example.org:80", "top-level label"),
        ("v=spf1 ip4:192.0.2.1/24/", "unexpected"),
        ("v=spf10 -all", "not an spf record"),
        ("spf1 -all", "not an spf record"),
    ])
    func refuses(text: String, reason: String) {
        do {
            _ = try SPFRecord(parsing: text)
            Issue.record("\(text) parsed")
        } catch {
            #expect(error.description.contains(reason), "\(text): \(error)")
        }
    }
}

@Suite struct SPFMacroTests {
    // RFC 7208 7.4's examples.
    static let values = SPFMacroValues(
        localpart: "strong-bad", senderDomain: "email.example.com", domain: "email.example.com",
        ip: IPAddress("192.0.2.3")!, helo: "mx.example.org", receiver: "mail.example.net", now: 1_234_567_890
    )

    @Test(arguments: [
        ("%{s}", "strong-bad@email.example.com"),
        ("%{o}", "email.example.com"),
        ("%{d}", "email.example.com"),
        ("%{d4}", "email.example.com"),
        ("%{d3}", "email.example.com"),
        ("%{d2}", "example.com"),
        ("%{d1}", "com"),
        ("%{dr}", "com.example.email"),
        ("%{d2r}", "example.email"),
        ("%{l}", "strong-bad"),
        ("%{l-}", "strong.bad"),
        ("%{lr}", "strong-bad"),
        ("%{lr-}", "bad.strong"),
        ("%{l1r-}", "strong"),
        ("%{ir}.%{v}._spf.%{d2}", "3.2.0.192.in-addr._spf.example.com"),
        ("%{lr-}.lp._spf.%{d2}", "bad.strong.lp._spf.example.com"),
        ("%{lr-}.lp.%{ir}.%{v}._spf.%{d2}", "bad.strong.lp.3.2.0.192.in-addr._spf.example.com"),
        ("%{ir}.%{v}.%{l1r-}.lp._spf.%{d2}", "3.2.0.192.in-addr.strong.lp._spf.example.com"),
        ("%{d2}.trusted-domains.example.net", "example.com.trusted-domains.example.net"),
        ("%%%_%-", "% %20"),
        ("%{S}", "strong-bad%40email.example.com"),
    ])
    func expands(macro: String, expected: String) throws {
        #expect(try SPFMacro.expand(macro, explanation: false) { SPFMacro.letterValue($0, Self.values) } == expected)
    }

    @Test func ipv6AndExplanationLetters() throws {
        var v = Self.values
        v.ip = IPAddress("2001:db8::cb01")!
        #expect(
            try SPFMacro.expand("%{ir}.%{v}._spf.%{d2}", explanation: false) { SPFMacro.letterValue($0, v) }
                == "1.0.b.c.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6._spf.example.com"
        )
        #expect(
            try SPFMacro.expand("%{c} is not one of %{d}'s designated mail servers (%{r} at %{t}).", explanation: true) {
                SPFMacro.letterValue($0, v)
            } == "2001:db8::cb01 is not one of email.example.com's designated mail servers (mail.example.net at 1234567890)."
        )
        #expect(throws: SPFSyntaxError.self) { try SPFMacro.expand("%{c}", explanation: false) { _ in "" } }
    }
}

@Suite struct SPFVerifyTests {
    func check(_ mock: MockResolver, ip: String, from: String = "user@example.org", helo: String = "mx.example.org") async -> SPFOutcome {
        let parts = from.split(separator: "@", maxSplits: 1).map(String.init)
        let args = SPFArgs(
            remoteIP: IPAddress(ip)!, mailFromLocalpart: parts.first ?? "", mailFromDomain: parts.count == 2 ? parts[1] : "",
            helo: helo, heloIsIP: false, localHostname: "mail.example.net"
        )
        return await SPFVerifier(resolver: mock, now: 0).verify(args).outcome
    }

    @Test func mechanismsMatch() async throws {
        let mock = MockResolver()
        mock.addTXT("example.org", "v=spf1 ip4:192.0.2.0/24 ip6:2001:db8::/32 a:web.example.org mx/30 ptr:trusted.example -all")
        mock.add("web.example.org", .a(IPAddress("198.51.100.7")!))
        mock.add("web.example.org", .aaaa(IPAddress("2001:db8:ffff::7")!))
        mock.add("example.org", .mx(MXRecord(preference: 10, host: try DNSName("mx.example.org"))))
        mock.add("mx.example.org", .a(IPAddress("203.0.113.4")!))
        mock.add("mx.example.org", .aaaa(IPAddress("2001:db8:ffff::4")!))
        mock.add("5.5.51.198.in-addr.arpa", .ptr(try DNSName("host.trusted.example")))
        mock.add("host.trusted.example", .a(IPAddress("198.51.5.5")!))
        // A PTR whose forward lookup does not lead back: not validated.
        mock.add("6.6.51.198.in-addr.arpa", .ptr(try DNSName("liar.trusted.example")))
        mock.add("liar.trusted.example", .a(IPAddress("192.0.2.200")!))

        for (ip, status, mechanism) in [
            ("192.0.2.77", SPFStatus.pass, "ip4"), ("::ffff:192.0.2.77", .pass, "ip4"), ("2001:db8:1::5", .pass, "ip6"),
            ("198.51.100.7", .pass, "a"), ("203.0.113.6", .pass, "mx"), ("203.0.113.8", .fail, "all"),
            ("198.51.5.5", .pass, "ptr"), ("198.51.6.6", .fail, "all"), ("2001:db9::1", .fail, "all"),
        ] {
            let outcome = await self.check(mock, ip: ip)
            #expect(outcome.status == status && outcome.mechanism == mechanism, "\(ip): \(outcome)")
        }
    }

    @Test func noneNeutralAndErrors() async throws {
        let mock = MockResolver()
        mock.addTXT("norecord.example", "some other text")
        mock.addTXT("neutral.example", "v=spf1 ip4:192.0.2.1")
        mock.addTXT("two.example", "v=spf1 -all", "v=spf1 +all")
        mock.addTXT("syntax.example", "v=spf1 bogus")
        mock.fail("down.example", .serverFailure(name: "down.example.", rcode: .serverFailure, server: "test"))
        #expect(await self.check(mock, ip: "192.0.2.9", from: "a@norecord.example").status == .none)
        #expect(await self.check(mock, ip: "192.0.2.9", from: "a@nx.example").status == .none)
        let neutral = await self.check(mock, ip: "192.0.2.9", from: "a@neutral.example")
        #expect(neutral.status == .neutral && neutral.mechanism == "default")
        #expect(await self.check(mock, ip: "192.0.2.9", from: "a@two.example").status == .permerror)
        let syntax = await self.check(mock, ip: "192.0.2.9", from: "a@syntax.example")
        #expect(syntax.status == .permerror && syntax.problem.contains("unknown mechanism"))
        #expect(await self.check(mock, ip: "192.0.2.9", from: "a@down.example").status == .temperror)
        // RFC 7208 4.3: a single-label domain is not checked.
        #expect(await self.check(mock, ip: "192.0.2.9", from: "a@localhost").status == .none)
    }

    @Test func includeAndRedirect() async throws {
        let mock = MockResolver()
        mock.addTXT("example.org", "v=spf1 include:_spf.provider.example include:_other.example -all")
        mock.addTXT("_spf.provider.example", "v=spf1 ip4:192.0.2.0/24 -all")
        mock.addTXT("_other.example", "v=spf1 ip4:198.51.100.0/24 ~all")
        #expect(await self.check(mock, ip: "192.0.2.5").mechanism == "include")
        #expect(await self.check(mock, ip: "198.51.100.5").status == .pass)
        // Included fail is "no match": the outer -all decides.
        let outer = await self.check(mock, ip: "203.0.113.1")
        #expect(outer.status == .fail && outer.mechanism == "all")
        mock.addTXT("inc-none.example", "v=spf1 include:nothing.example -all")
        #expect(await self.check(mock, ip: "192.0.2.5", from: "a@inc-none.example").status == .permerror)
        mock.addTXT("redir.example", "v=spf1 redirect=_spf.provider.example")
        #expect(await self.check(mock, ip: "192.0.2.5", from: "a@redir.example").status == .pass)
        #expect(await self.check(mock, ip: "203.0.113.1", from: "a@redir.example").status == .fail)
        mock.addTXT("redir-none.example", "v=spf1 redirect=nothing.example")
        #expect(await self.check(mock, ip: "192.0.2.5", from: "a@redir-none.example").status == .permerror)
        // "all" wins over redirect (RFC 7208 6.1).
        mock.addTXT("all-redir.example", "v=spf1 ?all redirect=_spf.provider.example")
        #expect(await self.check(mock, ip: "192.0.2.5", from: "a@all-redir.example").status == .neutral)
    }

    @Test func lookupLimits() async throws {
        let mock = MockResolver()
        // 11 a mechanisms: the 11th is over the limit of 10 (RFC 7208 4.6.4).
        mock.addTXT("many.example", "v=spf1 " + (1...11).map { "a:h\($0).many.example" }.joined(separator: " ") + " -all")
        for i in 1...11 { mock.add("h\(i).many.example", .a(IPAddress("198.51.100.\(i)")!)) }
        let many = await self.check(mock, ip: "192.0.2.1", from: "a@many.example")
        #expect(many.status == .permerror && many.problem.contains("more than 10 dns lookups"), "\(many)")
        // The tenth still works.
        #expect(await self.check(mock, ip: "198.51.100.10", from: "a@many.example").status == .pass)
        // Three lookups that find nothing: over the void limit of 2.
        mock.addTXT("void.example", "v=spf1 a:v1.void.example a:v2.void.example a:v3.void.example -all")
        let void = await self.check(mock, ip: "192.0.2.1", from: "a@void.example")
        #expect(void.status == .permerror && void.problem.contains("void lookups"), "\(void)")
        // An include loop ends at the limit.
        mock.addTXT("loop.example", "v=spf1 include:loop.example -all")
        #expect(await self.check(mock, ip: "192.0.2.1", from: "a@loop.example").status == .permerror)
    }

    @Test func existsAndExplanation() async throws {
        let mock = MockResolver()
        mock.addTXT("example.org", "v=spf1 exists:%{ir}.allow.example.org exp=why.example.org -all")
        mock.add("7.2.0.192.allow.example.org", .a(IPAddress("127.0.0.2")!))
        mock.addTXT("why.example.org", "%{i} may not send mail as %{s} (%{r})")
        #expect(await self.check(mock, ip: "192.0.2.7").status == .pass)
        let fail = await self.check(mock, ip: "192.0.2.8")
        #expect(fail.status == .fail)
        #expect(fail.explanation == "192.0.2.8 may not send mail as user@example.org (mail.example.net)")
    }

    @Test func nullSenderChecksHeloAndReceivedHeader() async throws {
        let mock = MockResolver()
        mock.addTXT("mx.example.org", "v=spf1 ip4:192.0.2.1 -all")
        let args = SPFArgs(
            remoteIP: IPAddress("192.0.2.1")!, mailFromLocalpart: "", mailFromDomain: "", helo: "mx.example.org",
            heloIsIP: false, localHostname: "mail.example.net"
        )
        let (outcome, domain, header) = await SPFVerifier(resolver: mock, now: 0).received(args)
        #expect(outcome.status == .pass)
        #expect(domain == "mx.example.org")
        // RFC 7208 9.1: a value that is not a dot-atom ("@") is a quoted-string.
        #expect(
            header.header
                == "Received-SPF: pass\r\n\t(domain mx.example.org, from ehlo because mailfrom is empty)\r\n"
                + "\tclient-ip=192.0.2.1; envelope-from=\"postmaster@mx.example.org\";\r\n"
                + "\thelo=mx.example.org; mechanism=ip4; receiver=mail.example.net; identity=helo\r\n"
        )
        let literal = SPFArgs(
            remoteIP: IPAddress("192.0.2.1")!, mailFromLocalpart: "", mailFromDomain: "", helo: "192.0.2.1", heloIsIP: true,
            localHostname: "mail.example.net"
        )
        #expect(await SPFVerifier(resolver: mock, now: 0).received(literal).domain == nil)
    }
}
