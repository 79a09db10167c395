/// A command that does not match the grammar, with what the server needs to answer it.
///
/// The server answers `TAG BAD reason` when `tag` is set, `* BAD reason` otherwise; the
/// connection stays usable because the frame boundary was found before parsing.
/// - SeeAlso: RFC 9051 7.1.5 (BAD response)
public struct IMAPParseError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The command's tag, if it could be read.
    public var tag: String?
    /// Why the command was refused; safe to send back (never echoes literal data).
    public var reason: String
    /// The syntax was fine but a mailbox name is not valid modified UTF-7: no such mailbox can
    /// exist, so servers answer NO rather than BAD (as Dovecot and mox do).
    public var invalidMailboxName: Bool

    public init(tag: String? = nil, reason: String, invalidMailboxName: Bool = false) {
        self.tag = tag
        self.reason = reason
        self.invalidMailboxName = invalidMailboxName
    }

    public var description: String { "\(self.tag ?? "*") BAD \(self.reason)" }
}
