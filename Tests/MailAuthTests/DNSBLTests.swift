import MailAddress
import MailDNS
import Testing

@testable import MailAuth

@Suite struct DNSBLTests {
    let zone = try! DNSName("bl.example")

    func list() -> MockResolver {
        let dns = MockResolver()
        // RFC 5782 5: the test entry, and a listed address with its explanation.
        dns.add("2.0.0.127.bl.example", .a(IPAddress("127.0.0.2")!))
        dns.addTXT("2.0.0.127.bl.example", "test entry")
        dns.add("10.2.0.192.bl.example", .a(IPAddress("127.0.0.4")!))
        dns.add("10.2.0.192.bl.example", .txt([Array("listed, see ".utf8), Array("https://bl.example/192.0.2.10".utf8)]))
        dns.addTXT("10.2.0.192.bl.example", "second")
        return dns
    }

    @Test func queryNames() throws {
        #expect(try DNSBL.queryName(zone: self.zone, ip: IPAddress("192.0.2.10")!).text == "10.2.0.192.bl.example")
        // RFC 5782 2.4: nibbles, least significant first.
        #expect(
            try DNSBL.queryName(zone: self.zone, ip: IPAddress("2001:db8::1")!).text
                == "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.bl.example"
        )
        // An IPv4-mapped address is looked up as IPv4.
        #expect(try DNSBL.queryName(zone: self.zone, ip: IPAddress("::ffff:192.0.2.10")!).text == "10.2.0.192.bl.example")
    }

    @Test func listedWithExplanation() async {
        let r = await DNSBL.lookup(zone: self.zone, ip: IPAddress("192.0.2.10")!, resolver: self.list())
        #expect(r.status == .fail)
        // Strings of one record concatenated, records joined with "; ".
        #expect(r.explanation == "listed, see https://bl.example/192.0.2.10; second")
    }

    @Test func notListed() async {
        let r = await DNSBL.lookup(zone: self.zone, ip: IPAddress("192.0.2.11")!, resolver: self.list())
        #expect(r == DNSBLResult(status: .pass))
    }

    @Test func listedWithoutTXT() async {
        let dns = self.list()
        dns.add("11.2.0.192.bl.example", .a(IPAddress("127.0.0.2")!))
        let r = await DNSBL.lookup(zone: self.zone, ip: IPAddress("192.0.2.11")!, resolver: dns)
        #expect(r.status == .fail && r.explanation.isEmpty)
    }

    @Test func dnsFailureIsTemperror() async {
        let dns = self.list()
        dns.fail("12.2.0.192.bl.example", .timeout(name: "12.2.0.192.bl.example"))
        let r = await DNSBL.lookup(zone: self.zone, ip: IPAddress("192.0.2.12")!, resolver: dns)
        #expect(r.status == .temperror)
        #expect(r.error == .timeout(name: "12.2.0.192.bl.example"))
    }

    @Test func health() async throws {
        try await DNSBL.checkHealth(zone: self.zone, resolver: self.list())

        let empty = MockResolver()
        await #expect(throws: DNSBLHealthError.missingTestEntry) {
            try await DNSBL.checkHealth(zone: self.zone, resolver: empty)
        }

        let everything = self.list()
        everything.add("1.0.0.127.bl.example", .a(IPAddress("127.0.0.2")!))
        await #expect(throws: DNSBLHealthError.listsLoopback) {
            try await DNSBL.checkHealth(zone: self.zone, resolver: everything)
        }

        let down = MockResolver()
        down.fail("1.0.0.127.bl.example", .serverFailure(name: "1.0.0.127.bl.example", rcode: .serverFailure, server: "x"))
        down.fail("2.0.0.127.bl.example", .serverFailure(name: "2.0.0.127.bl.example", rcode: .serverFailure, server: "x"))
        do {
            try await DNSBL.checkHealth(zone: self.zone, resolver: down)
            Issue.record("no error")
        } catch {
            guard case .dns = error else {
                Issue.record("want a dns error, got \(error)")
                return
            }
            #expect(error.description.hasPrefix("dnsbl: dns error: "))
        }
    }

    @Test func healthCache() async {
        let cache = DNSBLHealthCache()
        let broken = self.list()
        broken.add("1.0.0.127.bl.example", .a(IPAddress("127.0.0.2")!))
        #expect(await cache.usable(self.zone, resolver: broken) == false)
        // Cached: the zone is not asked again within the period.
        let asked = broken.queries.count
        #expect(await cache.usable(self.zone, resolver: broken) == false)
        #expect(broken.queries.count == asked)

        // A DNS failure while checking does not disqualify the list.
        let down = MockResolver()
        down.fail("1.0.0.127.bl2.example", .timeout(name: "1.0.0.127.bl2.example"))
        down.fail("2.0.0.127.bl2.example", .timeout(name: "2.0.0.127.bl2.example"))
        #expect(await cache.usable(try! DNSName("bl2.example"), resolver: down) == true)

        // Expired entries are checked again.
        let short = DNSBLHealthCache(maxAge: .zero)
        #expect(await short.usable(self.zone, resolver: self.list()) == true)
        let fixed = self.list()
        #expect(await short.usable(self.zone, resolver: fixed) == true)
        #expect(!fixed.queries.isEmpty)
    }
}
