import MailAddress

/// The host part of an SMTP mailbox or EHLO argument: a domain, or an address literal.
/// MailAddress's `Address` only holds domains; address literals stay inside this module.
/// - SeeAlso: RFC 5321 4.1.2 (Mailbox = Local-part "@" ( Domain / address-literal )), 4.1.3
public enum SMTPHost: Hashable, Sendable, CustomStringConvertible {
    case domain(Domain)
    /// "[1.2.3.4]": four octets.
    case ipv4([UInt8])
    /// "[IPv6:...]": sixteen octets.
    case ipv6([UInt8])

    public var domain: Domain? {
        if case .domain(let d) = self { return d }
        return nil
    }

    /// The wire form: the ASCII domain, or the bracketed literal.
    public var formatted: String {
        switch self {
        case .domain(let d): return d.ascii
        case .ipv4(let b): return "[" + IPAddressText.formatIPv4(b) + "]"
        case .ipv6(let b): return "[IPv6:" + IPAddressText.formatIPv6(b) + "]"
        }
    }

    public var description: String { self.formatted }
}
