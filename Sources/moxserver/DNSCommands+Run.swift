import DNSResolver
import MailAddress
import MailDNS
import MoxCommands

#if canImport(Glibc)
import Glibc
#endif

/// The resolver the commands use: /etc/resolv.conf's servers, or those of $MOXRESOLVCONF.
func commandResolver() -> NetworkResolver {
    let path = getenv("MOXRESOLVCONF").map { String(cString: $0) } ?? "/etc/resolv.conf"
    return NetworkResolver(conf: NetworkResolver.systemConf(path: path))
}

/// TXT records at a name given as text, through the command resolver: an invalid name ends the
/// command with its error; a lookup failure is returned for the command to report.
func commandLookupTXT(_ text: String) throws -> Result<([String], DNSResult), DNSError> {
    let name: DNSName
    do {
        name = try DNSName(text)
    } catch {
        try fail(error.description)
    }
    let resolver = commandResolver()
    return try runAsync { () async in
        do throws(DNSError) {
            return .success(try await resolver.lookupTXT(name))
        } catch {
            return .failure(error)
        }
    }
}

/// mox's words for whether an answer was DNSSEC-protected.
func dnssec(_ result: DNSResult) -> String {
    dnssec(result.authentic)
}

func dnssec(_ authentic: Bool) -> String {
    authentic ? "with dnssec" : "without dnssec"
}

extension DNSLookup: RunnableCommand {
    func execute() throws {
        let type = self.type.lowercased()
        let text = self.name
        guard ["ptr", "mx", "cname", "ips", "a", "aaaa", "ns", "txt", "srv", "tlsa"].contains(type) else {
            try fail("unknown record type \"\(self.type)\"")
        }
        let name: DNSName
        if type == "ptr" {
            guard let ip = IPAddress(text) else { try fail("invalid ip address \"\(text)\"") }
            name = (try? DNSName(ip.reverseName)) ?? .root
        } else {
            do {
                // An internationalized name is looked up in its ASCII (A-label) form.
                let ascii = Domain.parse(text.hasSuffix(".") ? String(text.dropLast()) : text)?.ascii ?? text
                name = try DNSName(ascii)
            } catch {
                try fail(error.description)
            }
        }
        let resolver = commandResolver()
        let lines: Result<[String], DNSError> = try runAsync { () async in
            do throws(DNSError) {
                return .success(try await Self.lookup(resolver, type, name))
            } catch {
                return .failure(error)
            }
        }
        switch lines {
        case .success(let lines):
            for line in lines { print(line) }
        case .failure(let error):
            try fail("dns lookup: \(error) (\(dnssec(false)))")
        }
    }


    /// The lines mox prints for each type.
    static func lookup(_ resolver: NetworkResolver, _ type: String, _ name: DNSName) async throws(DNSError) -> [String] {
        switch type {
        case "ptr":
            let (names, result) = try await resolver.lookup(name, .ptr)
            let ptrs = names.compactMap { if case .ptr(let n) = $0 { return n } else { return nil } }
            return ["names (\(ptrs.count), \(dnssec(result))):"] + ptrs.map { "- \($0)" }
        case "mx":
            let (records, result) = try await resolver.lookupMX(name)
            return ["mx records (\(records.count), \(dnssec(result))):"]
                + records.map { "- \($0.host), preference \($0.preference)" }
        case "cname":
            let (target, result) = try await resolver.lookupCNAME(name)
            return ["\(target) (\(dnssec(result)))"]
        case "ips", "a", "aaaa":
            let family: IPFamily = type == "a" ? .ipv4 : type == "aaaa" ? .ipv6 : .both
            let (ips, result) = try await resolver.lookupIP(name, family: family)
            return ["records (\(ips.count), \(dnssec(result))):"] + ips.map { "- \($0)" }
        case "ns":
            let (names, result) = try await resolver.lookupNS(name)
            return ["ns records (\(names.count), \(dnssec(result))):"] + names.map { "- \($0)" }
        case "txt":
            let (texts, result) = try await resolver.lookupTXT(name)
            return ["txt records (\(texts.count), \(dnssec(result))):"] + texts.map { "- \($0)" }
        case "srv":
            let (records, result) = try await resolver.lookupSRV(name)
            return ["srv records (\(records.count), \(dnssec(result))):"]
                + records.map { "- host \($0.target), port \($0.port), priority \($0.priority), weight \($0.weight)" }
        default:
            let (records, result) = try await resolver.lookupTLSA(name)
            return ["tlsa records (\(records.count), \(dnssec(result))):"]
                + records.map {
                    "- usage \"\($0.usageName)\" (\($0.usage)), selector \"\($0.selectorName)\" (\($0.selector)), "
                        + "matchtype \"\($0.matchingTypeName)\" (\($0.matchingType)), "
                        + "certificate association data \($0.data.map { String(format2hex: $0) }.joined())"
                }
        }
    }
}

extension String {
    init(format2hex b: UInt8) {
        let digits = Array("0123456789abcdef")
        self = String([digits[Int(b >> 4)], digits[Int(b & 0x0f)]])
    }
}
