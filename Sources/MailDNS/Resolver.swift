// What the rest of the server asks of DNS. One primitive, `query`, that a network resolver or
// a mock implements; the typed lookups (TXT, MX, IPs, PTR, ...) are built on it here, the same
// for both, so tests exercise the code production runs.

import MailAddress

/// A lookup's outcome besides its records: whether the resolver validated it with DNSSEC
/// (the AD bit, RFC 4035 3.2.3; only meaningful from a trusted, validating resolver).
public struct DNSResult: Hashable, Sendable {
    public var authentic: Bool

    public init(authentic: Bool) {
        self.authentic = authentic
    }
}

/// The answer to one question, with CNAMEs already followed.
public struct DNSAnswer: Hashable, Sendable {
    public var rcode: RCode
    /// The records of the asked type owned by the name the CNAME chain ended at.
    public var records: [ResourceRecord]
    /// The name the records belong to: the asked name, or the end of its CNAME chain.
    public var canonicalName: DNSName
    /// The CNAME chain from the asked name, in order.
    public var cnames: [ResourceRecord]
    public var authentic: Bool

    public init(rcode: RCode, records: [ResourceRecord], canonicalName: DNSName, cnames: [ResourceRecord] = [], authentic: Bool) {
        self.rcode = rcode
        self.records = records
        self.canonicalName = canonicalName
        self.cnames = cnames
        self.authentic = authentic
    }

    /// RFC 1034 3.6.2, 4.3.2: follows the CNAME chain from `name` within `message`'s answer
    /// section (at most 16 links; a loop ends it) and keeps the records of `type` at its end.
    public init(message: DNSMessage, name: DNSName, type: RRType) {
        var current = name
        var chain: [ResourceRecord] = []
        var seen: Set<DNSName> = [name]
        if type != .cname {
            while chain.count < 16,
                let link = message.answers.first(where: { $0.type == .cname && $0.name == current }),
                case .cname(let target) = link.data
            {
                chain.append(link)
                guard seen.insert(target).inserted else { break }
                current = target
            }
        }
        self.init(
            rcode: message.rcode,
            records: message.answers.filter { $0.type == type && $0.name == current },
            canonicalName: current,
            cnames: chain,
            authentic: message.authenticData
        )
    }
}

/// Why a lookup failed. Mail decisions treat `notFound` as an answer ("no such record") and
/// everything else as temporary, except `malformed` replies and `invalidName`, which are errors.
public enum DNSError: Error, Hashable, Sendable, CustomStringConvertible {
    /// NXDOMAIN, or the name exists without records of the type (NODATA); RFC 2308 2.1, 2.2.
    case notFound(name: String, nxdomain: Bool)
    /// SERVFAIL, REFUSED or another failure code from the server.
    case serverFailure(name: String, rcode: RCode, server: String)
    /// No answer within the timeouts, from any server.
    case timeout(name: String)
    /// The servers could not be reached (refused, unreachable).
    case unreachable(name: String, reason: String)
    /// A reply that does not parse, or does not answer the question.
    case malformed(name: String, reason: String)
    /// The name to look up is not a valid DNS name.
    case invalidName(String)

    /// A failure worth retrying later: SMTP answers 451, never 550 (RFC 7208 2.6.6, RFC 7489 6.6.3).
    public var isTemporary: Bool {
        switch self {
        case .serverFailure, .timeout, .unreachable, .malformed: return true
        case .notFound, .invalidName: return false
        }
    }

    public var isNotFound: Bool {
        if case .notFound = self { return true }
        return false
    }

    public var description: String {
        switch self {
        case .notFound(let name, let nx): return "lookup \(name): \(nx ? "no such domain" : "no record of that type")"
        case .serverFailure(let name, let rcode, let server): return "lookup \(name): server \(server) answered \(rcode)"
        case .timeout(let name): return "lookup \(name): timeout"
        case .unreachable(let name, let reason): return "lookup \(name): \(reason)"
        case .malformed(let name, let reason): return "lookup \(name): \(reason)"
        case .invalidName(let reason): return reason
        }
    }

    /// mox's label for the result of a lookup in mox_dns_lookup_duration_seconds.
    public var metricResult: String {
        switch self {
        case .notFound: return "nxdomain"
        case .serverFailure, .unreachable: return "temporary"
        case .timeout: return "timeout"
        case .malformed, .invalidName: return "error"
        }
    }
}

/// DNS as the server uses it. Implementations answer `query`; the lookups below are shared.
public protocol Resolver: Sendable {
    /// Asks for records of `type` at `name`. Returns the answer for NOERROR and NXDOMAIN (the
    /// rcode tells), throws for everything else.
    func query(_ name: DNSName, _ type: RRType) async throws(DNSError) -> DNSAnswer
}

extension Resolver {
    /// The records of a type, `notFound` when there are none (NXDOMAIN or NODATA).
    public func lookup(_ name: DNSName, _ type: RRType) async throws(DNSError) -> ([RData], DNSResult) {
        let answer = try await self.query(name, type)
        if answer.rcode == .nameError {
            throw .notFound(name: name.description, nxdomain: true)
        }
        guard !answer.records.isEmpty else { throw .notFound(name: name.description, nxdomain: false) }
        return (answer.records.map(\.data), DNSResult(authentic: answer.authentic))
    }

    /// TXT records, each record's strings joined (RFC 7208 3.3, RFC 6376 3.6.2.2).
    public func lookupTXT(_ name: DNSName) async throws(DNSError) -> ([String], DNSResult) {
        let (data, result) = try await self.lookup(name, .txt)
        let texts = data.compactMap { d -> String? in
            guard case .txt(let strings) = d else { return nil }
            return String(decoding: strings.joined(), as: UTF8.self)
        }
        return (texts, result)
    }

    /// MX records sorted by preference (RFC 5321 5.1), ties in the order received.
    public func lookupMX(_ name: DNSName) async throws(DNSError) -> ([MXRecord], DNSResult) {
        let (data, result) = try await self.lookup(name, .mx)
        let records = data.compactMap { d -> MXRecord? in
            if case .mx(let mx) = d { return mx }
            return nil
        }
        let sorted = records.enumerated().sorted { ($0.element.preference, $0.offset) < ($1.element.preference, $1.offset) }
        return (sorted.map(\.element), result)
    }

    /// The addresses to connect to for a configured host (a transport's Host, mox sendmail's):
    /// an IP address as it is; a localhost name the loopback addresses, IPv4 first, without
    /// asking DNS (RFC 6761 6.3); otherwise its A and AAAA records.
    public func hostAddresses(_ host: String) async throws(DNSError) -> [IPAddress] {
        if let ip = IPAddress(host) { return [ip] }
        let lower = host.lowercased()
        if lower == "localhost" || lower.hasSuffix(".localhost") {
            return [IPAddress("127.0.0.1"), IPAddress("::1")].compactMap { $0 }
        }
        let name: DNSName
        do {
            name = try DNSName(host)
        } catch {
            throw .invalidName("\(host): \(error)")
        }
        return try await self.lookupIP(name).0
    }

    /// A and/or AAAA records. For both families, a failure of one is ignored when the other has
    /// addresses; IPv6 first, as mox dials.
    public func lookupIP(_ name: DNSName, family: IPFamily = .both) async throws(DNSError) -> ([IPAddress], DNSResult) {
        func addresses(_ type: RRType) async throws(DNSError) -> ([IPAddress], DNSResult) {
            let (data, result) = try await self.lookup(name, type)
            return (
                data.compactMap { d -> IPAddress? in
                    switch d {
                    case .a(let ip), .aaaa(let ip): return ip
                    default: return nil
                    }
                }, result
            )
        }
        switch family {
        case .ipv4: return try await addresses(.a)
        case .ipv6: return try await addresses(.aaaa)
        case .both:
            var found: [IPAddress] = []
            var authentic = true
            var firstError: DNSError?
            for type in [RRType.aaaa, .a] {
                do {
                    let (ips, result) = try await addresses(type)
                    found += ips
                    authentic = authentic && result.authentic
                } catch {
                    if firstError == nil || firstError?.isNotFound == true { firstError = error }
                }
            }
            if found.isEmpty, let firstError { throw firstError }
            return (found, DNSResult(authentic: authentic))
        }
    }

    /// PTR names for an address (RFC 1035 3.5, RFC 3596 2.5).
    public func lookupAddr(_ ip: IPAddress) async throws(DNSError) -> ([DNSName], DNSResult) {
        let name: DNSName
        do {
            name = try DNSName(ip.reverseName)
        } catch {
            throw .invalidName(error.description)
        }
        let (data, result) = try await self.lookup(name, .ptr)
        return (data.compactMap { if case .ptr(let n) = $0 { return n } else { return nil } }, result)
    }

    /// The target of a CNAME record at the name; `notFound` when the name has none.
    public func lookupCNAME(_ name: DNSName) async throws(DNSError) -> (DNSName, DNSResult) {
        let (data, result) = try await self.lookup(name, .cname)
        guard case .cname(let target) = data.first else { throw .notFound(name: name.description, nxdomain: false) }
        return (target, result)
    }

    public func lookupNS(_ name: DNSName) async throws(DNSError) -> ([DNSName], DNSResult) {
        let (data, result) = try await self.lookup(name, .ns)
        return (data.compactMap { if case .ns(let n) = $0 { return n } else { return nil } }, result)
    }

    /// SRV records in priority order (RFC 2782: lowest first; weights are the caller's choice).
    public func lookupSRV(_ name: DNSName) async throws(DNSError) -> ([SRVRecord], DNSResult) {
        let (data, result) = try await self.lookup(name, .srv)
        let records = data.compactMap { d -> SRVRecord? in
            if case .srv(let s) = d { return s }
            return nil
        }
        return (records.sorted { ($0.priority, -Int($0.weight)) < ($1.priority, -Int($1.weight)) }, result)
    }

    public func lookupTLSA(_ name: DNSName) async throws(DNSError) -> ([TLSARecord], DNSResult) {
        let (data, result) = try await self.lookup(name, .tlsa)
        return (data.compactMap { if case .tlsa(let t) = $0 { return t } else { return nil } }, result)
    }
}

public enum IPFamily: Sendable {
    case ipv4, ipv6, both
}
