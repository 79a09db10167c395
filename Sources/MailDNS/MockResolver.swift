// A resolver answering from a table, for tests of everything that uses DNS: records per name
// and type, names that fail in a chosen way, and whether answers are DNSSEC-authentic.

import Synchronization

public final class MockResolver: Resolver {
    struct State {
        var records: [Key: [RData]] = [:]
        var failures: [DNSName: DNSError] = [:]
        var authentic: Set<DNSName> = []
        var queries: [DNSQuestion] = []
    }

    struct Key: Hashable {
        var name: DNSName
        var type: RRType
    }

    let state = Mutex(State())

    public init() {}

    /// Adds a record; a CNAME makes lookups of other types at the name follow it.
    public func add(_ name: String, _ data: RData) {
        guard let n = try? DNSName(name) else { return }
        let type = Self.type(of: data)
        self.state.withLock { $0.records[Key(name: n, type: type), default: []].append(data) }
    }

    /// TXT records, each given as one string (split in 255-octet strings on the wire).
    public func addTXT(_ name: String, _ texts: String...) {
        for text in texts {
            let bytes = Array(text.utf8)
            let strings = stride(from: 0, to: max(bytes.count, 1), by: 255).map { Array(bytes[$0..<min($0 + 255, bytes.count)]) }
            self.add(name, .txt(strings))
        }
    }

    /// Every query for the name fails with `error`.
    public func fail(_ name: String, _ error: DNSError) {
        guard let n = try? DNSName(name) else { return }
        self.state.withLock { $0.failures[n] = error }
    }

    /// Answers for the name carry the AD bit.
    public func setAuthentic(_ name: String) {
        guard let n = try? DNSName(name) else { return }
        _ = self.state.withLock { $0.authentic.insert(n) }
    }

    /// The questions asked so far, in order.
    public var queries: [DNSQuestion] { self.state.withLock { $0.queries } }

    public func query(_ name: DNSName, _ type: RRType) async throws(DNSError) -> DNSAnswer {
        let result: Result<DNSAnswer, DNSError> = self.state.withLock { state in
            state.queries.append(DNSQuestion(name: name, type: type))
            var current = name
            var chain: [ResourceRecord] = []
            var authentic = state.authentic.contains(name)
            while true {
                if let failure = state.failures[current] { return .failure(failure) }
                if type != .cname, chain.count < 16, let cname = state.records[Key(name: current, type: .cname)]?.first,
                    case .cname(let target) = cname
                {
                    chain.append(ResourceRecord(name: current, type: .cname, ttl: 300, data: cname))
                    current = target
                    authentic = authentic && state.authentic.contains(current)
                    continue
                }
                break
            }
            let records = (state.records[Key(name: current, type: type)] ?? []).map {
                ResourceRecord(name: current, type: type, ttl: 300, data: $0)
            }
            let exists = state.records.keys.contains { $0.name == current || $0.name.isSubdomain(of: current) }
            return .success(
                DNSAnswer(
                    rcode: exists ? .noError : .nameError, records: records, canonicalName: current, cnames: chain,
                    authentic: authentic
                )
            )
        }
        return try result.get()
    }

    static func type(of data: RData) -> RRType {
        switch data {
        case .a: return .a
        case .aaaa: return .aaaa
        case .ns: return .ns
        case .cname: return .cname
        case .ptr: return .ptr
        case .mx: return .mx
        case .txt: return .txt
        case .srv: return .srv
        case .soa: return .soa
        case .tlsa: return .tlsa
        case .other: return RRType(0)
        }
    }
}

/// Answers questions about a few names from a table and passes the rest on: localserve uses it
/// to publish SPF and DKIM records for its own domains without any DNS server.
public struct OverlayResolver: Resolver {
    public let base: any Resolver
    public let overlay: MockResolver
    let names: Set<DNSName>

    /// `overlay` answers for `names` (any type); everything else goes to `base`.
    public init(base: any Resolver, overlay: MockResolver, names: [String]) {
        self.base = base
        self.overlay = overlay
        self.names = Set(names.compactMap { try? DNSName($0) })
    }

    public func query(_ name: DNSName, _ type: RRType) async throws(DNSError) -> DNSAnswer {
        if self.names.contains(name) {
            return try await self.overlay.query(name, type)
        }
        return try await self.base.query(name, type)
    }
}
