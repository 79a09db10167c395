import MailAddress
import MailAuth
import MailDNS
import MailLog
import MoxCommands

extension DNSBLCheck: RunnableCommand {
    func execute() throws {
        let zone = try parseZone(self.zone)
        guard let ip = IPAddress(self.ip) else { try fail("invalid ip \"\(self.ip)\"") }
        let resolver = commandResolver()
        let result = try runAsync { () async in await DNSBL.lookup(zone: zone, ip: ip, resolver: resolver) }
        print("status: \(result.status.rawValue)")
        if result.status == .fail {
            print("explanation: \(LogFormat.quoted(result.explanation))")
        }
        if let error = result.error {
            print("error: dnsbl: dns error: \(error)")
        }
    }
}

extension DNSBLCheckHealth: RunnableCommand {
    func execute() throws {
        let zone = try parseZone(self.zone)
        let resolver = commandResolver()
        let problem = try runAsync { () async -> DNSBLHealthError? in
            do throws(DNSBLHealthError) {
                try await DNSBL.checkHealth(zone: zone, resolver: resolver)
                return nil
            } catch {
                return error
            }
        }
        if let problem {
            try fail("unhealthy: \(problem)")
        }
        print("healthy")
    }
}

private func parseZone(_ text: String) throws -> DNSName {
    do {
        return try DNSName(try parseDomainArgument(text))
    } catch let error as DNSNameError {
        try fail("invalid zone \"\(text)\": \(error.description)")
    }
}
