import Testing

@testable import MailAddress

@Suite struct IPAddressClassTests {
    @Test(arguments: [
        // address, loopback, private, link-local, unspecified
        ("127.0.0.1", true, false, false, false),
        ("127.1.2.3", true, false, false, false),
        ("::1", true, false, false, false),
        ("::ffff:127.0.0.1", true, false, false, false),
        ("10.1.2.3", false, true, false, false),
        ("172.16.0.1", false, true, false, false),
        ("172.31.255.255", false, true, false, false),
        ("172.32.0.1", false, false, false, false),
        ("192.168.1.1", false, true, false, false),
        ("fd00::1", false, true, false, false),
        ("fc00::1", false, true, false, false),
        ("169.254.1.1", false, false, true, false),
        ("fe80::1", false, false, true, false),
        ("0.0.0.0", false, false, false, true),
        ("::", false, false, false, true),
        ("198.51.100.7", false, false, false, false),
        ("2001:db8::1", false, false, false, false),
    ])
    func classes(_ text: String, _ loopback: Bool, _ priv: Bool, _ linkLocal: Bool, _ unspecified: Bool) {
        let ip = IPAddress(text)!
        #expect(ip.isLoopback == loopback)
        #expect(ip.isPrivate == priv)
        #expect(ip.isLinkLocal == linkLocal)
        #expect(ip.isUnspecified == unspecified)
    }

    @Test func reversed() {
        #expect(IPAddress("192.0.2.10")!.reversedLabels == "10.2.0.192")
        #expect(IPAddress("192.0.2.10")!.reverseName == "10.2.0.192.in-addr.arpa")
        #expect(IPAddress("2001:db8::1")!.reverseName.hasSuffix(".8.b.d.0.1.0.0.2.ip6.arpa"))
        #expect(IPAddress("2001:db8::1")!.reversedLabels.hasPrefix("1.0.0.0."))
    }
}
