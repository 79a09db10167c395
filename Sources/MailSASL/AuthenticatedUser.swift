/// An account's identity after a successful login, whatever the protocol or mechanism: what SMTP,
/// IMAP and the HTTP services get from the one credential check (see MoxRuntime's `Authenticator`).
public struct AuthenticatedUser: Sendable, Hashable {
    /// The account the login belongs to.
    public var account: String
    /// The name the client logged in as (an email address of the account).
    public var username: String

    public init(account: String, username: String) {
        self.account = account
        self.username = username
    }
}
