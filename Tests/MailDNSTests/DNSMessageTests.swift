import MailAddress
import Testing

@testable import MailDNS

@Suite struct DNSNameTests {
    @Test(arguments: [
        ("example.org", "example.org."),
        ("Example.ORG.", "Example.ORG."),
        (".", "."),
        ("_dmarc.example.org", "_dmarc.example.org."),
        (#"a\.b.example"#, #"a\.b.example."#),
        (#"\000x.example"#, #"\000x.example."#),
    ])
    func parsesAndFormats(text: String, formatted: String) throws {
        #expect(try DNSName(text).description == formatted)
    }

    @Test(arguments: ["a..b", ".a", "a\\", "a\\25", "a\\999b", String(repeating: "x", count: 64) + ".org"])
    func refusesBadNames(text: String) {
        #expect(throws: DNSNameError.self) { try DNSName(text) }
    }

    @Test func refusesNamesOver255Octets() {
        let long = Array(repeating: String(repeating: "a", count: 63), count: 4).joined(separator: ".")
        #expect(throws: DNSNameError.nameTooLong(long)) { try DNSName(long) }
    }

    @Test func comparesWithoutCase() throws {
        #expect(try DNSName("MX.Example.org") == DNSName("mx.example.ORG."))
        #expect(try Set([DNSName("A.example"), DNSName("a.EXAMPLE")]).count == 1)
        #expect(try DNSName("a.b.example.org").isSubdomain(of: DNSName("example.org")))
        #expect(try !DNSName("example.org").isSubdomain(of: DNSName("a.example.org")))
    }

    @Test func reverseNames() throws {
        #expect(IPAddress("192.0.2.1")?.reverseName == "1.2.0.192.in-addr.arpa")
        #expect(
            IPAddress("2001:db8::1")?.reverseName
                == "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa"
        )
        #expect(IPAddress("::ffff:192.0.2.1")?.reverseName == "1.2.0.192.in-addr.arpa")
        #expect(IPAddress("2001:DB8:0:0:0:0:0:1")?.description == "2001:db8::1")
        #expect(IPAddress("1.2.3") == nil)
    }
}

@Suite struct DNSMessageTests {
    func sample() throws -> DNSMessage {
        var m = DNSMessage(id: 0x1234)
        m.isResponse = true
        m.recursionAvailable = true
        m.authenticData = true
        let name = try DNSName("example.org")
        m.questions = [DNSQuestion(name: name, type: .mx)]
        m.answers = [
            ResourceRecord(name: name, type: .mx, ttl: 300, data: .mx(MXRecord(preference: 10, host: try DNSName("mx.example.org")))),
            ResourceRecord(name: name, type: .txt, ttl: 60, data: .txt([Array("v=spf1 ".utf8), Array("-all".utf8)])),
            ResourceRecord(name: name, type: .a, ttl: 60, data: .a(IPAddress("192.0.2.1")!)),
            ResourceRecord(name: name, type: .aaaa, ttl: 60, data: .aaaa(IPAddress("2001:db8::1")!)),
            ResourceRecord(
                name: try DNSName("_submissions._tcp.example.org"), type: .srv, ttl: 60,
                data: .srv(SRVRecord(priority: 0, weight: 1, port: 465, target: try DNSName("mail.example.org")))
            ),
            ResourceRecord(
                name: try DNSName("_25._tcp.mx.example.org"), type: .tlsa, ttl: 60,
                data: .tlsa(TLSARecord(usage: 3, selector: 1, matchingType: 1, data: [1, 2, 3]))
            ),
            ResourceRecord(name: name, type: RRType(99), ttl: 1, data: .other([9, 9])),
        ]
        m.authorities = [
            ResourceRecord(
                name: name, type: .soa, ttl: 3600,
                data: .soa(
                    SOARecord(
                        mname: try DNSName("ns.example.org"), rname: try DNSName("hostmaster.example.org"), serial: 1,
                        refresh: 2, retry: 3, expire: 4, minimum: 5
                    )
                )
            )
        ]
        m.edns = .init(udpPayloadSize: 1232, dnssecOK: true)
        return m
    }

    @Test func roundTrips() throws {
        let m = try self.sample()
        #expect(try DNSMessage(parsing: m.wire) == m)
        let q = DNSMessage.query(id: 7, name: try DNSName("example.org"), type: .txt)
        let parsed = try DNSMessage(parsing: q.wire)
        #expect(parsed == q)
        #expect(parsed.recursionDesired && parsed.authenticData && parsed.edns?.udpPayloadSize == 1232)
    }

    @Test func extendedRCodeFromOPT() throws {
        var m = try self.sample()
        m.rcode = RCode(16)  // BADVERS: needs the OPT record's upper bits.
        #expect(try DNSMessage(parsing: m.wire).rcode == RCode(16))
    }

    /// A reply with compressed names, as servers send them (bytes written out by hand):
    /// example.org MX 10 mx.example.org, with mx's name pointing back at the question's.
    @Test func followsCompressionPointers() throws {
        let bytes: [UInt8] =
            [0x12, 0x34, 0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0]
            + [7] + Array("example".utf8) + [3] + Array("org".utf8) + [0, 0, 15, 0, 1]
            + [0xc0, 12, 0, 15, 0, 1, 0, 0, 1, 44, 0, 7, 0, 10, 2] + Array("mx".utf8) + [0xc0, 12]
        let m = try DNSMessage(parsing: bytes)
        #expect(m.answers.first?.data == .mx(MXRecord(preference: 10, host: try DNSName("mx.example.org"))))
        #expect(m.answers.first?.name == (try DNSName("example.org")))
    }

    static let header: [UInt8] = [0, 1, 0x81, 0x80]

    /// Hostile or broken messages: each refused with the reason, never a trap or a hang.
    @Test(arguments: [
        ("empty", [UInt8](), "message ends early"),
        ("short header", [0, 1, 0x81], "message ends early"),
        ("pointer to itself", header + [0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 12, 0, 1, 0, 1], "does not point backwards"),
        ("pointer forward", header + [0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 20, 0, 1, 0, 1, 0, 0, 0, 0, 0, 0, 0], "does not point backwards"),
        ("pointer past end", header + [0, 1, 0, 0, 0, 0, 0, 0, 0xc0], "runs past the end"),
        ("label past end", header + [0, 1, 0, 0, 0, 0, 0, 0, 9, 1, 2], "label runs past the end"),
        ("extended label", header + [0, 1, 0, 0, 0, 0, 0, 0, 0x41, 0, 0, 1, 0, 1], "unsupported label type"),
        ("question count", header + [0xff, 0xff, 0, 0, 0, 0, 0, 0], "question count 65535"),
        ("record counts", header + [0, 0, 0x10, 0, 0x10, 0, 0, 0], "record counts"),
        ("rdata length", header + [0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 1, 0, 1, 0, 0, 0, 1, 0, 9, 1, 2, 3, 4], "runs past the end"),
        ("A of 3 octets", header + [0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 1, 0, 1, 0, 0, 0, 1, 0, 3, 1, 2, 3], "not 4"),
        ("MX longer than RDLENGTH", header + [0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 15, 0, 1, 0, 0, 0, 1, 0, 3, 0, 10, 1, 97, 0], "RDLENGTH says 3"),
        ("TXT string past record", header + [0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 16, 0, 1, 0, 0, 0, 1, 0, 2, 5, 97, 97, 97, 97, 97], "TXT string runs past"),
    ] as [(String, [UInt8], String)])
    func refusesMalformed(label: String, bytes: [UInt8], reason: String) {
        #expect(throws: DNSWireError.self, "\(label)") { try DNSMessage(parsing: bytes) }
        do {
            _ = try DNSMessage(parsing: bytes)
        } catch {
            #expect(error.description.contains(reason), "\(label): \(error)")
        }
    }

    /// A name built of pointers that each go back a little: the chain is limited by the name's
    /// 255-octet bound, and a long chain of backward pointers ends.
    @Test func longPointerChainsEnd() {
        var bytes: [UInt8] = Self.header + [0, 1, 0, 0, 0, 0, 0, 0]
        // 200 one-letter labels each followed by a pointer to the previous one.
        var previous = -1
        var firstName = 0
        for i in 0..<200 {
            let at = bytes.count
            if i == 0 { firstName = at }
            bytes += [1, 97]
            if previous >= 0 { bytes += [0xc0 | UInt8(previous >> 8), UInt8(previous & 0xff)] } else { bytes += [0] }
            previous = at
        }
        _ = firstName
        // The question's name is the last chain: 200 labels of 2 octets = 401 octets, too long.
        bytes += [1, 98, 0xc0 | UInt8(previous >> 8), UInt8(previous & 0xff), 0, 1, 0, 1]
        var reader = WireReader(bytes: bytes)
        reader.offset = bytes.count - 8
        #expect(throws: DNSWireError.self) { try reader.name() }
    }

    /// Every prefix of a valid message fails cleanly.
    @Test func everyTruncationFails() throws {
        let wire = try self.sample().wire
        for n in 0..<wire.count {
            #expect(throws: DNSWireError.self) { try DNSMessage(parsing: Array(wire[..<n])) }
        }
    }
}

@Suite struct DNSAnswerTests {
    @Test func followsCNAMEChains() throws {
        var m = DNSMessage(id: 1)
        let a = try DNSName("www.example.org")
        let b = try DNSName("cdn.example.net")
        let c = try DNSName("edge.example.com")
        m.answers = [
            ResourceRecord(name: a, type: .cname, ttl: 60, data: .cname(b)),
            ResourceRecord(name: b, type: .cname, ttl: 60, data: .cname(c)),
            ResourceRecord(name: c, type: .a, ttl: 30, data: .a(IPAddress("192.0.2.7")!)),
            // A record for another name: not part of the answer.
            ResourceRecord(name: a, type: .a, ttl: 30, data: .a(IPAddress("192.0.2.8")!)),
        ]
        let answer = DNSAnswer(message: m, name: a, type: .a)
        #expect(answer.canonicalName == c)
        #expect(answer.cnames.count == 2)
        #expect(answer.records.map(\.data) == [.a(IPAddress("192.0.2.7")!)])
        // A CNAME loop ends.
        m.answers = [
            ResourceRecord(name: a, type: .cname, ttl: 60, data: .cname(b)),
            ResourceRecord(name: b, type: .cname, ttl: 60, data: .cname(a)),
        ]
        #expect(DNSAnswer(message: m, name: a, type: .a).records.isEmpty)
    }
}

@Suite struct DNSCacheTests {
    func message(_ name: DNSName, _ type: RRType, rcode: RCode = .noError, answers: [ResourceRecord], soa: (UInt32, UInt32)? = nil) -> DNSMessage {
        var m = DNSMessage(id: 1)
        m.isResponse = true
        m.rcode = rcode
        m.questions = [DNSQuestion(name: name, type: type)]
        m.answers = answers
        if let (ttl, minimum) = soa {
            m.authorities = [
                ResourceRecord(
                    name: name, type: .soa, ttl: ttl,
                    data: .soa(SOARecord(mname: name, rname: name, serial: 1, refresh: 1, retry: 1, expire: 1, minimum: minimum))
                )
            ]
        }
        return m
    }

    @Test func positiveForTheSmallestTTL() throws {
        let name = try DNSName("example.org")
        var cache = DNSCache()
        let m = self.message(
            name, .txt,
            answers: [
                ResourceRecord(name: name, type: .txt, ttl: 100, data: .txt([[97]])),
                ResourceRecord(name: name, type: .txt, ttl: 30, data: .txt([[98]])),
            ]
        )
        cache.put(DNSAnswer(message: m, name: name, type: .txt), from: m, now: 1000)
        #expect(cache.get(name, .txt, now: 1029)?.records.map(\.ttl) == [71, 1])
        #expect(cache.get(name, .txt, now: 1030) == nil)
        #expect(cache.get(name, .mx, now: 1000) == nil)
    }

    @Test func negativeBySOAAndNotWithout() throws {
        let name = try DNSName("nx.example.org")
        var cache = DNSCache()
        let nx = self.message(name, .a, rcode: .nameError, answers: [], soa: (3600, 60))
        cache.put(DNSAnswer(message: nx, name: name, type: .a), from: nx, now: 0)
        #expect(cache.get(name, .a, now: 59)?.rcode == .nameError)
        #expect(cache.get(name, .a, now: 60) == nil)
        let other = try DNSName("nodata.example.org")
        let noSOA = self.message(other, .a, answers: [])
        cache.put(DNSAnswer(message: noSOA, name: other, type: .a), from: noSOA, now: 0)
        #expect(cache.get(other, .a, now: 0) == nil)
        let failure = self.message(other, .a, rcode: .serverFailure, answers: [], soa: (60, 60))
        cache.put(DNSAnswer(message: failure, name: other, type: .a), from: failure, now: 0)
        #expect(cache.get(other, .a, now: 0) == nil, "SERVFAIL is never cached")
    }

    @Test func boundedInSize() throws {
        var cache = DNSCache(capacity: 100)
        for i in 0..<1000 {
            let name = try DNSName("n\(i).example")
            let m = self.message(name, .a, answers: [ResourceRecord(name: name, type: .a, ttl: UInt32(100 + i), data: .a(IPAddress("192.0.2.1")!))])
            cache.put(DNSAnswer(message: m, name: name, type: .a), from: m, now: 0)
            #expect(cache.count <= 100)
        }
        #expect(cache.get(try DNSName("n999.example"), .a, now: 0) != nil)
    }
}

@Suite struct ResolvConfTests {
    @Test func readsServersAndOptions() {
        let conf = ResolvConf(
            parsing: """
                # comment
                search example.org
                nameserver 127.0.0.53
                nameserver ::1 ; comment
                nameserver fe80::1%eth0
                nameserver 192.0.2.1
                nameserver 192.0.2.2
                nameserver 192.0.2.3
                options timeout:2 attempts:9 rotate edns0 trust-ad
                """
        )
        #expect(conf.servers.map(\.description) == ["127.0.0.53:53", "[::1]:53", "192.0.2.1:53"])
        #expect(conf.timeout == 2)
        #expect(conf.attempts == 5)
        #expect(conf.rotate)
        #expect(!conf.useTCP)
    }

    @Test func defaultsToTheLocalHost() {
        let conf = ResolvConf(parsing: "domain example.org\n")
        #expect(conf.servers == ResolvConf.localServers)
        #expect(conf.timeout == 5 && conf.attempts == 2)
    }
}

@Suite struct ResolverLookupTests {
    @Test func typedLookupsOverTheMock() async throws {
        let mock = MockResolver()
        mock.addTXT("example.org", "v=spf1 -all", String(repeating: "k", count: 300))
        mock.add("example.org", .mx(MXRecord(preference: 20, host: try DNSName("b.example.org"))))
        mock.add("example.org", .mx(MXRecord(preference: 10, host: try DNSName("a.example.org"))))
        mock.add("www.example.org", .cname(try DNSName("example.org")))
        mock.add("example.org", .a(IPAddress("192.0.2.1")!))
        mock.add("example.org", .aaaa(IPAddress("2001:db8::1")!))
        mock.add("1.2.0.192.in-addr.arpa", .ptr(try DNSName("example.org")))
        mock.setAuthentic("example.org")

        let (txt, result) = try await mock.lookupTXT(DNSName("example.org"))
        #expect(txt == ["v=spf1 -all", String(repeating: "k", count: 300)])
        #expect(result.authentic)
        #expect(try await mock.lookupMX(DNSName("example.org")).0.map(\.preference) == [10, 20])
        #expect(try await mock.lookupIP(DNSName("www.example.org")).0.map(\.description) == ["2001:db8::1", "192.0.2.1"])
        #expect(try await mock.lookupIP(DNSName("www.example.org"), family: .ipv4).0.map(\.description) == ["192.0.2.1"])
        #expect(try await mock.lookupAddr(IPAddress("192.0.2.1")!).0 == [try DNSName("example.org")])
        #expect(try await mock.lookupCNAME(DNSName("www.example.org")).0 == (try DNSName("example.org")))

        await #expect(throws: DNSError.notFound(name: "nx.example.", nxdomain: true)) {
            try await mock.lookupTXT(DNSName("nx.example"))
        }
        // Through the CNAME to example.org's MX records; a name with only an address has none.
        #expect(try await mock.lookupMX(DNSName("www.example.org")).0.count == 2)
        mock.add("host.example.org", .a(IPAddress("192.0.2.2")!))
        await #expect(throws: DNSError.notFound(name: "host.example.org.", nxdomain: false)) {
            try await mock.lookupMX(DNSName("host.example.org"))
        }
        mock.fail("broken.example", .timeout(name: "broken.example."))
        let broken = try DNSName("broken.example")
        do {
            _ = try await mock.lookupTXT(broken)
            Issue.record("no error")
        } catch {
            #expect(error.isTemporary)
        }
    }

    @Test func bothFamiliesWhenOneFails() async throws {
        let mock = MockResolver()
        mock.add("v4.example", .a(IPAddress("192.0.2.9")!))
        #expect(try await mock.lookupIP(DNSName("v4.example")).0.map(\.description) == ["192.0.2.9"])
        await #expect(throws: DNSError.self) { try await mock.lookupIP(DNSName("none.example")) }
    }
}

@Suite struct HostAddressesTests {
    @Test func literalsLocalhostAndNames() async throws {
        let r = MockResolver()
        r.add("smtp.example.org", .a(try #require(IPAddress("192.0.2.7"))))
        #expect(try await r.hostAddresses("192.0.2.1").map(\.description) == ["192.0.2.1"])
        #expect(try await r.hostAddresses("::1").map(\.description) == ["::1"])
        // RFC 6761 6.3: never asked of DNS (the mock has no record for it).
        #expect(try await r.hostAddresses("LocalHost").map(\.description) == ["127.0.0.1", "::1"])
        #expect(try await r.hostAddresses("relay.localhost").map(\.description) == ["127.0.0.1", "::1"])
        #expect(try await r.hostAddresses("smtp.example.org").map(\.description) == ["192.0.2.7"])
        await #expect(throws: DNSError.self) { try await r.hostAddresses("missing.example.org") }
    }
}
