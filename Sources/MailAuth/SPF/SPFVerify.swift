// SPF evaluation, check_host() of RFC 7208 4, over any MailDNS.Resolver.

import MailAddress
import MailDNS

/// RFC 7208 2.6: the results.
public enum SPFStatus: String, Hashable, Sendable {
    case none, neutral, pass, fail, softfail, temperror, permerror
}

/// What the SMTP server knows when it checks SPF (RFC 7208 4.1).
public struct SPFArgs: Sendable {
    public var remoteIP: IPAddress
    /// MAIL FROM's localpart and domain; empty for the null reverse-path.
    public var mailFromLocalpart: String
    public var mailFromDomain: String
    /// The EHLO/HELO argument: a domain, or an address literal's IP text.
    public var helo: String
    public var heloIsIP: Bool
    /// This host's name (for the r macro and Received-SPF's receiver=).
    public var localHostname: String

    public init(remoteIP: IPAddress, mailFromLocalpart: String, mailFromDomain: String, helo: String, heloIsIP: Bool, localHostname: String) {
        self.remoteIP = remoteIP
        self.mailFromLocalpart = mailFromLocalpart
        self.mailFromDomain = mailFromDomain
        self.helo = helo
        self.heloIsIP = heloIsIP
        self.localHostname = localHostname
    }
}

/// The outcome of a check: the result, what decided it, and the problem for the errors.
public struct SPFOutcome: Hashable, Sendable {
    public var status: SPFStatus
    /// The mechanism that matched ("ip4", "include", ...), "default" when none did, empty when
    /// there was no record or an error.
    public var mechanism: String
    /// For fail, the explanation from the record's exp= (RFC 7208 6.2), if any.
    public var explanation: String
    /// Why the result is temperror or permerror (or none), for logs and Received-SPF.
    public var problem: String
    /// Whether every DNS answer used was DNSSEC-authentic.
    public var authentic: Bool
}

/// One check_host() evaluation with its shared lookup counters.
public struct SPFVerifier: Sendable {
    public let resolver: any Resolver
    /// RFC 7208 4.6.4: at most 10 terms that cause DNS queries, and at most 2 lookups that
    /// return nothing ("void lookups").
    public static let maxLookups = 10
    public static let maxVoidLookups = 2
    /// Seconds since the epoch, for the t macro (tests set it).
    public var now: Int

    public init(resolver: any Resolver, now: Int) {
        self.resolver = resolver
        self.now = now
    }

    /// RFC 7208 2.3, 2.4: checks MAIL FROM's domain, or with the null reverse-path the HELO
    /// name as postmaster@helo. Returns the outcome, the domain checked (nil when there was
    /// nothing to check: null sender and an IP literal in EHLO), and whether HELO was used.
    public func verify(_ args: SPFArgs) async -> (outcome: SPFOutcome, domain: String?, identity: String) {
        // RFC 7208 4.3: a sender without a localpart is taken as postmaster.
        var localpart = args.mailFromLocalpart.isEmpty ? "postmaster" : args.mailFromLocalpart
        var domain = args.mailFromDomain
        var identity = "mailfrom"
        if domain.isEmpty {
            guard !args.heloIsIP, !args.helo.isEmpty else {
                return (SPFOutcome(status: .none, mechanism: "", explanation: "", problem: "", authentic: false), nil, "mailfrom")
            }
            // RFC 7208 2.4: the null reverse-path is checked as postmaster@helo.
            localpart = "postmaster"
            domain = args.helo
            identity = "helo"
        }
        var state = State(
            values: SPFMacroValues(
                localpart: localpart, senderDomain: domain, domain: domain, ip: args.remoteIP, helo: args.helo,
                receiver: args.localHostname, now: self.now
            )
        )
        let outcome = await self.checkHost(domain: domain, state: &state, top: true)
        return (outcome, domain, identity)
    }

    struct State {
        var values: SPFMacroValues
        var lookups = 0
        var voidLookups = 0
        var authentic = true
        /// The IP's validated names, once the p macro needed them.
        var validated: [DNSName]?
    }

    /// An error that ends the evaluation with that result.
    struct Abort: Error {
        var status: SPFStatus
        var problem: String
    }

    func checkHost(domain: String, state: inout State, top: Bool) async -> SPFOutcome {
        func outcome(_ status: SPFStatus, _ mechanism: String = "", _ problem: String = "", _ explanation: String = "") -> SPFOutcome {
            SPFOutcome(status: status, mechanism: mechanism, explanation: explanation, problem: problem, authentic: state.authentic)
        }
        // RFC 7208 4.3: a domain that is not a valid multi-label name gives none.
        guard let name = Self.validDomain(domain) else {
            return outcome(.none, "", "invalid domain \"\(domain)\"")
        }
        let record: SPFRecord
        switch await self.lookupRecord(name, state: &state) {
        case .failure(let abort):
            return outcome(abort.status, "", abort.problem)
        case .success(let r):
            record = r
        }
        let saved = state.values.domain
        state.values.domain = name.text
        defer { state.values.domain = saved }
        do {
            for directive in record.directives {
                if try await self.matches(directive.mechanism, state: &state) {
                    let status = directive.qualifier.result
                    var explanation = ""
                    if status == .fail, top, let exp = record.explanation {
                        explanation = await self.explanation(exp, state: &state)
                    }
                    return outcome(status, directive.mechanism.name, "", explanation)
                }
            }
            // RFC 7208 6.1: redirect only when no mechanism matched (and "all" is absent).
            if let redirect = record.redirect {
                try self.countLookup(&state)
                let target = try await self.expandDomain(redirect, state: &state)
                var result = await self.checkHost(domain: target, state: &state, top: top)
                // RFC 7208 6.1: a redirect target without a record is a permerror.
                if result.status == .none {
                    result.status = .permerror
                    result.problem = "redirect to \(target) without spf record"
                }
                return result
            }
            return outcome(.neutral, "default")
        } catch let abort as Abort {
            return outcome(abort.status, "", abort.problem)
        } catch {
            return outcome(.temperror, "", "\(error)")
        }
    }

    /// RFC 7208 4.4, 4.5: the TXT records at the name, exactly one of which is SPF.
    func lookupRecord(_ name: DNSName, state: inout State) async -> Result<SPFRecord, Abort> {
        let texts: [String]
        do {
            let (found, result) = try await self.resolver.lookupTXT(name)
            texts = found
            state.authentic = state.authentic && result.authentic
        } catch {
            // The error does not carry the answer's AD bit: not known to be authentic.
            state.authentic = false
            if error.isNotFound { return .failure(Abort(status: .none, problem: "no spf record for \(name.text)")) }
            return .failure(Abort(status: .temperror, problem: "\(error)"))
        }
        let spf = texts.filter(SPFRecord.isSPF)
        guard !spf.isEmpty else { return .failure(Abort(status: .none, problem: "no spf record for \(name.text)")) }
        guard spf.count == 1 else { return .failure(Abort(status: .permerror, problem: "multiple spf records for \(name.text)")) }
        do {
            return .success(try SPFRecord(parsing: spf[0]))
        } catch {
            return .failure(Abort(status: .permerror, problem: "\(name.text): \(error)"))
        }
    }

    func countLookup(_ state: inout State) throws(Abort) {
        state.lookups += 1
        guard state.lookups <= Self.maxLookups else {
            throw Abort(status: .permerror, problem: "more than \(Self.maxLookups) dns lookups")
        }
    }

    func countVoid(_ state: inout State) throws(Abort) {
        state.voidLookups += 1
        guard state.voidLookups <= Self.maxVoidLookups else {
            throw Abort(status: .permerror, problem: "more than \(Self.maxVoidLookups) void lookups")
        }
    }

    /// A DNS failure during evaluation is temperror (RFC 7208 5); not found counts as a void
    /// lookup and gives no records.
    func records<T>(_ state: inout State, _ lookup: () async throws(DNSError) -> ([T], DNSResult)) async throws(Abort) -> [T] {
        let outcome: Result<([T], DNSResult), DNSError>
        do throws(DNSError) {
            outcome = .success(try await lookup())
        } catch {
            outcome = .failure(error)
        }
        switch outcome {
        case .success(let (found, result)):
            state.authentic = state.authentic && result.authentic
            if found.isEmpty { try self.countVoid(&state) }
            return found
        case .failure(let error):
            if error.isNotFound {
                try self.countVoid(&state)
                return []
            }
            throw Abort(status: .temperror, problem: "\(error)")
        }
    }

    func matches(_ mechanism: SPFMechanism, state: inout State) async throws -> Bool {
        let ip = state.values.ip.unmapped
        switch mechanism {
        case .all:
            return true
        case .ip4(let network, let prefix):
            return ip.isIPv4 && Self.inNetwork(ip, network, prefix)
        case .ip6(let network, let prefix):
            return !ip.isIPv4 && Self.inNetwork(ip, network, prefix)
        case .include(let spec):
            try self.countLookup(&state)
            let target = try await self.expandDomain(spec, state: &state)
            // RFC 7208 5.2: the included check's result decides whether it matches.
            let inner = await self.checkHost(domain: target, state: &state, top: false)
            switch inner.status {
            case .pass: return true
            case .fail, .softfail, .neutral: return false
            case .temperror: throw Abort(status: .temperror, problem: inner.problem)
            case .permerror: throw Abort(status: .permerror, problem: inner.problem)
            case .none: throw Abort(status: .permerror, problem: "include of \(target) without spf record")
            }
        case .a(let spec, let ip4, let ip6):
            try self.countLookup(&state)
            guard let target = try await self.targetName(spec, state: &state) else { return false }
            let addresses = try await self.records(&state) { () async throws(DNSError) in
                try await self.resolver.lookupIP(target, family: ip.isIPv4 ? .ipv4 : .ipv6)
            }
            return addresses.contains { Self.inNetwork(ip, $0, ip.isIPv4 ? ip4 ?? 32 : ip6 ?? 128) }
        case .mx(let spec, let ip4, let ip6):
            try self.countLookup(&state)
            guard let target = try await self.targetName(spec, state: &state) else { return false }
            let hosts = try await self.records(&state) { () async throws(DNSError) in try await self.resolver.lookupMX(target) }
            // RFC 7208 4.6.4: more than 10 MX names is a permerror; RFC 7505: null MX has none.
            guard hosts.count <= 10 else { throw Abort(status: .permerror, problem: "more than 10 mx records for \(target.text)") }
            for mx in hosts where mx.host != .root {
                let addresses = try await self.records(&state) { () async throws(DNSError) in
                    try await self.resolver.lookupIP(mx.host, family: ip.isIPv4 ? .ipv4 : .ipv6)
                }
                if addresses.contains(where: { Self.inNetwork(ip, $0, ip.isIPv4 ? ip4 ?? 32 : ip6 ?? 128) }) { return true }
            }
            return false
        case .ptr(let spec):
            try self.countLookup(&state)
            guard let target = try await self.targetName(spec, state: &state) else { return false }
            // RFC 7208 5.5: a validated name equal to or below the target.
            let names = try await self.validatedNames(state: &state)
            return names.contains { $0 == target || $0.isSubdomain(of: target) }
        case .exists(let spec):
            try self.countLookup(&state)
            let target = try await self.expandDomain(spec, state: &state)
            guard let name = Self.validDomain(target) else { return false }
            // RFC 7208 5.7: always an A lookup, whatever the connection's address family.
            let addresses = try await self.records(&state) { () async throws(DNSError) in
                try await self.resolver.lookupIP(name, family: .ipv4)
            }
            return !addresses.isEmpty
        }
    }

    /// RFC 7208 5.5: the PTR names of the IP whose forward lookup leads back to it, from the
    /// first 10 PTR records. Errors in forward lookups are ignored.
    func validatedNames(state: inout State) async throws(Abort) -> [DNSName] {
        let ip = state.values.ip.unmapped
        let names = try await self.records(&state) { () async throws(DNSError) in try await self.resolver.lookupAddr(ip) }
        var validated: [DNSName] = []
        for name in names.prefix(10) {
            if let (addresses, _) = try? await self.resolver.lookupIP(name, family: ip.isIPv4 ? .ipv4 : .ipv6),
                addresses.contains(ip)
            {
                validated.append(name)
            }
        }
        return validated
    }

    /// The domain a, mx and ptr look at: the expanded domain-spec, or the current domain. Nil
    /// when the expansion is not a valid name: nothing matches it (the openspf suite's
    /// invalid-hello-macro: the syntax is checked before expansion, not after).
    func targetName(_ spec: String?, state: inout State) async throws(Abort) -> DNSName? {
        guard let spec else { return Self.validDomain(state.values.domain) }
        return Self.validDomain(try await self.expandDomain(spec, state: &state))
    }

    /// RFC 7208 7.3: the p macro, a validated name of the IP: one equal to or below the domain
    /// being checked if there is one, else the first; "unknown" without any (DNS errors too).
    func validatedName(state: inout State) async -> String {
        if state.validated == nil {
            state.validated = (try? await self.validatedNames(state: &state)) ?? []
        }
        let names = state.validated ?? []
        let domain = try? DNSName(state.values.domain)
        let below = names.first { name in domain.map { name == $0 || name.isSubdomain(of: $0) } ?? false }
        return (below ?? names.first)?.text ?? "unknown"
    }

    /// Expands a domain-spec; RFC 7208 7.3: over 253 octets, labels are dropped from the left.
    func expandDomain(_ spec: String, state: inout State) async throws(Abort) -> String {
        if SPFMacro.usesP(spec) { state.values.validatedName = await self.validatedName(state: &state) }
        let values = state.values
        var text: String
        do {
            text = try SPFMacro.expand(spec, explanation: false) { SPFMacro.letterValue($0, values) }
        } catch {
            throw Abort(status: .permerror, problem: error.description)
        }
        if text.hasSuffix(".") { text.removeLast() }
        while text.utf8.count > 253, let dot = text.firstIndex(of: ".") {
            text = String(text[text.index(after: dot)...])
        }
        return text
    }

    /// RFC 7208 6.2: the explanation string, from the TXT record at the exp= domain. Any
    /// problem means no explanation, never a different result.
    func explanation(_ spec: String, state: inout State) async -> String {
        guard let domain = try? await self.expandDomain(spec, state: &state), let name = Self.validDomain(domain),
            let (texts, _) = try? await self.resolver.lookupTXT(name), texts.count == 1
        else { return "" }
        var values = state.values
        if SPFMacro.usesP(texts[0]) { values.validatedName = await self.validatedName(state: &state) }
        let expanded = try? SPFMacro.expand(texts[0], explanation: true) { SPFMacro.letterValue($0, values) }
        return expanded ?? ""
    }

    /// RFC 7208 4.3: a name of at least two labels, each 1 to 63 octets; nil otherwise.
    static func validDomain(_ text: String) -> DNSName? {
        let trimmed = text.hasSuffix(".") ? String(text.dropLast()) : text
        guard let name = try? DNSName(trimmed), name.labels.count >= 2 else { return nil }
        return name
    }

    static func inNetwork(_ ip: IPAddress, _ network: IPAddress, _ prefix: Int) -> Bool {
        let a = ip.unmapped.bytes
        let b = network.unmapped.bytes
        guard a.count == b.count, prefix <= a.count * 8 else { return false }
        var bits = prefix
        for i in 0..<a.count where bits > 0 {
            let mask: UInt8 = bits >= 8 ? 0xff : UInt8(truncatingIfNeeded: 0xff << (8 - bits))
            if a[i] & mask != b[i] & mask { return false }
            bits -= 8
        }
        return true
    }
}
