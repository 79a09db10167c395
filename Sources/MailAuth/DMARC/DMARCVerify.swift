// DMARC evaluation (RFC 7489 6.6): the policy of the From domain applied to the SPF and DKIM
// results of a message, with identifier alignment (RFC 7489 3.1).

import MailDNS

/// RFC 7489 11.2 / RFC 8601 2.7.1: the results.
public enum DMARCStatus: String, Hashable, Sendable {
    /// No DMARC record for the domain.
    case none
    /// An aligned SPF or DKIM pass.
    case pass
    /// No aligned pass.
    case fail
    /// A DNS failure: the record, or a DKIM key or SPF lookup, could not be fetched.
    case temperror
    /// A record with bad syntax.
    case permerror
}

public struct DMARCResult: Hashable, Sendable {
    /// Whether the policy asks to reject (or quarantine) this message: a fail under
    /// p=quarantine or p=reject (sp= for subdomains). The caller decides what it does with it.
    public var reject: Bool
    public var status: DMARCStatus
    public var alignedSPFPass: Bool
    public var alignedDKIMPass: Bool
    /// The domain the record was found at: the From domain or its organizational domain.
    public var domain: String
    public var record: DMARCRecord?
    /// The record's TXT text, as published.
    public var recordText: String
    public var authentic: Bool
    /// Why the status is temperror or permerror, or why no record was found.
    public var problem: String

    /// No record (yet) for `domain`.
    public init(domain: String, problem: String) {
        self.reject = false
        self.status = .none
        self.alignedSPFPass = false
        self.alignedDKIMPass = false
        self.domain = domain
        self.record = nil
        self.recordText = ""
        self.authentic = false
        self.problem = problem
    }

    /// The policy that applies to the From domain: sp= when it is a subdomain of the record's
    /// domain and sp= is present, else p= (RFC 7489 6.3).
    public func policy(fromDomain: String) -> DMARCPolicy? {
        guard let record else { return nil }
        if fromDomain.lowercased() != self.domain, let sp = record.subdomainPolicy { return sp }
        return record.policy
    }
}

public struct DMARCVerifier: Sendable {
    public let resolver: any Resolver
    public let suffixes: PublicSuffixList

    public init(resolver: any Resolver, suffixes: PublicSuffixList) {
        self.resolver = resolver
        self.suffixes = suffixes
    }

    /// RFC 7489 6.6.3: the record at _dmarc.<From domain>, else at _dmarc.<organizational
    /// domain>. Returns the status (none with a record found; temperror or permerror when
    /// the lookup failed), the domain, the record and its text, and the DNSSEC state.
    public func lookup(fromDomain: String) async -> DMARCResult {
        var domain = fromDomain.lowercased()
        if domain.hasSuffix(".") { domain.removeLast() }
        var result = await self.lookupRecord(domain)
        if result.status != .none || result.record != nil { return result }
        let organizational = self.suffixes.organizationalDomain(domain)
        if organizational == domain { return result }
        let authentic = result.authentic
        result = await self.lookupRecord(organizational)
        result.authentic = result.authentic && authentic
        return result
    }

    func lookupRecord(_ domain: String) async -> DMARCResult {
        var result = DMARCResult(domain: domain, problem: "no dmarc dns record")
        let name: DNSName
        do {
            name = try DNSName("_dmarc." + domain)
        } catch {
            result.status = .permerror
            result.problem = "invalid domain: \(error)"
            return result
        }
        let texts: [String]
        do {
            let (found, dns) = try await self.resolver.lookupTXT(name)
            texts = found
            result.authentic = dns.authentic
        } catch let error where error.isNotFound {
            return result
        } catch {
            // RFC 7489 6.6.3: a DNS failure is a temporary error.
            result.status = .temperror
            result.problem = "dns lookup: \(error)"
            return result
        }
        for text in texts {
            let record: DMARCRecord?
            do {
                record = try DMARCRecord.parse(text)
            } catch {
                result.status = .permerror
                result.problem = "malformed dmarc dns record: \(error.message)"
                return result
            }
            guard let record else { continue }
            if result.record != nil {
                // RFC 7489 6.6.3: more than one record means no DMARC policy.
                result.record = nil
                result.recordText = ""
                result.problem = "multiple dmarc dns records"
                return result
            }
            result.record = record
            result.recordText = text
            result.problem = ""
        }
        return result
    }

    /// RFC 7489 6.6: evaluates the message. `dkim` holds the results of all signatures,
    /// `spfIdentity` the domain SPF checked (nil when none was). With `applyPercentage`, the
    /// record's pct= decides at random whether the result is used (`use`); the status is
    /// computed either way.
    public func verify(
        fromDomain: String, dkim: [DKIMResult], spf: SPFStatus, spfIdentity: String?, applyPercentage: Bool = true
    ) async -> (use: Bool, result: DMARCResult) {
        let from = fromDomain.lowercased()
        var result = await self.lookup(fromDomain: from)
        guard let record = result.record else { return (false, result) }
        let use = !applyPercentage || record.percentage == 100 || Int.random(in: 0..<100) < record.percentage
        result.reject = (result.policy(fromDomain: from) ?? .none) != .none
        result.status = .fail
        if spf == .temperror {
            result.status = .temperror
            result.reject = false
        }
        var organizational: [String: String] = [:]
        func org(_ name: String) -> String {
            if let o = organizational[name] { return o }
            let o = self.suffixes.organizationalDomain(name)
            organizational[name] = o
            return o
        }
        // RFC 7489 3.1.2: SPF alignment of the checked domain with the From domain.
        if spf == .pass, let identity = spfIdentity?.lowercased(),
            identity == from || (record.aspf == .relaxed && org(identity) == org(from))
        {
            result.alignedSPFPass = true
        }
        // RFC 7489 3.1.1: DKIM alignment of d= with the From domain.
        for r in dkim {
            if r.status == .temperror {
                result.reject = false
                result.status = .temperror
                continue
            }
            if r.status == .pass, let d = r.signature?.domain.lowercased(),
                d == from || (record.adkim == .relaxed && org(d) == org(from))
            {
                result.alignedDKIMPass = true
                break
            }
        }
        if result.alignedSPFPass || result.alignedDKIMPass {
            result.reject = false
            result.status = .pass
        }
        return (use, result)
    }
}
