// DNS blocklists (RFC 5782): is an IP address listed in a zone, and does the zone answer the
// way a working list must (its test entries)?

import MailAddress
import MailDNS
import Synchronization

/// The outcome of one lookup, with mox's names.
public enum DNSBLStatus: String, Hashable, Sendable {
    /// Not listed (the name does not exist).
    case pass
    /// Listed: the name has an address record.
    case fail
    /// The lookup failed; nothing is known.
    case temperror
}

public struct DNSBLResult: Hashable, Sendable {
    public var status: DNSBLStatus
    /// For a listing: the zone's TXT record at the name, its strings joined with "; ", often a URL
    /// explaining the listing. May be empty.
    public var explanation: String
    /// For temperror: what went wrong.
    public var error: DNSError?

    public init(status: DNSBLStatus, explanation: String = "", error: DNSError? = nil) {
        self.status = status
        self.explanation = explanation
        self.error = error
    }
}

/// Why a zone is not usable as a blocklist.
public enum DNSBLHealthError: Error, Hashable, Sendable, CustomStringConvertible {
    /// RFC 5782 5: 127.0.0.1 must never be listed.
    case listsLoopback
    /// RFC 5782 5: 127.0.0.2 must always be listed.
    case missingTestEntry
    /// The test lookups failed in DNS: the zone may be fine, the network is not.
    case dns(DNSError)

    public var description: String {
        switch self {
        case .listsLoopback: return "dnsbl contains unwanted test address 127.0.0.1"
        case .missingTestEntry: return "dnsbl does not contain required test address 127.0.0.2"
        case .dns(let error): return "dnsbl: dns error: \(error)"
        }
    }
}

public enum DNSBL {
    /// RFC 5782 2.1 (IPv4: octets reversed) and 2.4 (IPv6: nibbles reversed) under the zone.
    public static func queryName(zone: DNSName, ip: IPAddress) throws(DNSError) -> DNSName {
        do {
            return try DNSName(ip.reversedLabels + "." + zone.text)
        } catch {
            throw .invalidName("dnsbl name for \(ip) in \(zone.text): \(error.description)")
        }
    }

    /// Looks `ip` up in `zone`. RFC 5782 2.1, 2.3: an A record means listed, whatever its value (both
    /// families are looked up with A, as lists publish them); the name not existing means not listed.
    public static func lookup(zone: DNSName, ip: IPAddress, resolver: any Resolver) async -> DNSBLResult {
        let name: DNSName
        do {
            name = try Self.queryName(zone: zone, ip: ip)
        } catch {
            return DNSBLResult(status: .temperror, error: error)
        }
        do {
            let (ips, _) = try await resolver.lookupIP(name, family: .ipv4)
            if ips.isEmpty { return DNSBLResult(status: .pass) }
        } catch let error where error.isNotFound {
            return DNSBLResult(status: .pass)
        } catch {
            return DNSBLResult(status: .temperror, error: error)
        }
        // RFC 5782 2.1: the TXT record, when there is one, explains the listing.
        let explanation = (try? await resolver.lookupTXT(name))?.0.joined(separator: "; ") ?? ""
        return DNSBLResult(status: .fail, explanation: explanation)
    }

    /// RFC 5782 5: a working list has 127.0.0.2 listed and 127.0.0.1 not.
    public static func checkHealth(zone: DNSName, resolver: any Resolver) async throws(DNSBLHealthError) {
        let loopback = await Self.lookup(zone: zone, ip: IPAddress("127.0.0.1")!, resolver: resolver)
        let test = await Self.lookup(zone: zone, ip: IPAddress("127.0.0.2")!, resolver: resolver)
        if loopback.status == .pass && test.status == .fail { return }
        if loopback.status == .fail { throw .listsLoopback }
        if test.status == .pass { throw .missingTestEntry }
        throw .dns(loopback.error ?? test.error ?? .timeout(name: zone.text))
    }
}

/// Health of the zones used for incoming mail, checked at most every 4 hours per zone (as mox
/// does), so a list that went dark or lists everything is skipped instead of refusing all mail.
public final class DNSBLHealthCache: Sendable {
    struct Entry {
        var checked: ContinuousClock.Instant
        var error: DNSBLHealthError?
    }

    let entries = Mutex<[String: Entry]>([:])
    let maxAge: Duration

    public init(maxAge: Duration = .seconds(4 * 3600)) {
        self.maxAge = maxAge
    }

    /// Whether the zone may be used. A DNS failure during the health check does not disqualify
    /// the zone (the lookup itself will then fail too, and be treated as not listed).
    public func usable(_ zone: DNSName, resolver: any Resolver) async -> Bool {
        let now = ContinuousClock.now
        let key = zone.text.lowercased()
        if let entry = self.entries.withLock({ $0[key] }), now - entry.checked < self.maxAge {
            return Self.usable(entry.error)
        }
        var error: DNSBLHealthError?
        do {
            try await DNSBL.checkHealth(zone: zone, resolver: resolver)
        } catch let e {
            error = e
        }
        self.entries.withLock { $0[key] = Entry(checked: now, error: error) }
        return Self.usable(error)
    }

    static func usable(_ error: DNSBLHealthError?) -> Bool {
        switch error {
        case nil, .dns: return true
        case .listsLoopback, .missingTestEntry: return false
        }
    }
}
