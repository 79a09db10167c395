// A check of what a hosted domain publishes in DNS against what the configuration needs (the
// records DomainRecords prints), area by area, with mox's area names: errors for what breaks
// mail, warnings for what weakens it.

import MailAddress
import MailAuth
import MailConfig
import MailDNS
import MailDelivery

public struct DomainCheckResult: Sendable {
    public struct Area: Sendable {
        public var name: String
        public var errors: [String] = []
        public var warnings: [String] = []
    }

    /// In mox's order; areas with nothing to report are included, empty.
    public var areas: [Area] = []

    /// The report `mox config dnscheck` prints: each area with problems, "# name", then its
    /// "error: " and "warning: " lines.
    public var text: String {
        var out = ""
        for area in self.areas where !area.errors.isEmpty || !area.warnings.isEmpty {
            out += "# \(area.name)\n"
            for e in area.errors { out += "error: \(e)\n" }
            for w in area.warnings { out += "warning: \(w)\n" }
            out += "\n"
        }
        return out
    }
}

public struct DomainCheck: Sendable {
    public let config: Config
    public let resolver: any Resolver
    public let suffixes: PublicSuffixList

    public init(config: Config, resolver: any Resolver, suffixes: PublicSuffixList) {
        self.config = config
        self.resolver = resolver
        self.suffixes = suffixes
    }

    public func check(_ domain: Domain, now: Int) async throws(DomainRecordsError) -> DomainCheckResult {
        guard let domainConfig = DomainRecords.domainConfig(self.config, domain) else {
            throw DomainRecordsError("domain \(domain.ascii) not found in domains.conf")
        }
        let d = domain.ascii
        let host = DomainRecords.hostname(self.config)
        let ips = DomainRecords.spfIPs(self.config)
        let resolver = self.resolver
        var result = DomainCheckResult()

        // DNSSEC: without it, the answers below could be forged; DANE needs it.
        var dnssec = DomainCheckResult.Area(name: "DNSSEC")
        do {
            let (_, r) = try await resolver.lookup(try Self.name(d), .soa)
            if !r.authentic {
                dnssec.warnings.append(
                    "The zone of \(d) is not DNSSEC-signed, or the resolver does not validate (run a validating resolver such as unbound)."
                )
            }
        } catch let e as DNSError {
            dnssec.errors.append("Looking up the SOA record of \(d): \(e)")
        } catch {
            dnssec.errors.append("\(error)")
        }
        result.areas.append(dnssec)

        // IPRev (RFC 8601 3): receivers compare the reverse name of our IPs with the host name.
        var iprev = DomainCheckResult.Area(name: "IPRev")
        if ips.isEmpty {
            iprev.warnings.append("No public IPs configured for SMTP listeners (IPs or NATIPs), nothing to check.")
        }
        for ip in ips {
            let r = await IPRev.lookup(ip, resolver: resolver)
            switch r.status {
            case .pass where r.name.lowercased() == host:
                break
            case .pass:
                iprev.errors.append("IP \(ip) has reverse name \(r.name), not the host name \(host).")
            case .fail:
                iprev.errors.append("IP \(ip): \(r.problem); its reverse names: \(r.names.joined(separator: ", ")).")
            case .permerror:
                iprev.errors.append("IP \(ip) has no reverse name; set it to \(host) with the provider of the IP.")
            case .temperror:
                iprev.errors.append("IP \(ip): \(r.problem).")
            }
        }
        result.areas.append(iprev)

        // MX (RFC 5321 5.1): mail for the domain must reach this host.
        var mx = DomainCheckResult.Area(name: "MX")
        do {
            let (records, _) = try await resolver.lookupMX(try Self.name(d))
            if records.isEmpty {
                mx.errors.append("No MX record for \(d); add: \(d). MX 10 \(host).")
            } else if !records.contains(where: { $0.host.text.lowercased() == host }) {
                mx.errors.append(
                    "The MX records of \(d) (\(records.map(\.host.text).joined(separator: ", "))) do not name this host \(host)."
                )
            }
        } catch let e as DNSError where e.isNotFound {
            mx.errors.append("No MX record for \(d); add: \(d). MX 10 \(host).")
        } catch {
            mx.errors.append("Looking up MX records of \(d): \(error)")
        }
        result.areas.append(mx)
        result.areas.append(DomainCheckResult.Area(name: "TLS"))
        result.areas.append(DomainCheckResult.Area(name: "DANE"))

        // SPF (RFC 7208): the domain's record must allow our IPs; the host's too (HELO, DSNs).
        var spf = DomainCheckResult.Area(name: "SPF")
        for ip in ips {
            let args = SPFArgs(
                remoteIP: ip, mailFromLocalpart: "postmaster", mailFromDomain: d, helo: host, heloIsIP: false, localHostname: host
            )
            let (outcome, _, _) = await SPFVerifier(resolver: resolver, now: now).verify(args)
            if outcome.status != .pass {
                spf.errors.append("SPF of \(d) gives \(outcome.status.rawValue) for IP \(ip), not pass.")
            }
            if d != host {
                let hostArgs = SPFArgs(
                    remoteIP: ip, mailFromLocalpart: "", mailFromDomain: "", helo: host, heloIsIP: false, localHostname: host
                )
                let (hostOutcome, _, _) = await SPFVerifier(resolver: resolver, now: now).verify(hostArgs)
                if hostOutcome.status != .pass {
                    spf.errors.append("SPF of the host \(host) gives \(hostOutcome.status.rawValue) for IP \(ip), not pass.")
                }
            }
        }
        result.areas.append(spf)

        // DKIM (RFC 6376 3.6.2.1): each selector's record must hold the configured key.
        var dkim = DomainCheckResult.Area(name: "DKIM")
        let (selectors, keyErrors) = DKIMKeyring.allSelectors(self.config, domain: DomainRecords.configKey(self.config, domain) ?? d)
        for e in keyErrors { dkim.errors.append("\(e)") }
        if selectors.isEmpty && keyErrors.isEmpty {
            dkim.errors.append("No DKIM selectors configured for \(d): its mail is not signed.")
        }
        for sel in selectors {
            let name = "\(sel.selector)._domainkey.\(d)"
            do {
                let (txts, _) = try await resolver.lookupTXT(try Self.name(name))
                let records = txts.compactMap { try? DKIMKeyRecord(parsing: $0) }
                if records.isEmpty {
                    dkim.errors.append("No DKIM key record at \(name); add: \(name). TXT \"\(sel.key.txtRecord(strict: false))\"")
                } else if !records.contains(where: { $0.publicKey == sel.key.publicKeyRecordValue }) {
                    dkim.errors.append("The DKIM record at \(name) has another public key than the configured private key.")
                }
            } catch let e as DNSError where e.isNotFound {
                dkim.errors.append("No DKIM key record at \(name); add: \(name). TXT \"\(sel.key.txtRecord(strict: false))\"")
            } catch {
                dkim.errors.append("Looking up \(name): \(error)")
            }
        }
        result.areas.append(dkim)

        // DMARC (RFC 7489 6.1).
        var dmarcArea = DomainCheckResult.Area(name: "DMARC")
        let dmarc = await DMARCVerifier(resolver: resolver, suffixes: self.suffixes).lookup(fromDomain: d)
        if let record = dmarc.record {
            if dmarc.domain != d {
                dmarcArea.warnings.append("No DMARC record at _dmarc.\(d); the record of \(dmarc.domain) applies.")
            }
            if record.policy == .none {
                dmarcArea.warnings.append("The DMARC policy is p=none: receivers do not refuse messages that fail.")
            }
            if record.subdomainPolicy == DMARCPolicy.none {
                dmarcArea.warnings.append("The DMARC subdomain policy is sp=none.")
            }
            if let report = domainConfig.dmarc {
                let want = "mailto:" + DomainRecords.reportAddress(localpart: report.localpart, domain: report.domain, fallback: domain)
                if !record.aggregateReportAddresses.contains(where: { $0.address.lowercased() == want.lowercased() }) {
                    dmarcArea.warnings.append("The DMARC record does not send aggregate reports (rua=) to \(want), as domains.conf expects.")
                }
            } else if record.aggregateReportAddresses.isEmpty {
                dmarcArea.warnings.append("The DMARC record requests no aggregate reports (rua=).")
            }
        } else if dmarc.status == .temperror {
            dmarcArea.errors.append("Looking up the DMARC record: \(dmarc.problem)")
        } else {
            dmarcArea.errors.append("No DMARC record at _dmarc.\(d)\(dmarc.problem.isEmpty ? "" : ": \(dmarc.problem)").")
        }
        result.areas.append(dmarcArea)

        // TLS reporting (RFC 8460 3): for the host (DANE) and the domain (MTA-STS).
        var hostTLSRPT = DomainCheckResult.Area(name: "Host TLSRPT")
        if let address = DomainRecords.hostTLSRPTAddress(self.config) {
            await self.checkTLSRPT("_smtp._tls.\(host)", address: address, into: &hostTLSRPT)
        }
        result.areas.append(hostTLSRPT)
        var domainTLSRPT = DomainCheckResult.Area(name: "Domain TLSRPT")
        if let tlsrpt = domainConfig.tlsrpt {
            let address = DomainRecords.reportAddress(localpart: tlsrpt.localpart, domain: tlsrpt.domain, fallback: domain)
            await self.checkTLSRPT("_smtp._tls.\(d)", address: address, into: &domainTLSRPT)
        }
        result.areas.append(domainTLSRPT)

        // MTA-STS (RFC 8461 3.1): the record's id and the policy host.
        var sts = DomainCheckResult.Area(name: "MTASTS")
        if let policy = domainConfig.mtasts {
            let name = "_mta-sts.\(d)"
            do {
                let (txts, _) = try await resolver.lookupTXT(try Self.name(name))
                let records = txts.filter { $0.hasPrefix("v=STSv1") }
                if records.count != 1 {
                    sts.errors.append("Want one MTA-STS record at \(name), found \(records.count).")
                } else if !records[0].filter({ $0 != " " }).contains("id=\(policy.policyID)") {
                    sts.errors.append("The MTA-STS record at \(name) (\(records[0])) does not have id=\(policy.policyID).")
                }
            } catch let e as DNSError where e.isNotFound {
                sts.errors.append("No MTA-STS record at \(name); add: \(name). TXT \"v=STSv1; id=\(policy.policyID)\"")
            } catch {
                sts.errors.append("Looking up \(name): \(error)")
            }
            await self.checkPointsHere("mta-sts.\(d)", ips: ips, into: &sts, what: "the MTA-STS policy host")
        }
        result.areas.append(sts)

        // SRV records for client settings (RFC 6186 3.1, RFC 8314 5.1).
        var srv = DomainCheckResult.Area(name: "SRV conf")
        let clientHost = DomainRecords.clientSettingsHost(self.config, domainConfig)
        for (service, port) in [("_imaps._tcp", 993), ("_submissions._tcp", 465)] {
            await self.checkSRV("\(service).\(d)", target: clientHost, port: port, into: &srv)
        }
        result.areas.append(srv)

        var autoconf = DomainCheckResult.Area(name: "Autoconf")
        await self.checkPointsHere("autoconfig.\(d)", ips: ips, into: &autoconf, what: "autoconfig for Thunderbird", warn: true)
        result.areas.append(autoconf)

        var autodiscover = DomainCheckResult.Area(name: "Autodiscover")
        await self.checkSRV("_autodiscover._tcp.\(d)", target: host, port: 443, into: &autodiscover)
        result.areas.append(autodiscover)
        return result
    }

    /// RFC 2782: one of the SRV records at `name` must point to `target` and `port`; a warning
    /// otherwise (clients can still be configured by hand).
    func checkSRV(_ name: String, target: String, port: Int, into area: inout DomainCheckResult.Area) async {
        do {
            let (records, _) = try await self.resolver.lookupSRV(try Self.name(name))
            if !records.contains(where: { $0.target.text.lowercased() == target && Int($0.port) == port }) {
                area.warnings.append("The SRV record \(name) does not point to \(target) port \(port).")
            }
        } catch let e as DNSError where e.isNotFound {
            area.warnings.append("No SRV record \(name); add: \(name). SRV 0 1 \(port) \(target).")
        } catch {
            area.warnings.append("Looking up \(name): \(error)")
        }
    }

    func checkTLSRPT(_ name: String, address: String, into area: inout DomainCheckResult.Area) async {
        do {
            let (txts, _) = try await self.resolver.lookupTXT(try Self.name(name))
            let records = txts.filter { $0.hasPrefix("v=TLSRPTv1") }
            if records.count != 1 {
                area.errors.append("Want one TLSRPT record at \(name), found \(records.count).")
            } else if !records[0].lowercased().contains("mailto:" + address.lowercased()) {
                area.warnings.append("The TLSRPT record at \(name) does not send reports to \(address).")
            }
        } catch let e as DNSError where e.isNotFound {
            area.errors.append("No TLSRPT record at \(name); add: \(name). TXT \"v=TLSRPTv1; rua=mailto:\(address)\"")
        } catch {
            area.errors.append("Looking up \(name): \(error)")
        }
    }

    /// `name` must resolve to one of our IPs (directly or through a CNAME to this host).
    func checkPointsHere(_ name: String, ips: [IPAddress], into area: inout DomainCheckResult.Area, what: String, warn: Bool = false) async {
        var problem: String?
        do {
            let (found, _) = try await self.resolver.lookupIP(try Self.name(name))
            if !ips.isEmpty && !found.contains(where: { ips.contains($0) }) {
                problem = "\(name) (\(what)) resolves to \(found.map(\.description).joined(separator: ", ")), not to this host's IPs."
            }
        } catch let e as DNSError where e.isNotFound {
            problem = "\(name) (\(what)) does not exist; add: \(name). CNAME \(DomainRecords.hostname(self.config))."
        } catch {
            problem = "Looking up \(name): \(error)"
        }
        if let problem {
            if warn { area.warnings.append(problem) } else { area.errors.append(problem) }
        }
    }

    static func name(_ text: String) throws -> DNSName {
        try DNSName(text)
    }
}
