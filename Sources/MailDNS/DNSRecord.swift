// Resource record types and their data (RFC 1035 3.2 and 3.3, RFC 3596, RFC 2782, RFC 6698,
// RFC 6891).

import MailAddress

/// A record type (RFC 1035 3.2.2 TYPE). Types this server does not use keep their number.
public struct RRType: Hashable, Sendable, CustomStringConvertible {
    public let value: UInt16

    public init(_ value: UInt16) { self.value = value }

    public static let a = RRType(1)
    public static let ns = RRType(2)
    public static let cname = RRType(5)
    public static let soa = RRType(6)
    public static let ptr = RRType(12)
    public static let mx = RRType(15)
    public static let txt = RRType(16)
    public static let aaaa = RRType(28)
    public static let srv = RRType(33)
    public static let opt = RRType(41)
    public static let tlsa = RRType(52)

    static let names: [UInt16: String] = [
        1: "A", 2: "NS", 5: "CNAME", 6: "SOA", 12: "PTR", 15: "MX", 16: "TXT", 28: "AAAA", 33: "SRV", 41: "OPT",
        52: "TLSA",
    ]

    /// "MX", or "TYPE65" for types without a name here (RFC 3597 5).
    public var description: String { Self.names[self.value] ?? "TYPE\(self.value)" }
}

/// RFC 1035 4.1.1 RCODE, with the extended values of RFC 6891 6.1.3 when an OPT record carries them.
public struct RCode: Hashable, Sendable, CustomStringConvertible {
    public let value: UInt16

    public init(_ value: UInt16) { self.value = value }

    public static let noError = RCode(0)
    public static let formatError = RCode(1)
    public static let serverFailure = RCode(2)
    public static let nameError = RCode(3)
    public static let notImplemented = RCode(4)
    public static let refused = RCode(5)

    public var description: String {
        switch self.value {
        case 0: return "NOERROR"
        case 1: return "FORMERR"
        case 2: return "SERVFAIL"
        case 3: return "NXDOMAIN"
        case 4: return "NOTIMP"
        case 5: return "REFUSED"
        default: return "RCODE\(self.value)"
        }
    }
}

public struct MXRecord: Hashable, Sendable {
    public var preference: UInt16
    public var host: DNSName

    public init(preference: UInt16, host: DNSName) {
        self.preference = preference
        self.host = host
    }
}

public struct SRVRecord: Hashable, Sendable {
    public var priority: UInt16
    public var weight: UInt16
    public var port: UInt16
    public var target: DNSName

    public init(priority: UInt16, weight: UInt16, port: UInt16, target: DNSName) {
        self.priority = priority
        self.weight = weight
        self.port = port
        self.target = target
    }
}

public struct SOARecord: Hashable, Sendable {
    public var mname: DNSName
    public var rname: DNSName
    public var serial: UInt32
    public var refresh: UInt32
    public var retry: UInt32
    public var expire: UInt32
    /// RFC 2308 4: with the SOA's own TTL, the bound on caching a negative answer.
    public var minimum: UInt32
}

/// RFC 6698 2.1: a TLSA record.
public struct TLSARecord: Hashable, Sendable {
    public var usage: UInt8
    public var selector: UInt8
    public var matchingType: UInt8
    public var data: [UInt8]

    public init(usage: UInt8, selector: UInt8, matchingType: UInt8, data: [UInt8]) {
        self.usage = usage
        self.selector = selector
        self.matchingType = matchingType
        self.data = data
    }

    // RFC 7218 2.1-2.3: the mnemonics, lower case as mox prints them.
    public var usageName: String {
        let names = ["pkix-ta", "pkix-ee", "dane-ta", "dane-ee"]
        return names.indices.contains(Int(self.usage)) ? names[Int(self.usage)] : "(unknown)"
    }

    public var selectorName: String {
        self.selector == 0 ? "cert" : self.selector == 1 ? "spki" : "(unknown)"
    }

    public var matchingTypeName: String {
        switch self.matchingType {
        case 0: return "full"
        case 1: return "sha2-256"
        case 2: return "sha2-512"
        default: return "(unknown)"
        }
    }
}

/// The data of a record, decoded for the types the server uses.
public enum RData: Hashable, Sendable {
    case a(IPAddress)
    case aaaa(IPAddress)
    case ns(DNSName)
    case cname(DNSName)
    case ptr(DNSName)
    case mx(MXRecord)
    /// RFC 1035 3.3.14: one or more character-strings, kept apart (SPF and DKIM join them).
    case txt([[UInt8]])
    case srv(SRVRecord)
    case soa(SOARecord)
    case tlsa(TLSARecord)
    case other([UInt8])
}

/// A resource record (RFC 1035 4.1.3).
public struct ResourceRecord: Hashable, Sendable {
    public var name: DNSName
    public var type: RRType
    /// RFC 1035 4.1.3 CLASS; 1 (IN) for everything but OPT, where it is the UDP payload size.
    public var rrClass: UInt16
    public var ttl: UInt32
    public var data: RData

    public init(name: DNSName, type: RRType, rrClass: UInt16 = 1, ttl: UInt32, data: RData) {
        self.name = name
        self.type = type
        self.rrClass = rrClass
        self.ttl = ttl
        self.data = data
    }
}
