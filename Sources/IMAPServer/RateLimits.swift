// Failed logins per IP, shared by all connections of a server, so one address cannot guess
// passwords quickly; and new connections per IP per minute.

import Synchronization

#if canImport(Glibc)
import Glibc
#endif

public final class IMAPRateLimits: Sendable {
    /// Failed logins allowed per IP per hour before logins from it are refused; 0 for no limit.
    public let authFailuresPerHour: Int
    /// New connections allowed per IP per minute; 0 for no limit.
    public let connectionsPerMinute: Int

    private struct Window {
        var start: Int
        var count: Int
    }
    private let failures = Mutex<[String: Window]>([:])
    private let connections = Mutex<[String: Window]>([:])

    public init(authFailuresPerHour: Int = 20, connectionsPerMinute: Int = 300) {
        self.authFailuresPerHour = authFailuresPerHour
        self.connectionsPerMinute = connectionsPerMinute
    }

    /// No limits, for tests and localserve.
    public static var unlimited: IMAPRateLimits { IMAPRateLimits(authFailuresPerHour: 0, connectionsPerMinute: 0) }

    func connectionAllowed(ip: String) -> Bool {
        guard self.connectionsPerMinute > 0 else { return true }
        return Self.count(self.connections, ip, window: 60, add: 1) <= self.connectionsPerMinute
    }

    func loginAllowed(ip: String) -> Bool {
        guard self.authFailuresPerHour > 0 else { return true }
        return Self.count(self.failures, ip, window: 3600, add: 0) < self.authFailuresPerHour
    }

    func recordFailure(ip: String) {
        guard self.authFailuresPerHour > 0 else { return }
        _ = Self.count(self.failures, ip, window: 3600, add: 1)
    }

    /// Seconds since 1970.
    static func wallClock() -> Int {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return ts.tv_sec
    }

    static func now() -> Int {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return ts.tv_sec
    }

    private static func count(_ table: borrowing Mutex<[String: Window]>, _ ip: String, window: Int, add: Int) -> Int {
        let now = Self.now()
        return table.withLock { entries in
            if entries.count > 100_000 {
                entries = entries.filter { now - $0.value.start < window }
            }
            var entry = entries[ip] ?? Window(start: now, count: 0)
            if now - entry.start >= window {
                entry = Window(start: now, count: 0)
            }
            entry.count += add
            entries[ip] = entry
            return entry.count
        }
    }
}
