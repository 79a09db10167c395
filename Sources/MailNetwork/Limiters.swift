// Limits per network address, shared by every listener of the process: failed logins (one
// limiter for SMTP submission, IMAP and the HTTP logins, so an attacker gets the same number of
// tries whichever port it uses) and new connections. Addresses are counted at three widths, as
// mox does: IPv4 /32, /26 and /21, IPv6 /64, /48 and /32, each with its own limit, so one host
// and a whole network of hosts are both held back.

import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Counters for address groups in fixed windows of time aligned to the clock (a minute from its
/// first second, a day from midnight UTC), with one limit per group width.
public final class NetworkRateLimiter: Sendable {
    public struct Window: Sendable {
        /// The window's length in seconds.
        public var seconds: Int
        /// The most events per window for the narrowest, middle and widest group.
        public var limits: [Int]

        public init(seconds: Int, limits: [Int]) {
            self.seconds = seconds
            self.limits = limits
        }
    }

    public let windows: [Window]
    /// Group widths in bits, narrowest first.
    static let ipv4Widths = [32, 26, 21]
    static let ipv6Widths = [64, 48, 32]

    private struct Counter {
        var window: Int
        var count: Int
    }
    /// Per window, per group width: group key → counter.
    private let counters: Mutex<[[String: Counter]]>

    public init(windows: [Window]) {
        self.windows = windows
        self.counters = Mutex(Array(repeating: [:], count: windows.count * 3))
    }

    /// Whether one more event for `ip` would stay within every limit (nothing is counted).
    public func allowed(_ ip: String, now: Int = NetworkRateLimiter.wallClock()) -> Bool {
        self.check(ip, add: 1, now: now, count: false)
    }

    /// Counts one event for `ip`; returns whether it was still within the limits.
    @discardableResult
    public func add(_ ip: String, now: Int = NetworkRateLimiter.wallClock()) -> Bool {
        self.check(ip, add: 1, now: now, count: true)
    }

    /// Forgets the events of the address (a successful login after failed ones), as mox does:
    /// they are taken off its wider groups too; other addresses' events stay.
    public func reset(_ ip: String, now: Int = NetworkRateLimiter.wallClock()) {
        guard let groups = Self.groups(ip) else { return }
        self.counters.withLock { counters in
            for w in self.windows.indices {
                let key = groups[0]
                guard let own = counters[w * 3][key], own.window == now / self.windows[w].seconds else { continue }
                counters[w * 3][key] = nil
                for level in 1..<3 {
                    if var c = counters[w * 3 + level][groups[level]], c.window == own.window {
                        c.count = max(0, c.count - own.count)
                        counters[w * 3 + level][groups[level]] = c
                    }
                }
            }
        }
    }

    private func check(_ ip: String, add: Int, now: Int, count: Bool) -> Bool {
        guard let groups = Self.groups(ip) else { return true }
        return self.counters.withLock { counters in
            var ok = true
            for (w, window) in self.windows.enumerated() {
                let current = now / window.seconds
                for level in 0..<3 {
                    let index = w * 3 + level
                    if counters[index].count > 100_000 {
                        counters[index] = counters[index].filter { $0.value.window == current }
                    }
                    var c = counters[index][groups[level]] ?? Counter(window: current, count: 0)
                    if c.window != current { c = Counter(window: current, count: 0) }
                    if c.count + add > window.limits[level] { ok = false }
                    if count {
                        c.count += add
                        counters[index][groups[level]] = c
                    }
                }
            }
            return ok
        }
    }

    /// The three group keys of an address, narrowest first; nil when it is not an IP address.
    static func groups(_ ip: String) -> [String]? {
        if let v4 = IPAddressBytes.ipv4(ip) {
            return Self.ipv4Widths.map { IPAddressBytes.prefix(v4, bits: $0) }
        }
        if let v6 = IPAddressBytes.ipv6(ip) {
            return Self.ipv6Widths.map { IPAddressBytes.prefix(v6, bits: $0) }
        }
        return nil
    }

    /// Seconds since 1970.
    public static func wallClock() -> Int {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return ts.tv_sec
    }

    /// mox's limits for failed logins: 10, 30 and 90 a minute, 50, 150 and 450 a day.
    public static func failedLogins() -> NetworkRateLimiter {
        NetworkRateLimiter(windows: [
            Window(seconds: 60, limits: [10, 30, 90]),
            Window(seconds: 24 * 3600, limits: [50, 150, 450]),
        ])
    }

    /// mox's limits for new SMTP and IMAP connections: 300, 900 and 2700 a minute.
    public static func newConnections() -> NetworkRateLimiter {
        NetworkRateLimiter(windows: [Window(seconds: 60, limits: [300, 900, 2700])])
    }

    /// No limits (localserve, tests).
    public static func unlimited() -> NetworkRateLimiter {
        NetworkRateLimiter(windows: [])
    }
}

/// Textual IP addresses as bytes, for grouping by prefix.
enum IPAddressBytes {
    static func ipv4(_ s: String) -> [UInt8]? {
        let parts = s.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        var out: [UInt8] = []
        for p in parts {
            guard !p.isEmpty, p.count <= 3, let v = UInt8(p) else { return nil }
            out.append(v)
        }
        return out
    }

    static func ipv6(_ s: String) -> [UInt8]? {
        guard s.contains(":") else { return nil }
        if let dot = s.lastIndex(of: ":"), let v4 = Self.ipv4(String(s[s.index(after: dot)...])) {
            // An IPv4-mapped address counts as its IPv4 address's /128 group.
            return Array(repeating: 0, count: 10) + [0xff, 0xff] + v4
        }
        let halves = s.split(separator: "::", maxSplits: 1, omittingEmptySubsequences: false)
        guard halves.count <= 2 else { return nil }
        func groups(_ part: Substring) -> [UInt16]? {
            if part.isEmpty { return [] }
            var out: [UInt16] = []
            for g in part.split(separator: ":", omittingEmptySubsequences: false) {
                guard !g.isEmpty, g.count <= 4, let v = UInt16(g, radix: 16) else { return nil }
                out.append(v)
            }
            return out
        }
        guard let head = groups(halves[0]) else { return nil }
        var all = head
        if halves.count == 2 {
            guard let tail = groups(halves[1]), head.count + tail.count < 8 else { return nil }
            all += Array(repeating: 0, count: 8 - head.count - tail.count) + tail
        }
        guard all.count == 8 else { return nil }
        return all.flatMap { [UInt8($0 >> 8), UInt8($0 & 0xff)] }
    }

    /// The first `bits` bits of an address, as text: the key of its group.
    static func prefix(_ bytes: [UInt8], bits: Int) -> String {
        var out = bytes
        for i in out.indices {
            let keep = max(0, min(8, bits - i * 8))
            out[i] &= keep == 8 ? 0xff : UInt8(truncatingIfNeeded: 0xff << (8 - keep))
        }
        return out.map { String($0, radix: 16) }.joined(separator: ".") + "/\(bits)"
    }
}

/// What one network may do, counted across every listener of the process: new connections, and
/// failed logins (SMTP submission, IMAP and the HTTP logins share one count).
public struct ClientLimits: Sendable {
    public var connections: NetworkRateLimiter
    public var failedLogins: NetworkRateLimiter

    public init(
        connections: NetworkRateLimiter = .newConnections(),
        failedLogins: NetworkRateLimiter = .failedLogins()
    ) {
        self.connections = connections
        self.failedLogins = failedLogins
    }

    /// No limits (localserve, tests).
    public static func unlimited() -> ClientLimits {
        ClientLimits(connections: .unlimited(), failedLogins: .unlimited())
    }
}
