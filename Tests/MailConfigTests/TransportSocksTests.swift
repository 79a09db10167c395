import MailConfig
import Testing

/// A Socks transport's Address: what config validation accepts is what the runner dials.
@Suite struct TransportSocksTests {
    func hostPort(_ address: String) -> [String] {
        var t = TransportSocks()
        t.address = address
        return t.hostPort.map { [$0.host, "\($0.port)"] } ?? []
    }

    @Test func hostAndPort() {
        #expect(self.hostPort("proxy.example:1080") == ["proxy.example", "1080"])
        #expect(self.hostPort("127.0.0.1:1080") == ["127.0.0.1", "1080"])
        #expect(self.hostPort("[::1]:1080") == ["::1", "1080"])
        #expect(self.hostPort("localhost:0") == ["localhost", "0"])
    }

    @Test func notHostAndPort() {
        for bad in ["proxy.example", ":1080", "::1:1080", "[proxy.example]:1080", "host:65536", "host:x", ""] {
            #expect(self.hostPort(bad) == [], "\(bad)")
        }
    }
}
