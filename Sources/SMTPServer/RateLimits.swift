// Per-IP limits shared by all connections of a server: new connections per minute, and failed
// authentications, so that one address cannot flood the server or guess passwords quickly.

import MailNetwork
import SMTPProtocol

#if canImport(Glibc)
import Glibc
#endif

public final class SMTPRateLimits: Sendable {
    /// New connections allowed per IP per minute; 0 for no limit.
    public let connectionsPerMinute: Int
    /// Failed authentications allowed per IP per hour before AUTH is refused; 0 for no limit.
    public let authFailuresPerHour: Int

    private let connections = PerIPWindows(seconds: 60)
    private let authFailures = PerIPWindows(seconds: 3600)

    /// mox's defaults: 300 connections per IP per minute; here 20 failed logins per IP per hour.
    public init(connectionsPerMinute: Int = 300, authFailuresPerHour: Int = 20) {
        self.connectionsPerMinute = connectionsPerMinute
        self.authFailuresPerHour = authFailuresPerHour
    }

    /// No limits, for tests and localserve.
    public static var unlimited: SMTPRateLimits { SMTPRateLimits(connectionsPerMinute: 0, authFailuresPerHour: 0) }

    /// Counts a new connection; a 421 reply when the IP is over its limit.
    func connectionRefusal(ip: String) -> SMTPReply? {
        guard self.connectionsPerMinute > 0 else { return nil }
        let count = self.connections.count(ip, add: 1)
        guard count > self.connectionsPerMinute else { return nil }
        // RFC 5321 3.8: 421 and close when the server cannot serve the client now.
        return SMTPReply(
            421,
            EnhancedCode(class: 4, subject: 7, detail: 0),
            "too many connections from your address, try again later"
        )
    }

    func authRefusal(ip: String) -> SMTPReply? {
        guard self.authFailuresPerHour > 0 else { return nil }
        guard self.authFailures.count(ip, add: 0) >= self.authFailuresPerHour else { return nil }
        return SMTPReply(
            421,
            EnhancedCode(class: 4, subject: 7, detail: 0),
            "too many authentication failures from your address, try again later"
        )
    }

    func recordAuthFailure(ip: String) {
        guard self.authFailuresPerHour > 0 else { return }
        _ = self.authFailures.count(ip, add: 1)
    }
}
