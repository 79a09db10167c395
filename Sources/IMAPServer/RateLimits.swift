// Failed logins per IP, shared by all connections of a server, so one address cannot guess
// passwords quickly; and new connections per IP per minute.

import MailNetwork

#if canImport(Glibc)
import Glibc
#endif

public final class IMAPRateLimits: Sendable {
    /// Failed logins allowed per IP per hour before logins from it are refused; 0 for no limit.
    public let authFailuresPerHour: Int
    /// New connections allowed per IP per minute; 0 for no limit.
    public let connectionsPerMinute: Int

    private let failures = PerIPWindows(seconds: 3600)
    private let connections = PerIPWindows(seconds: 60)

    public init(authFailuresPerHour: Int = 20, connectionsPerMinute: Int = 300) {
        self.authFailuresPerHour = authFailuresPerHour
        self.connectionsPerMinute = connectionsPerMinute
    }

    /// No limits, for tests and localserve.
    public static var unlimited: IMAPRateLimits { IMAPRateLimits(authFailuresPerHour: 0, connectionsPerMinute: 0) }

    func connectionAllowed(ip: String) -> Bool {
        guard self.connectionsPerMinute > 0 else { return true }
        return self.connections.count(ip, add: 1) <= self.connectionsPerMinute
    }

    func loginAllowed(ip: String) -> Bool {
        guard self.authFailuresPerHour > 0 else { return true }
        return self.failures.count(ip, add: 0) < self.authFailuresPerHour
    }

    func recordFailure(ip: String) {
        guard self.authFailuresPerHour > 0 else { return }
        _ = self.failures.count(ip, add: 1)
    }

    /// Seconds since 1970.
    static func wallClock() -> Int {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return ts.tv_sec
    }
}
