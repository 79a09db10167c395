import MailNetwork
import Testing

@Suite struct NetworkRateLimiterTests {
    @Test func addressAndNetworkLimitsPerWindow() {
        let limiter = NetworkRateLimiter(windows: [.init(seconds: 60, limits: [2, 3, 4])])
        let t = 6_000
        #expect(limiter.add("192.0.2.1", now: t))
        #expect(limiter.add("192.0.2.1", now: t))
        #expect(!limiter.allowed("192.0.2.1", now: t))
        // Another host of the same /26 still may, until the /26 has had 3.
        #expect(limiter.allowed("192.0.2.2", now: t))
        #expect(limiter.add("192.0.2.2", now: t))
        #expect(!limiter.allowed("192.0.2.3", now: t))
        // A host in the same /21 but another /26: the /21 allows 4.
        #expect(limiter.add("192.0.2.100", now: t))
        #expect(!limiter.allowed("192.0.3.1", now: t))
        #expect(limiter.allowed("198.51.100.1", now: t))
        // The next minute starts over.
        #expect(limiter.allowed("192.0.2.1", now: t + 60))
    }

    @Test func ipv6IsCountedPerSlash64() {
        let limiter = NetworkRateLimiter(windows: [.init(seconds: 60, limits: [1, 10, 10])])
        #expect(limiter.add("2001:db8:1:2::1", now: 0))
        #expect(!limiter.allowed("2001:db8:1:2:ffff::9", now: 0))
        #expect(limiter.allowed("2001:db8:1:3::1", now: 0))
    }

    @Test func aGoodLoginForgetsTheAddresssEvents() {
        let limiter = NetworkRateLimiter(windows: [.init(seconds: 60, limits: [2, 3, 100])])
        limiter.add("192.0.2.1", now: 0)
        limiter.add("192.0.2.1", now: 0)
        limiter.add("192.0.2.2", now: 0)
        #expect(!limiter.allowed("192.0.2.1", now: 0))
        limiter.reset("192.0.2.1", now: 0)
        #expect(limiter.allowed("192.0.2.1", now: 0))
        // Its events are gone from the wider groups too: the /26 has one (192.0.2.2's).
        #expect(limiter.add("192.0.2.1", now: 0))
        #expect(limiter.add("192.0.2.3", now: 0))
        #expect(!limiter.allowed("192.0.2.4", now: 0))
    }

    @Test func unlimitedNeverRefuses() {
        let limiter = NetworkRateLimiter.unlimited()
        for _ in 0..<1000 { #expect(limiter.add("192.0.2.1")) }
    }
}
