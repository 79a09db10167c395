import MailAddress
import MailDNS
import Testing

@testable import MailAuth

@Suite struct PublicSuffixTests {
    let list = PublicSuffixList(
        text: """
            // comment
            com
            org
            co.uk
            uk
            *.ck
            !www.ck
            公司.cn
            cn
            """
    )

    @Test(arguments: [
        ("example.com", "example.com"),
        ("mail.sub.example.com", "example.com"),
        ("com", "com"),
        ("a.b.example.co.uk", "example.co.uk"),
        ("example.uk", "example.uk"),
        ("x.y.ck", "x.y.ck"),
        ("a.x.y.ck", "x.y.ck"),
        ("www.ck", "www.ck"),
        ("a.www.ck", "www.ck"),
        ("shop.xn--55qx5d.cn", "shop.xn--55qx5d.cn"),
        ("a.shop.xn--55qx5d.cn", "shop.xn--55qx5d.cn"),
        // The default rule "*": one label is the suffix.
        ("a.b.example.unknowntld", "example.unknowntld"),
        ("Mail.Example.COM.", "example.com"),
    ])
    func organizational(_ name: String, _ want: String) {
        #expect(self.list.organizationalDomain(name) == want)
    }

    @Test func systemList() throws {
        // Debian's publicsuffix package (make test-deps installs it).
        let list = try PublicSuffixList.load().get()
        #expect(list.count > 5000)
        #expect(list.organizationalDomain("a.b.example.co.uk") == "example.co.uk")
        #expect(list.organizationalDomain("x.github.io") == "x.github.io")
        #expect(PublicSuffixList.load(path: "/nonexistent/psl.dat").failureDescription?.contains("/nonexistent/psl.dat") == true)
    }
}

extension Result {
    var failureDescription: String? {
        if case .failure(let e) = self { return "\(e)" }
        return nil
    }
}

@Suite struct DMARCRecordTests {
    @Test func full() throws {
        let r = try #require(
            try DMARCRecord.parse(
                "v=DMARC1; p=reject; sp=quarantine; rua=mailto:a@example.org!10m,mailto:b@example.org; ruf=mailto:f@example.org; adkim=s; aspf=s; ri=3600; fo=1:d; rf=afrf; pct=50; future=x"
            )
        )
        #expect(r.policy == .reject)
        #expect(r.subdomainPolicy == .quarantine)
        #expect(r.aggregateReportAddresses == [DMARCURI(address: "mailto:a@example.org", maxSize: 10, unit: "m"), DMARCURI(address: "mailto:b@example.org", maxSize: 0, unit: "")])
        #expect(r.failureReportAddresses.count == 1)
        #expect(r.adkim == .strict && r.aspf == .strict)
        #expect(r.aggregateReportingInterval == 3600)
        #expect(r.failureReportingOptions == ["1", "d"])
        #expect(r.percentage == 50)
        #expect(
            r.description
                == "v=DMARC1;p=reject;sp=quarantine;rua=mailto:a@example.org!10m,mailto:b@example.org;ruf=mailto:f@example.org;adkim=s;aspf=s;ri=3600;fo=1:d;pct=50"
        )
    }

    @Test func defaults() throws {
        let r = try #require(try DMARCRecord.parse("v=DMARC1;p=none"))
        #expect(r.policy == DMARCPolicy.none && r.subdomainPolicy == nil && r.adkim == .relaxed && r.percentage == 100)
        #expect(r.description == "v=DMARC1;p=none")
        // Case-insensitive tags and values, spaces around "=" and ";".
        #expect(try DMARCRecord.parse("v = DMARC1 ; P = Reject ;")?.policy == .reject)
    }

    @Test(arguments: ["v=spf1 -all", "", "v=DMARC2; p=none", "v=dmarc1; p=none", "v=DMARC1"])
    func notDMARC(_ text: String) throws {
        #expect(try DMARCRecord.parse(text) == nil)
    }

    @Test(arguments: [
        ("v=DMARC1; p=bogus", "policy must be none"),
        ("v=DMARC1; p=none; p=reject", "duplicate tag"),
        ("v=DMARC1; adkim=s; p=none", "must be the first tag"),
        ("v=DMARC1; p=none; pct=101", "bad percentage 101"),
        ("v=DMARC1; p=none; adkim=x", "adkim must be r or s"),
        ("v=DMARC1; p=none; rua=example.org", "missing scheme"),
        ("v=DMARC1; p=none; rua=mailto:a@b!x", "bad size"),
        ("v=DMARC1; p=none x", "expected \";\""),
        ("v=DMARC1; sp=none", "invalid (subdomain) policy"),
    ])
    func errors(_ text: String, _ want: String) {
        do {
            _ = try DMARCRecord.parse(text)
            Issue.record("no error for \(text)")
        } catch {
            #expect(error.description.contains(want), "\(error)")
        }
    }

    // RFC 7489 6.6.3: no valid p= but a valid rua= is treated as p=none.
    @Test func policyFromRUA() throws {
        let r = try #require(try DMARCRecord.parse("v=DMARC1; sp=bogus; rua=mailto:r@example.org"))
        #expect(r.policy == DMARCPolicy.none && r.subdomainPolicy == nil)
    }
}

@Suite struct DMARCVerifyTests {
    let suffixes = PublicSuffixList(text: "com\norg\nco.uk\n")

    func sig(_ domain: String) -> DKIMSignature {
        try! DKIMSignature(parsingValue: Array("v=1; a=ed25519-sha256; d=\(domain); s=s; h=from; bh=AAAA; b=AQID".utf8))
    }

    func dkim(_ status: DKIMStatus, _ domain: String) -> DKIMResult {
        DKIMResult(status: status, signature: self.sig(domain), record: nil, problem: "", authentic: false)
    }

    @Test func lookupAtOrganizationalDomain() async {
        let dns = MockResolver()
        dns.addTXT("_dmarc.example.com", "v=DMARC1; p=reject", "some other text")
        dns.setAuthentic("_dmarc.example.com")
        let v = DMARCVerifier(resolver: dns, suffixes: self.suffixes)
        let direct = await v.lookup(fromDomain: "example.com")
        #expect(direct.domain == "example.com" && direct.record?.policy == .reject && direct.authentic)
        let sub = await v.lookup(fromDomain: "mail.example.com")
        #expect(sub.domain == "example.com" && sub.recordText == "v=DMARC1; p=reject")
        // Both queries are authentic only when both answers were.
        #expect(!sub.authentic)
        let none = await v.lookup(fromDomain: "other.org")
        #expect(none.record == nil && none.status == .none)
    }

    @Test func lookupFailures() async {
        let dns = MockResolver()
        dns.addTXT("_dmarc.bad.com", "v=DMARC1; p=whatever")
        dns.addTXT("_dmarc.two.com", "v=DMARC1; p=none", "v=DMARC1; p=reject")
        dns.fail("_dmarc.down.com", .timeout(name: "_dmarc.down.com."))
        let v = DMARCVerifier(resolver: dns, suffixes: self.suffixes)
        #expect(await v.lookup(fromDomain: "bad.com").status == .permerror)
        let two = await v.lookup(fromDomain: "two.com")
        #expect(two.status == .none && two.record == nil && two.problem == "multiple dmarc dns records")
        let down = await v.lookup(fromDomain: "down.com")
        #expect(down.status == .temperror && down.problem.contains("timeout"))
    }

    @Test func alignment() async {
        let dns = MockResolver()
        dns.addTXT("_dmarc.example.com", "v=DMARC1; p=reject; sp=quarantine")
        dns.addTXT("_dmarc.strict.com", "v=DMARC1; p=reject; adkim=s; aspf=s")
        let v = DMARCVerifier(resolver: dns, suffixes: self.suffixes)

        // Relaxed SPF alignment: a subdomain's pass aligns.
        var (use, r) = await v.verify(fromDomain: "example.com", dkim: [], spf: .pass, spfIdentity: "bounce.example.com")
        #expect(use && r.status == .pass && r.alignedSPFPass && !r.reject)
        // An unaligned pass fails, and p=reject asks to reject.
        (use, r) = await v.verify(fromDomain: "example.com", dkim: [self.dkim(.pass, "other.org")], spf: .pass, spfIdentity: "other.org")
        #expect(r.status == .fail && r.reject && r.policy(fromDomain: "example.com") == .reject)
        // DKIM of the organizational domain aligns relaxed.
        (use, r) = await v.verify(fromDomain: "news.example.com", dkim: [self.dkim(.fail, "example.com"), self.dkim(.pass, "example.com")], spf: .fail, spfIdentity: "x.org")
        #expect(r.status == .pass && r.alignedDKIMPass)
        // sp= applies to a subdomain.
        (use, r) = await v.verify(fromDomain: "news.example.com", dkim: [], spf: .fail, spfIdentity: "news.example.com")
        #expect(r.status == .fail && r.reject && r.policy(fromDomain: "news.example.com") == .quarantine)
        // Strict alignment needs the same domain.
        (use, r) = await v.verify(fromDomain: "strict.com", dkim: [self.dkim(.pass, "mail.strict.com")], spf: .pass, spfIdentity: "mail.strict.com")
        #expect(r.status == .fail)
        (use, r) = await v.verify(fromDomain: "strict.com", dkim: [self.dkim(.pass, "strict.com")], spf: .none, spfIdentity: nil)
        #expect(r.status == .pass)
        // A temporary DKIM or SPF failure without an aligned pass: temperror, no reject.
        (use, r) = await v.verify(fromDomain: "example.com", dkim: [self.dkim(.temperror, "example.com")], spf: .fail, spfIdentity: "example.com")
        #expect(r.status == .temperror && !r.reject)
        (use, r) = await v.verify(fromDomain: "example.com", dkim: [], spf: .temperror, spfIdentity: "example.com")
        #expect(r.status == .temperror && !r.reject)
        _ = use
    }

    @Test func percentage() async {
        let dns = MockResolver()
        dns.addTXT("_dmarc.example.com", "v=DMARC1; p=reject; pct=0")
        let v = DMARCVerifier(resolver: dns, suffixes: self.suffixes)
        let (use, r) = await v.verify(fromDomain: "example.com", dkim: [], spf: .fail, spfIdentity: "example.com")
        #expect(!use && r.reject)
        let (use2, _) = await v.verify(fromDomain: "example.com", dkim: [], spf: .fail, spfIdentity: "example.com", applyPercentage: false)
        #expect(use2)
    }
}

@Suite struct IPRevTests {
    @Test func results() async throws {
        let dns = MockResolver()
        let ip = try #require(IPAddress("192.0.2.10"))
        dns.add("10.2.0.192.in-addr.arpa", .ptr(try DNSName("mail.example.com")))
        dns.add("mail.example.com", .a(ip))
        var r = await IPRev.lookup(ip, resolver: dns)
        #expect(r.status == .pass && r.name == "mail.example.com" && r.displayName == "mail.example.com")

        let other = try #require(IPAddress("192.0.2.11"))
        dns.add("11.2.0.192.in-addr.arpa", .ptr(try DNSName("liar.example.com")))
        dns.add("liar.example.com", .a(ip))
        r = await IPRev.lookup(other, resolver: dns)
        #expect(r.status == .fail && r.names == ["liar.example.com"] && r.displayName == "liar.example.com")

        r = await IPRev.lookup(try #require(IPAddress("192.0.2.12")), resolver: dns)
        #expect(r.status == .permerror)

        dns.fail("13.2.0.192.in-addr.arpa", .timeout(name: "13.2.0.192.in-addr.arpa."))
        r = await IPRev.lookup(try #require(IPAddress("192.0.2.13")), resolver: dns)
        #expect(r.status == .temperror)
    }
}

@Suite struct AuthResultsTests {
    @Test func header() {
        let ar = AuthResults(
            hostname: "mx.example.org",
            methods: [
                .init("iprev", "pass", comment: "without dnssec", properties: [.init("policy", "iprev", "192.0.2.10")]),
                .init(
                    "dkim", "pass", comment: "2048 bit rsa, without dnssec",
                    properties: [
                        .init("header", "d", "example.com", addressLike: true), .init("header", "s", "sel", addressLike: true),
                        .init("header", "a", "rsa-sha256"), .init("header", "b", "abcdefghijkl"),
                        .init("header", "i", "user@example.com", addressLike: true),
                    ]
                ),
                .init("spf", "fail", comment: "without dnssec", reason: "not (allowed)", properties: [.init("smtp", "mailfrom", "example.com", addressLike: true)]),
                .init("dmarc", "none"),
            ]
        )
        #expect(
            ar.header
                == "Authentication-Results: mx.example.org;\r\n"
                + "\tiprev=pass (without dnssec) policy.iprev=192.0.2.10;\r\n"
                + "\tdkim=pass (2048 bit rsa, without dnssec) header.d=example.com header.s=sel\r\n"
                + "\theader.a=rsa-sha256 header.b=abcdefghijkl header.i=user@example.com;\r\n"
                + "\tspf=fail (without dnssec) reason=\"not (allowed)\" smtp.mailfrom=example.com;\r\n"
                + "\tdmarc=none\r\n"
        )
        #expect(AuthResults(hostname: "h").header == "Authentication-Results: h; none\r\n")
        // An "@" outside address-like values, and quotes, are quoted and escaped.
        #expect(AuthResults.value("a@b", addressLike: false) == "\"a@b\"")
        #expect(AuthResults.value("say \"hi\"", addressLike: false) == "\"say \\\"hi\\\"\"")
        #expect(AuthResults.value("", addressLike: true) == "\"\"")
    }
}
