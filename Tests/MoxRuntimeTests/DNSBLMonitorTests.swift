import Logging
import MailAddress
import MailConfig
import MailDNS
import MailMetrics
import Testing

@testable import MoxRuntime

@Suite struct DNSBLMonitorTests {
    func config(ips: [String], natIPs: [String] = [], nated: Bool = false) -> Config {
        var config = Config(
            staticConfig: StaticConfig(), dynamicConfig: DynamicConfig(), staticPath: "/x/mox.conf", dynamicPath: "/x/domains.conf"
        )
        var listener = Listener()
        listener.ips = ips
        listener.natIPs = natIPs
        listener.ipsNATed = nated
        listener.smtp.dnsbls = ["bl.example", "Two.Example"]
        config.staticConfig.listeners["public"] = listener
        var local = Listener()
        local.ips = ["127.0.0.1", "::1"]
        config.staticConfig.listeners["internal"] = local
        config.dynamicConfig.monitorDNSBLs = ["two.example", "three.example"]
        return config
    }

    @Test func zonesOfThePublicListenerThenMonitorDNSBLs() {
        #expect(DNSBLMonitor.zones(self.config(ips: [])).map(\.text) == ["bl.example", "Two.Example", "three.example"])
    }

    @Test func publicIPsOnly() throws {
        let ips = try DNSBLMonitor.publicIPs(self.config(ips: ["198.51.100.7", "10.0.0.1", "2001:db8::25", "fe80::1"]))
        #expect(ips.map(\.description) == ["198.51.100.7", "2001:db8::25"])
        // NATIPs are what others see.
        #expect(try DNSBLMonitor.publicIPs(self.config(ips: ["10.0.0.1"], natIPs: ["203.0.113.5"])).map(\.description) == ["203.0.113.5"])
        // Behind NAT without NATIPs, the public address is unknown: nothing is checked.
        #expect(try DNSBLMonitor.publicIPs(self.config(ips: ["198.51.100.7"], nated: true)).isEmpty)
        // 0.0.0.0: the interfaces' addresses, of which loopback never counts.
        #expect(try DNSBLMonitor.publicIPs(self.config(ips: ["0.0.0.0"])).allSatisfy { !$0.isLoopback && $0.isIPv4 })
    }

    @Test func oneRoundSetsTheMetric() async throws {
        MoxMetrics.bootstrap()
        let dns = MockResolver()
        dns.add("7.100.51.198.bl.example", .a(IPAddress("127.0.0.2")!))
        dns.addTXT("7.100.51.198.bl.example", "listed")
        dns.fail("7.100.51.198.three.example", .timeout(name: "7.100.51.198.three.example"))
        let config = self.config(ips: ["198.51.100.7"])
        let monitor = DNSBLMonitor(config: { config }, resolver: dns, log: Logger(label: "test"), pause: .zero)
        let pairs = await monitor.check(previous: [DNSBLMonitor.Pair(zone: "gone.example", ip: "198.51.100.7")])
        #expect(pairs.count == 3)
        let text = String(decoding: MoxMetrics.render(), as: UTF8.self)
        #expect(text.contains(#"mox_dnsbl_ips_success{zone="bl.example",ip="198.51.100.7"} 0"#))
        #expect(text.contains(#"mox_dnsbl_ips_success{zone="Two.Example",ip="198.51.100.7"} 1"#))
        #expect(text.contains(#"mox_dnsbl_ips_success{zone="three.example",ip="198.51.100.7"} 0"#))
        #expect(!text.contains(#"zone="gone.example""#))
        #expect(text.contains(#"mox_dnsbl_lookup_duration_seconds_count{zone="bl.example",status="fail"}"#))
    }
}
