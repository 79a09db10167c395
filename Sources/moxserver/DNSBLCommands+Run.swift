import MailAddress
import MailAuth
import MailDNS
import MoxCommands

extension DNSBLCheck: RunnableCommand {
    func execute() throws {
        let zone = try parseZone(self.zone)
        guard let ip = IPAddress(self.ip) else { try fail("invalid ip \"\(self.ip)\"") }
        let resolver = commandResolver()
        let result = try runAsync { () async in await DNSBL.lookup(zone: zone, ip: ip, resolver: resolver) }
        print("status: \(result.status.rawValue)")
        if result.status == .fail {
            print("explanation: \(quoted(result.explanation))")
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

/// Go's %q for the explanation: double quotes, with backslash escapes for quotes, backslashes
/// and control characters.
private func quoted(_ s: String) -> String {
    var out = "\""
    for scalar in s.unicodeScalars {
        switch scalar {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case "\n": out += "\\n"
        case "\t": out += "\\t"
        case "\r": out += "\\r"
        default:
            if scalar.value < 0x20 || scalar.value == 0x7f {
                out += "\\x" + String(scalar.value, radix: 16).leftPadded(2)
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
    }
    return out + "\""
}

extension String {
    fileprivate func leftPadded(_ n: Int) -> String { String(repeating: "0", count: max(0, n - self.count)) + self }
}
