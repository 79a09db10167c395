import DNSResolver
import MailAddress
import MailAuth
import MailDNS
import MailDelivery
import MailMessage
import MoxCommands

#if canImport(Glibc)
import Glibc
#endif

/// The public suffix list for DMARC's organizational domains; a warning when it is missing.
func commandPublicSuffixes() -> PublicSuffixList {
    switch PublicSuffixList.load() {
    case .success(let list): return list
    case .failure(let error):
        writeStderr("mox: warning: \(error); organizational domains are the last two labels\n")
        return PublicSuffixList()
    }
}

extension DMARCLookup: RunnableCommand {
    func execute() throws {
        let domain = try parseDomainArgument(self.domain)
        let verifier = DMARCVerifier(resolver: commandResolver(), suffixes: commandPublicSuffixes())
        let result = try runAsync { () async in await verifier.lookup(fromDomain: domain) }
        guard result.record != nil else {
            try fail("dmarc lookup domain \(domain): dmarc: \(result.problem)")
        }
        print("dmarc record at domain \(result.domain): \(result.recordText)")
        print("(\(dnssec(result.authentic)))")
    }
}

extension DMARCVerify: RunnableCommand {
    func execute() throws {
        guard let ip = IPAddress(self.remoteIP) else { try fail("invalid remoteip \"\(self.remoteIP)\"") }
        var mailFrom: Address?
        if !self.mailFrom.isEmpty {
            do {
                mailFrom = try Address(parsing: self.mailFrom)
            } catch {
                try fail("parsing mailfrom address \"\(self.mailFrom)\": \(error)")
            }
        }
        let helo = self.helo.isEmpty ? "" : try parseDomainArgument(self.helo)
        let resolver = commandResolver()
        let now = Int(time(nil))
        var spfStatus = SPFStatus.none
        var spfIdentity: String?
        if mailFrom != nil || !helo.isEmpty {
            let args = SPFArgs(
                remoteIP: ip, mailFromLocalpart: mailFrom?.localpart.value ?? "", mailFromDomain: mailFrom?.domain.ascii ?? "",
                helo: helo, heloIsIP: false, localHostname: "localhost"
            )
            let (outcome, domain, _) = try runAsync { () async in await SPFVerifier(resolver: resolver, now: now).verify(args) }
            spfStatus = outcome.status
            spfIdentity = domain
            print("spf result: \(domain ?? ""): \(outcome.status.rawValue) (\(dnssec(outcome.authentic)))")
        }
        let bytes = readStandardInput()
        let (header, body) = splitMessage(bytes)
        let message = Message(parsing: bytes)
        guard let fromDomain = MessageAuthenticator.fromDomain(message.root.header) else {
            try fail("extract dmarc from message: need exactly one From address")
        }
        let dkim = try runAsync { () async in
            await DKIMVerifier(resolver: resolver, now: now).verify(header: header, body: { sink in sink(body[...]) })
        }
        for r in dkim {
            print("dkim result: \"\(r.status.rawValue)\" (err \(r.problem.isEmpty ? "<nil>" : r.problem))")
        }
        let verifier = DMARCVerifier(resolver: resolver, suffixes: commandPublicSuffixes())
        let (status, identity) = (spfStatus, spfIdentity)
        let (_, result) = try runAsync { () async in
            await verifier.verify(fromDomain: fromDomain, dkim: dkim, spf: status, spfIdentity: identity, applyPercentage: false)
        }
        if result.status == .temperror || result.status == .permerror {
            try fail("dmarc verify: \(result.problem)")
        }
        print("dmarc from: \(fromDomain)")
        print("dmarc status: \"\(result.status.rawValue)\"")
        print("dmarc reject: \(result.reject)")
        print("dmarc record: \(result.record.map(\.description) ?? "")")
    }
}
