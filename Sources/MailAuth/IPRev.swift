// iprev (RFC 8601 3): the client's IP has a reverse name whose forward lookup gives the IP back.

import MailAddress
import MailDNS

public enum IPRevStatus: String, Hashable, Sendable {
    /// A reverse name resolves back to the address.
    case pass
    /// Reverse names exist, none resolves back to the address.
    case fail
    /// A DNS failure; a later try may succeed.
    case temperror
    /// No reverse name.
    case permerror
}

public struct IPRevResult: Hashable, Sendable {
    public var status: IPRevStatus
    /// The reverse name that resolved back (pass), without the trailing dot.
    public var name: String
    /// All reverse names found.
    public var names: [String]
    public var authentic: Bool
    /// Why the status is not pass, for logs.
    public var problem: String

    /// The name for the Received header: the confirmed one, else the first reverse name.
    public var displayName: String { self.name.isEmpty ? (self.names.first ?? "") : self.name }
}

public enum IPRev {
    /// RFC 8601 3: the PTR names of `ip`, then the addresses of each until one matches.
    public static func lookup(_ ip: IPAddress, resolver: any Resolver) async -> IPRevResult {
        var result = IPRevResult(status: .permerror, name: "", names: [], authentic: false, problem: "")
        let reverse: [DNSName]
        do {
            let (names, dns) = try await resolver.lookupAddr(ip)
            reverse = names
            result.authentic = dns.authentic
        } catch let error where error.isNotFound {
            result.problem = "no reverse dns record"
            return result
        } catch {
            result.status = .temperror
            result.problem = "dns lookup: \(error)"
            return result
        }
        guard !reverse.isEmpty else {
            result.problem = "no reverse dns record"
            return result
        }
        result.names = reverse.map(\.text)
        var lastError: DNSError?
        for name in reverse {
            do {
                let (ips, dns) = try await resolver.lookupIP(name, family: ip.isIPv4 ? .ipv4 : .ipv6)
                result.authentic = result.authentic && dns.authentic
                if ips.contains(ip) {
                    result.status = .pass
                    result.name = name.text
                    return result
                }
            } catch let error where error.isNotFound {
                continue
            } catch {
                lastError = error
            }
        }
        if let lastError {
            result.status = .temperror
            result.problem = "dns lookup: \(lastError)"
            return result
        }
        result.status = .fail
        result.problem = "no reverse name resolves to \(ip)"
        return result
    }
}
