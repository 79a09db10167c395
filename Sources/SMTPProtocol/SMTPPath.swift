import MailAddress

/// A mailbox as SMTP carries it: a local-part and a domain or address literal.
/// - SeeAlso: RFC 5321 4.1.2
public struct SMTPMailbox: Hashable, Sendable, CustomStringConvertible {
    public var localpart: Localpart
    public var host: SMTPHost

    public init(localpart: Localpart, host: SMTPHost) {
        self.localpart = localpart
        self.host = host
    }

    public init(_ address: Address) {
        self.init(localpart: address.localpart, host: .domain(address.domain))
    }

    /// The MailAddress form; nil when the host is an address literal.
    public var address: Address? {
        guard case .domain(let d) = self.host else { return nil }
        return Address(localpart: self.localpart, domain: d)
    }

    public var formatted: String { self.localpart.formatted + "@" + self.host.formatted }
    public var description: String { self.formatted }
}

/// The argument of MAIL FROM: a mailbox, or the null path "<>" used for bounces.
/// - SeeAlso: RFC 5321 4.1.1.2, 4.5.5
public enum ReversePath: Hashable, Sendable, CustomStringConvertible {
    case null
    case mailbox(SMTPMailbox)

    public var mailbox: SMTPMailbox? {
        if case .mailbox(let m) = self { return m }
        return nil
    }

    /// The MailAddress `Path`; nil when the mailbox has an address literal.
    public var path: Path? {
        switch self {
        case .null: return .null
        case .mailbox(let m): return m.address.map { Path(address: $0) }
        }
    }

    public var formatted: String { "<" + (self.mailbox?.formatted ?? "") + ">" }
    public var description: String { self.formatted }
}

/// The argument of RCPT TO: a mailbox, or the bare "<Postmaster>" that every server must accept.
/// - SeeAlso: RFC 5321 4.1.1.3, 4.5.1
public enum ForwardPath: Hashable, Sendable, CustomStringConvertible {
    /// "<Postmaster>" without a domain (case-insensitive), meaning this server's postmaster.
    case postmaster
    case mailbox(SMTPMailbox)

    public var mailbox: SMTPMailbox? {
        if case .mailbox(let m) = self { return m }
        return nil
    }

    public var formatted: String {
        switch self {
        case .postmaster: return "<postmaster>"
        case .mailbox(let m): return "<" + m.formatted + ">"
        }
    }
    public var description: String { self.formatted }
}
