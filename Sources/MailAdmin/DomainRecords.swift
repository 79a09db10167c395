// The DNS records a hosted domain needs, as zone-file lines with comments, from the
// configuration: MX, SPF for the domain and the host, the DKIM keys of every selector, DMARC,
// MTA-STS, TLS reporting, and the names mail clients look up for their settings (RFC 6186 SRV,
// autoconfig, autodiscover). `mox config dnsrecords` prints them; `mox config dnscheck` compares
// what is published with the same expectations.

import MailAddress
import MailAuth
import MailConfig
import MailDelivery

public struct DomainRecordsError: Error, CustomStringConvertible, Sendable {
    public var description: String

    public init(_ description: String) { self.description = description }
}

public enum DomainRecords {
    /// The lines to put in the domain's zone. `hasDNSSEC`: whether the zone is signed, which
    /// only changes the advice given.
    public static func lines(_ config: Config, domain: Domain, hasDNSSEC: Bool) throws(DomainRecordsError) -> [String] {
        guard let domainConfig = Self.domainConfig(config, domain) else {
            throw DomainRecordsError("domain \(domain.ascii) not found in domains.conf")
        }
        let d = domain.ascii
        let host = Self.hostname(config)
        let clientHost = Self.clientSettingsHost(config, domainConfig)
        var out: [String] = [
            "; Records for \(d), in zone file syntax. A short TTL makes mistakes cheap to fix",
            "; while setting up; raise it once everything works.",
            "$TTL 300",
            "",
        ]
        if !hasDNSSEC {
            out += [
                "; The zone of \(d) does not appear to be DNSSEC-signed. Signing it protects the",
                "; records below against forgery and is needed before DANE can be used.",
                "",
            ]
        }

        if d != host {
            // RFC 7208 2.3: a HELO identity check; DSNs from the host then pass SPF for it.
            out += [
                "; Once for the mail host itself (for the first domain only): it may send as itself.",
                "\(Self.pad(host + ".", 20 + d.count)) TXT \"v=spf1 a -all\"",
                "",
            ]
            if let uri = Self.hostTLSRPTAddress(config) {
                out += [
                    "; Once for the mail host: where other servers report TLS problems delivering to it.",
                    "_smtp._tls.\(Self.pad(host + ".", 20 + d.count - "_smtp._tls.".count))         TXT \"v=TLSRPTv1; rua=mailto:\(uri)\"",
                    "",
                ]
            }
        }

        out += [
            "; Mail for \(d) goes to this host.",
            "\(d).                    MX 10 \(host).",
            "",
        ]

        let (selectors, errors) = DKIMKeyring.allSelectors(config, domain: Self.configKey(config, domain) ?? d)
        if let error = errors.first {
            throw DomainRecordsError("dkim key: \(error)")
        }
        if !selectors.isEmpty {
            let signing = domainConfig.dkim.sign
            out += [
                "; DKIM public keys. Outgoing mail is signed with the selectors listed in Sign (\(signing.joined(separator: ", ")));",
                "; the others are published ahead of time, so switching keys is only a configuration change.",
            ]
            for sel in selectors {
                let txt = sel.key.txtRecord(strict: false)
                if txt.count > 100 {
                    out += [
                        "; This record is longer than one TXT string should be, so it is split in parts",
                        "; below. In a DNS provider's web form, enter the parts joined, without quotes",
                        "; and parentheses.",
                    ]
                }
                out.append("\(sel.selector)._domainkey.\(d).   TXT \(Self.txtStrings(txt))")
            }
            out.append("")
        }

        var spf = "v=spf1"
        for ip in Self.spfIPs(config) {
            spf += " \(ip.isIPv4 ? "ip4" : "ip6"):\(ip)"
        }
        spf += " mx ~all"
        var dmarc = DMARCRecord()
        dmarc.policy = .reject
        if let report = domainConfig.dmarc {
            let address = Self.reportAddress(localpart: report.localpart, domain: report.domain, fallback: domain)
            dmarc.aggregateReportAddresses = [DMARCURI(address: "mailto:" + address, maxSize: 10, unit: "m")]
        }
        out += [
            "; SPF: the IPs of this host, and the MX hosts, may send as \(d). ~all (softfail)",
            "; rather than -all, so that servers that refuse on an SPF fail still get to DKIM and DMARC.",
            "\(d).                    TXT \"\(spf)\"",
            "",
            "; DMARC: refuse mail from \(d) that has neither an aligned DKIM signature nor an",
            "; aligned SPF pass. If members of mailing lists that alter messages never get your",
            "; mail, p=none (only reports) is the gentler policy.",
            "_dmarc.\(d).             TXT \"\(dmarc)\"",
            "",
        ]

        if let sts = domainConfig.mtasts {
            // RFC 8461 3.1 (the TXT record), 3.2 (the policy host).
            out += [
                "; MTA-STS: senders fetch the policy from https://mta-sts.\(d)/ and then require",
                "; verified TLS to the MX hosts it lists.",
                "mta-sts.\(d).            CNAME \(host).",
                "_mta-sts.\(d).           TXT \"v=STSv1; id=\(sts.policyID)\"",
                "",
            ]
        } else {
            out += [
                "; No MTA-STS: the domain has no MTASTS in domains.conf.",
                "",
            ]
        }

        if let tlsrpt = domainConfig.tlsrpt {
            // RFC 8460 3.
            let address = Self.reportAddress(localpart: tlsrpt.localpart, domain: tlsrpt.domain, fallback: domain)
            out += [
                "; TLS reporting: where senders report failures to use TLS for \(d).",
                "_smtp._tls.\(d).         TXT \"v=TLSRPTv1; rua=mailto:\(address)\"",
                "",
            ]
        }

        if clientHost != host {
            out += [
                "; The name mail clients are configured with; a CNAME, so that moving to another",
                "; server later does not mean changing every client.",
                "\(Self.pad(clientHost + ".", 20 + d.count)) CNAME \(host).",
                "",
            ]
        }

        out += [
            "; Automatic account setup: autoconfig for Thunderbird, autodiscover for Microsoft clients.",
            "autoconfig.\(d).         CNAME \(host).",
            "_autodiscover._tcp.\(d). SRV 0 1 443 \(host).",
            "",
            // RFC 6186 3.1, RFC 8314 5.1: implicit TLS for IMAP and submission.
            "; Where clients find IMAP and submission, both with TLS (RFC 6186, RFC 8314).",
            "_imaps._tcp.\(d).        SRV 0 1 993 \(clientHost).",
            "_submissions._tcp.\(d).  SRV 0 1 465 \(clientHost).",
            "",
            // RFC 6186 3.4: a target of "." says the service is not offered.
            "; Optional: no plain-text IMAP or submission, and no POP3, are offered.",
            "_imap._tcp.\(d).         SRV 0 0 0 .",
            "_submission._tcp.\(d).   SRV 0 0 0 .",
            "_pop3._tcp.\(d).         SRV 0 0 0 .",
            "_pop3s._tcp.\(d).        SRV 0 0 0 .",
        ]
        return out
    }

    /// The domain's entry, by its name as written in domains.conf (ASCII or Unicode).
    static func domainConfig(_ config: Config, _ domain: Domain) -> DomainConfig? {
        Self.configKey(config, domain).flatMap { config.dynamicConfig.domains[$0] }
    }

    static func configKey(_ config: Config, _ domain: Domain) -> String? {
        config.dynamicConfig.domains.keys.first { Domain.parse($0)?.ascii == domain.ascii }
    }

    /// mox.conf's Hostname in ASCII, lowercase.
    public static func hostname(_ config: Config) -> String {
        Domain.parse(config.staticConfig.hostname)?.ascii ?? config.staticConfig.hostname.lowercased()
    }

    /// The host clients are told to use: the domain's ClientSettingsDomain, else the mail host.
    static func clientSettingsHost(_ config: Config, _ domain: DomainConfig) -> String {
        guard !domain.clientSettingsDomain.isEmpty, let d = Domain.parse(domain.clientSettingsDomain) else {
            return Self.hostname(config)
        }
        return d.ascii
    }

    /// The IPs others see mail from: of each listener with SMTP, its NATIPs or else its IPs
    /// (without 0.0.0.0 and ::; none for a listener behind NAT without NATIPs), then the IPs of
    /// SOCKS transports.
    public static func spfIPs(_ config: Config) -> [IPAddress] {
        var ips: [IPAddress] = []
        for name in config.staticConfig.listeners.keys.sorted() {
            let listener = config.staticConfig.listeners[name]!
            guard listener.smtp.enabled, !listener.ipsNATed else { continue }
            for text in listener.natIPs.isEmpty ? listener.ips : listener.natIPs {
                guard let ip = IPAddress(text), !ip.isUnspecified, !ips.contains(ip) else { continue }
                ips.append(ip)
            }
        }
        for name in config.staticConfig.transports.keys.sorted() {
            for text in config.staticConfig.transports[name]!.socks?.remoteIPs ?? [] {
                guard let ip = IPAddress(text), !ips.contains(ip) else { continue }
                ips.append(ip)
            }
        }
        return ips
    }

    static func hostTLSRPTAddress(_ config: Config) -> String? {
        let localpart = config.staticConfig.hostTLSRPT.localpart
        guard !localpart.isEmpty else { return nil }
        return Localpart(uncheckedValue: localpart).formatted + "@" + Self.hostname(config)
    }

    static func reportAddress(localpart: String, domain: String, fallback: Domain) -> String {
        let d = domain.isEmpty ? fallback.ascii : (Domain.parse(domain)?.ascii ?? domain)
        return Localpart(uncheckedValue: localpart).formatted + "@" + d
    }

    /// A TXT value as zone-file strings: one quoted string, or for a long value parts of 100
    /// characters in parentheses (RFC 1035 5.1), one per line.
    public static func txtStrings(_ value: String) -> String {
        let chars = Array(value)
        guard chars.count > 100 else { return "\"\(value)\"" }
        var out = "(\n"
        var at = 0
        while at < chars.count {
            let end = min(at + 100, chars.count)
            out += " \t\t\"" + String(chars[at..<end]) + "\"\n"
            at = end
        }
        return out + "\t)"
    }

    static func pad(_ s: String, _ width: Int) -> String {
        s.count >= width ? s : s + String(repeating: " ", count: width - s.count)
    }
}
