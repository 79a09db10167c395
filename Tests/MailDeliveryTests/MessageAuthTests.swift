import Crypto
import MailAddress
import MailAuth
import MailDNS
import MailMessage
import MailSpool
import SMTPProtocol
import Testing

@testable import MailDelivery

/// The checks of incoming mail over a scripted resolver: what the Authentication-Results say and
/// what is refused.
@Suite struct MessageAuthTests {
    let key = DKIMPrivateKey.ed25519(Curve25519.Signing.PrivateKey())
    let ip = IPAddress("192.0.2.10")!

    func resolver(dmarc: String?) -> MockResolver {
        let dns = MockResolver()
        dns.add("10.2.0.192.in-addr.arpa", .ptr(try! DNSName("mail.example.com")))
        dns.add("mail.example.com", .a(self.ip))
        dns.addTXT("example.com", "v=spf1 ip4:192.0.2.10 -all")
        dns.addTXT("sel._domainkey.example.com", self.key.txtRecord)
        if let dmarc { dns.addTXT("_dmarc.example.com", dmarc) }
        return dns
    }

    func message(from: String, signed: Bool) throws -> SpooledMessage {
        let header = "From: <\(from)>\r\nTo: <rcpt@example.org>\r\nSubject: test\r\nMessage-Id: <1@example.com>\r\n\r\n"
        let body = "Hello.\r\n"
        var text = header + body
        if signed {
            let sigs = try DKIMSigner.sign(
                header: Array(header.utf8), body: { $0(Array(body.utf8)[...]) }, domain: "example.com", identity: from,
                selectors: [DKIMSigningSelector(selector: "sel", key: self.key)], now: 1_700_000_000
            )
            text = sigs + text
        }
        let spool = try MessageSpool(directory: "/tmp/mox-messageauth-test")
        spool.append(Array(text.utf8))
        return try spool.finish()
    }

    func check(_ dns: any Resolver, from: String = "user@example.com", mailFrom: String = "user@example.com", signed: Bool = true, ip: IPAddress? = nil)
        async throws -> MessageVerdict
    {
        let auth = MessageAuthenticator(resolver: dns, suffixes: PublicSuffixList(text: "com\norg\n"), hostname: "mx.example.org")
        let path = ReversePath.mailbox(SMTPMailbox(Address.parse(mailFrom)!))
        return await auth.check(
            IncomingOrigin(remoteIP: ip ?? self.ip, hello: "mail.example.com", mailFrom: path), message: try self.message(from: from, signed: signed),
            now: 1_700_000_100
        )
    }

    @Test func allPass() async throws {
        let v = try await self.check(self.resolver(dmarc: "v=DMARC1; p=reject"))
        #expect(v.iprev.status == .pass && v.spf.status == .pass && v.dkim.map(\.status) == [.pass] && v.dmarc.status == .pass)
        #expect(v.refusal == nil && !v.quarantine)
        var b = String(Base64.encode(v.dkim[0].signature!.signature).prefix(12))
        // RFC 2045 5.1 via RFC 8601 2.2: a value with a tspecial such as "/" is a quoted string.
        if b.contains("/") { b = "\"\(b)\"" }
        #expect(
            v.authResults.header
                == "Authentication-Results: mx.example.org;\r\n"
                + "\tiprev=pass (without dnssec) policy.iprev=192.0.2.10;\r\n"
                + "\tdkim=pass (without dnssec) header.d=example.com header.s=sel\r\n"
                + "\theader.a=ed25519-sha256 header.b=\(b) header.i=user@example.com;\r\n"
                + "\tspf=pass (without dnssec) smtp.mailfrom=example.com;\r\n"
                + "\tdmarc=pass (without dnssec) header.from=example.com\r\n"
        )
        #expect(v.headers.contains("Received-SPF: pass (domain example.com) client-ip=192.0.2.10;"))
    }

    // A spoof: From the domain with p=reject, sent from elsewhere without its signature.
    @Test func rejectSpoof() async throws {
        let other = IPAddress("198.51.100.1")!
        let v = try await self.check(self.resolver(dmarc: "v=DMARC1; p=reject"), signed: false, ip: other)
        #expect(v.spf.status == .fail && v.dmarc.status == .fail)
        #expect(v.refusal == SMTPReply(550, .deliveryNotAuthorized, "rejecting per dmarc policy"))
        // The same with a pass for another envelope domain: no aligned identifier.
        let v2 = try await self.check(self.resolver(dmarc: "v=DMARC1; p=reject"), mailFrom: "x@other.org", signed: false, ip: other)
        #expect(v2.dmarc.status == .fail && v2.refusal?.code == 550)
    }

    @Test func quarantineAndNone() async throws {
        let other = IPAddress("198.51.100.1")!
        let q = try await self.check(self.resolver(dmarc: "v=DMARC1; p=quarantine"), signed: false, ip: other)
        #expect(q.refusal == nil && q.quarantine)
        let n = try await self.check(self.resolver(dmarc: "v=DMARC1; p=none"), signed: false, ip: other)
        #expect(n.refusal == nil && !n.quarantine && n.dmarc.status == .fail)
        let absent = try await self.check(self.resolver(dmarc: nil), signed: false, ip: other)
        #expect(absent.refusal == nil && absent.dmarc.status == .none)
        #expect(absent.iprev.status == .permerror)
    }

    // RFC 7489 6.6.3: no verdict because DNS failed is a temporary error, never 250 or 550.
    @Test func temporaryFailures() async throws {
        let dns = self.resolver(dmarc: nil)
        dns.fail("_dmarc.example.com", .timeout(name: "_dmarc.example.com."))
        let v = try await self.check(dns, signed: false, ip: IPAddress("198.51.100.1")!)
        #expect(v.dmarc.status == .temperror && v.refusal?.code == 451)

        // A DKIM key that cannot be fetched, with a policy that would reject.
        let dns2 = self.resolver(dmarc: "v=DMARC1; p=reject")
        dns2.fail("sel._domainkey.example.com", .timeout(name: "sel._domainkey.example.com."))
        let v2 = try await self.check(dns2, ip: IPAddress("198.51.100.1")!)
        #expect(v2.dkim.map(\.status) == [.temperror] && v2.dmarc.status == .temperror && v2.refusal?.code == 451)

        // With p=none the verdict does not matter: delivered.
        let dns3 = self.resolver(dmarc: "v=DMARC1; p=none")
        dns3.fail("sel._domainkey.example.com", .timeout(name: "sel._domainkey.example.com."))
        let v3 = try await self.check(dns3, ip: IPAddress("198.51.100.1")!)
        #expect(v3.dmarc.status == .temperror && v3.refusal == nil)
    }

    @Test func fromDomain() {
        func header(_ text: String) -> Header { Message(parsing: Array(text.utf8)).root.header }
        #expect(MessageAuthenticator.fromDomain(header("From: A <a@Example.COM>\r\n\r\n")) == "example.com")
        #expect(MessageAuthenticator.fromDomain(header("From: a@x.com, b@y.com\r\n\r\n")) == nil)
        #expect(MessageAuthenticator.fromDomain(header("From: a@x.com\r\nFrom: b@y.com\r\n\r\n")) == nil)
        #expect(MessageAuthenticator.fromDomain(header("Subject: none\r\n\r\n")) == nil)
    }
}
