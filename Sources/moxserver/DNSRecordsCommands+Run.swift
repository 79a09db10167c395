import MailAddress
import MailAdmin
import MailDNS
import MoxCommands

#if canImport(Glibc)
import Glibc
#endif

extension ConfigDNSRecords: RunnableCommand {
    func execute() throws {
        guard let domain = Domain.parse(self.domain) else { try fail("invalid domain \"\(self.domain)\"") }
        let config = try loadConfig()
        // Only to know whether the zone is signed: the AD bit of any answer for the domain.
        let resolver = commandResolver()
        let name = try DNSName(domain.ascii)
        let hasDNSSEC = try runAsync { () async -> Bool in
            do throws(DNSError) {
                return try await resolver.lookupTXT(name).1.authentic
            } catch {
                return false
            }
        }
        do {
            for line in try DomainRecords.lines(config, domain: domain, hasDNSSEC: hasDNSSEC) {
                print(line)
            }
        } catch {
            try fail("\(error)")
        }
    }
}

extension ConfigDNSCheck: RunnableCommand {
    func execute() throws {
        guard let domain = Domain.parse(self.domain) else { try fail("invalid domain \"\(self.domain)\"") }
        let config = try loadConfig()
        let check = DomainCheck(config: config, resolver: commandResolver(), suffixes: commandPublicSuffixes())
        let now = Int(time(nil))
        let result = try runAsync { () async -> Result<DomainCheckResult, DomainRecordsError> in
            do throws(DomainRecordsError) {
                return .success(try await check.check(domain, now: now))
            } catch {
                return .failure(error)
            }
        }
        switch result {
        case .success(let r): print(r.text, terminator: "")
        case .failure(let e): try fail("\(e)")
        }
    }
}
