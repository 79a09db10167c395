// The authentication checks of a message from another server (iprev, SPF, DKIM, DMARC), run
// concurrently with lookups shared through the resolver's cache, and what they mean for the
// delivery: the Authentication-Results and Received-SPF header fields, a refusal (DMARC
// p=reject; a verdict that cannot be reached because DNS failed), or the Junk mailbox
// (p=quarantine). The junk filter (next issue) reads the same results.

import MailAddress
import MailAuth
import MailDNS
import MailMessage
import MailMetrics
import Logging
import MailSpool
import SMTPProtocol

/// The SMTP session's facts the checks need.
public struct IncomingOrigin: Sendable {
    public var remoteIP: IPAddress
    public var hello: String
    public var mailFrom: ReversePath

    public init(remoteIP: IPAddress, hello: String, mailFrom: ReversePath) {
        self.remoteIP = remoteIP
        self.hello = hello
        self.mailFrom = mailFrom
    }
}

/// The results of the checks of one incoming message.
public struct MessageVerdict: Sendable {
    public var iprev: IPRevResult
    public var spf: SPFOutcome
    /// The domain SPF checked (MAIL FROM's, or HELO's for the null sender); nil when none.
    public var spfDomain: String?
    public var receivedSPF: ReceivedSPF
    public var dkim: [DKIMResult]
    /// The From header's domain; nil when the message does not have exactly one From address.
    public var fromDomain: String?
    public var dmarc: DMARCResult
    /// Whether the DMARC result is applied (pct= sampling).
    public var dmarcUse: Bool
    public var authResults: AuthResults
    /// Not nil: the message is refused with this reply.
    public var refusal: SMTPReply?
    /// Why, in mox's words for metrics and logs ("dmarc-policy").
    public var refusalReason = ""
    /// DMARC p=quarantine failed: deliver to the Junk mailbox.
    public var quarantine: Bool

    /// The header fields written in front of the delivered message, before Received: RFC 8601
    /// Authentication-Results and RFC 7208 9.1 Received-SPF, in mox's order.
    public var headers: String { self.authResults.header + self.receivedSPF.header }
}

public struct MessageAuthenticator: Sendable {
    public let resolver: any Resolver
    public let suffixes: PublicSuffixList
    /// This host's name: the authserv-id and Received-SPF's receiver.
    public let hostname: String
    /// localserve: a DNS failure never refuses a message (there may be no network at all).
    public let localserve: Bool
    /// The health of the DNS blocklists, shared by all messages.
    public let dnsblHealth: DNSBLHealthCache

    public init(
        resolver: any Resolver, suffixes: PublicSuffixList, hostname: String, localserve: Bool = false,
        dnsblHealth: DNSBLHealthCache = DNSBLHealthCache()
    ) {
        self.resolver = resolver
        self.suffixes = suffixes
        self.hostname = hostname
        self.localserve = localserve
        self.dnsblHealth = dnsblHealth
    }

    /// The first of `zones` (a listener's DNSBLs) that lists `ip`, with its explanation; nil when
    /// none does. As mox: one zone after another (there is no hurry to accept possible spam), each
    /// only when its health check passes, and a failed lookup counts as not listed.
    public func blocklisting(_ ip: IPAddress, zones: [String], log: Logger) async -> (zone: String, explanation: String)? {
        for text in zones {
            guard let zone = try? DNSName(text) else { continue }
            guard await self.dnsblHealth.usable(zone, resolver: self.resolver) else {
                log.info("dnsbl not healthy, skipping", metadata: ["zone": "\(zone.text)"])
                continue
            }
            let result = await DNSBL.measuredLookup(zone: zone, ip: ip, resolver: self.resolver)
            switch result.status {
            case .fail:
                log.info(
                    "rejecting due to listing in dnsbl",
                    metadata: ["zone": "\(zone.text)", "explanation": "\(result.explanation)"]
                )
                return (zone.text, result.explanation)
            case .temperror:
                log.info(
                    "dnsbl lookup",
                    metadata: ["zone": "\(zone.text)", "status": "temperror", "err": "\(result.error.map { "\($0)" } ?? "")"]
                )
            case .pass:
                break
            }
        }
        return nil
    }

    /// Runs the checks on `message` as received from `origin`.
    public func check(_ origin: IncomingOrigin, message: SpooledMessage, now: Int) async -> MessageVerdict {
        let resolver = self.resolver
        let hello = origin.hello
        let heloIsIP = hello.hasPrefix("[")
        var heloName = hello
        if heloIsIP {
            heloName = String(hello.dropFirst().dropLast())
            if heloName.lowercased().hasPrefix("ipv6:") { heloName = String(heloName.dropFirst(5)) }
        }
        let mailbox = origin.mailFrom.mailbox
        var fromDomainOfPath = ""
        if let mailbox, case .domain(let d) = mailbox.host { fromDomainOfPath = d.ascii }
        let args = SPFArgs(
            remoteIP: origin.remoteIP,
            mailFromLocalpart: mailbox?.localpart.value ?? "",
            mailFromDomain: fromDomainOfPath,
            helo: heloName,
            heloIsIP: heloIsIP,
            localHostname: self.hostname
        )
        // RFC 8601 3, RFC 7208, RFC 6376: independent, so at the same time.
        async let iprev = IPRev.lookup(origin.remoteIP, resolver: resolver)
        async let spf = SPFVerifier(resolver: resolver, now: now).received(args)
        async let dkim = Self.verifyDKIM(message, resolver: resolver, now: now)

        let fromDomain = Self.fromDomain(message.scanned.header)
        let (spfOutcome, spfDomain, receivedSPF) = await spf
        let dkimResults = await dkim
        let spfIdentity = receivedSPF.identity == "helo" && heloIsIP ? nil : spfDomain

        var dmarc = DMARCResult(domain: "", problem: "no single from address")
        var dmarcUse = false
        if let fromDomain {
            (dmarcUse, dmarc) = await DMARCVerifier(resolver: resolver, suffixes: self.suffixes).verify(
                fromDomain: fromDomain, dkim: dkimResults, spf: spfOutcome.status, spfIdentity: spfIdentity
            )
        }
        let iprevResult = await iprev

        var auth = AuthResults(hostname: self.hostname)
        auth.methods.append(
            .init(
                "iprev", iprevResult.status.rawValue, comment: Self.dnssec(iprevResult.authentic),
                properties: [.init("policy", "iprev", origin.remoteIP.description)]
            )
        )
        auth.methods += Self.dkimMethods(dkimResults)
        auth.methods.append(
            .init(
                "spf", spfOutcome.status.rawValue, comment: Self.dnssec(spfOutcome.authentic),
                properties: spfIdentity.map { [.init("smtp", receivedSPF.identity, $0, addressLike: true)] } ?? []
            )
        )
        if let fromDomain {
            auth.methods.append(
                .init(
                    "dmarc", dmarc.status.rawValue, comment: Self.dnssec(dmarc.authentic),
                    // RFC 7489 11.2: the From domain as header.from.
                    properties: [.init("header", "from", fromDomain, addressLike: true)]
                )
            )
        } else {
            auth.methods.append(.init("dmarc", DMARCStatus.none.rawValue))
        }

        var verdict = MessageVerdict(
            iprev: iprevResult, spf: spfOutcome, spfDomain: spfDomain, receivedSPF: receivedSPF, dkim: dkimResults,
            fromDomain: fromDomain, dmarc: dmarc, dmarcUse: dmarcUse, authResults: auth, refusal: nil, quarantine: false
        )
        if let fromDomain {
            let policy = dmarc.policy(fromDomain: fromDomain)
            if dmarcUse && dmarc.reject && policy == .reject {
                // RFC 7489 6.6.4, 10.3: refused during the transaction, with 5.7.1.
                verdict.refusal = SMTPReply(550, .deliveryNotAuthorized, "rejecting per dmarc policy")
                verdict.refusalReason = "dmarc-policy"
            } else if dmarcUse && dmarc.reject && policy == .quarantine {
                verdict.quarantine = true
            } else if dmarc.status == DMARCStatus.temperror && !self.localserve && (policy == nil || policy != DMARCPolicy.none) {
                // RFC 7489 6.6.3: a DNS failure gives no verdict; with a policy that could refuse
                // or quarantine (or none known yet), the sender is asked to try again.
                verdict.refusal = SMTPReply(
                    451, EnhancedCode(class: 4, subject: 7, detail: 0), "temporary error verifying message authentication, try again later"
                )
                verdict.refusalReason = "dmarc-policy"
            }
        }
        return verdict
    }

    static func dnssec(_ authentic: Bool) -> String { authentic ? "with dnssec" : "without dnssec" }

    /// One method per signature (RFC 8601 2.7.1, with RFC 6008's header.b to tell them apart),
    /// or "dkim=none" without signatures.
    static func dkimMethods(_ results: [DKIMResult]) -> [AuthResults.Method] {
        if results.isEmpty {
            return [.init("dkim", "none", reason: "no dkim signatures")]
        }
        return results.map { r in
            guard let sig = r.signature else {
                return .init("dkim", r.status.rawValue, reason: r.problem)
            }
            var comment = ""
            if let bits = r.rsaBits {
                comment = "\(bits) bit rsa, "
            }
            comment += Self.dnssec(r.authentic)
            // RFC 6008 2: at least 8 characters of the signature, unique among them.
            let b = String(Base64.encode(sig.signature).prefix(12))
            var properties: [AuthResults.Property] = [
                .init("header", "d", sig.domain, addressLike: true),
                .init("header", "s", sig.selector, addressLike: true),
                .init("header", "a", sig.algorithm.rawValue),
                .init("header", "b", b),
            ]
            if !sig.identity.isEmpty {
                properties.append(.init("header", "i", sig.identity, addressLike: true))
            }
            return .init("dkim", r.status.rawValue, comment: comment, reason: r.problem, properties: properties)
        }
    }

    /// RFC 7489 6.6.1: the domain of the single From address; nil for none or several.
    public static func fromDomain(_ header: Header) -> String? {
        let fields = header.values("From")
        guard fields.count == 1 else { return nil }
        let mailboxes = AddressList.mailboxes(fields[0])
        guard mailboxes.count == 1, let address = mailboxes[0].address else { return nil }
        return address.domain.ascii
    }

    /// RFC 6376 6: every signature, the body read from the spool file in chunks.
    static func verifyDKIM(_ message: SpooledMessage, resolver: any Resolver, now: Int) async -> [DKIMResult] {
        let bodyStart = message.scanned.root.bodyStart
        guard let header = try? message.read(offset: 0, count: bodyStart) else {
            return [DKIMResult(status: .temperror, signature: nil, record: nil, problem: "reading message", authentic: false)]
        }
        return await DKIMVerifier(resolver: resolver, now: now).verify(header: header, body: message.bodySource(from: bodyStart))
    }
}

extension DNSBL {
    /// `lookup`, with its duration recorded in mox_dnsbl_lookup_duration_seconds: for incoming
    /// mail and for the monitor alike.
    public static func measuredLookup(zone: DNSName, ip: IPAddress, resolver: any Resolver) async -> DNSBLResult {
        let start = ContinuousClock.now
        let result = await Self.lookup(zone: zone, ip: ip, resolver: resolver)
        MoxMetrics.dnsblLookup(zone: zone.text, status: result.status.rawValue, seconds: (ContinuousClock.now - start).seconds)
        return result
    }
}

extension SpooledMessage {
    /// The bytes from `offset` to the end, handed out in chunks of 64 KiB.
    public func bodySource(from offset: Int) -> DKIMBodySource {
        { sink in
            var at = offset
            while at < self.size {
                let chunk = try self.read(offset: at, count: 65536)
                if chunk.isEmpty { break }
                sink(chunk[...])
                at += chunk.count
            }
        }
    }
}
