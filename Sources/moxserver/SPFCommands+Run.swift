import DNSResolver
import MailAddress
import MailAuth
import MailDNS
import MoxCommands

#if canImport(Glibc)
import Glibc
#endif

func parseDomainArgument(_ text: String) throws -> String {
    let trimmed = text.hasSuffix(".") ? String(text.dropLast()) : text
    guard let domain = Domain.parse(trimmed) else { try fail("invalid domain \"\(text)\"") }
    return domain.ascii
}

extension SPFCheck: RunnableCommand {
    func execute() throws {
        let domain = try parseDomainArgument(self.domain)
        guard let ip = IPAddress(self.ip) else { try fail("invalid ip address \"\(self.ip)\"") }
        let resolver = commandResolver()
        let args = SPFArgs(
            remoteIP: ip, mailFromLocalpart: "user", mailFromDomain: domain, helo: domain, heloIsIP: false,
            localHostname: "localhost"
        )
        let now = Int(time(nil))
        let outcome = try runAsync { () async in await SPFVerifier(resolver: resolver, now: now).verify(args).outcome }
        if outcome.status == .temperror || outcome.status == .permerror || (outcome.status == .none && !outcome.problem.isEmpty) {
            print("error: \(outcome.problem)")
        }
        if !outcome.explanation.isEmpty { print("explanation: \(outcome.explanation)") }
        print("status: \(outcome.status.rawValue) (\(dnssec(outcome.authentic)))")
        if !outcome.mechanism.isEmpty { print("mechanism: \(outcome.mechanism)") }
    }
}

extension SPFLookup: RunnableCommand {
    func execute() throws {
        let domain = try parseDomainArgument(self.domain)
        let result = try commandLookupTXT(domain)
        switch result {
        case .failure(let error):
            if error.isNotFound { try fail("spf lookup for \(domain): no spf record") }
            try fail("spf lookup for \(domain): \(error)")
        case .success(let (texts, dns)):
            let records = texts.filter(SPFRecord.isSPF)
            guard !records.isEmpty else { try fail("spf lookup for \(domain): no spf record") }
            guard records.count == 1 else { try fail("spf lookup for \(domain): multiple spf records") }
            do {
                _ = try SPFRecord(parsing: records[0])
            } catch {
                try fail("spf lookup for \(domain): \(error)")
            }
            print(records[0])
            print("(\(dnssec(dns)))")
        }
    }
}

extension SPFParse: RunnableCommand {
    func execute() throws {
        do {
            _ = try SPFRecord(parsing: self.record)
        } catch {
            try fail("parsing record: \(error)")
        }
    }
}
