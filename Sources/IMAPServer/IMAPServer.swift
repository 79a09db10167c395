/// IMAPServer: the IMAP4rev2 (RFC 9051) and IMAP4rev1 (RFC 3501) server on SwiftNIO, over the
/// mail store. Framing and command syntax come from IMAPProtocol, message structure from
/// MailMessage, mailboxes and messages from MailStore; this module holds the sessions (one async
/// task per connection), their view of the selected mailbox, and the listeners.
///
/// Who may log in, and which account a login opens, come from an `IMAPBackend`, which the
/// runtime implements over the configuration; tests implement it over a temporary store.

import IMAPProtocol
import MailMessage
import MailSASL
import MailSpool
import MailStore
import MailNetwork
import MailTLS
import NIOCore

/// An account's identity after a successful password check.
/// An account's identity after a successful login (the same for every protocol).
public typealias IMAPUser = AuthenticatedUser

/// What the IMAP server asks of the rest of the system.
public protocol IMAPBackend: Sendable {
    /// Checks a password given in the clear (LOGIN, AUTHENTICATE PLAIN).
    func verifyPassword(username: String, password: String) async -> IMAPUser?
    /// The SCRAM keys of `username`, or nil for an unknown user or one without them.
    func scramKeys(username: String, hash: SCRAMHash) async -> (IMAPUser, SCRAMServerKeys)?
    /// Checks a CRAM-MD5 answer.
    func verifyCRAMMD5(username: String, challenge: [UInt8], digest: [UInt8]) async -> IMAPUser?
    /// The open store of an account that logged in.
    func account(_ name: String) async throws -> Account
    /// The text to index for full-text search of an appended message.
    func searchText(of message: Message) -> String
    /// A new temporary file for a large message literal (APPEND, REPLACE) as it arrives.
    func makeSpool() throws(SpoolError) -> MessageSpool
    /// The most an account's messages may add up to, in bytes; nil for no limit (IMAP QUOTA, APPEND).
    func quota(account: String) -> Int64?
    /// The mailboxes besides the Inbox subtree that mail for the account is delivered to (its
    /// destinations and rulesets), for NOTIFY's "inboxes" (RFC 5465 6.3).
    func deliveryMailboxes(account: String) -> Set<String>
    /// The user a TLS client certificate's public key logs in as (by its fingerprint, see
    /// `ClientCertificate`), and whether IMAP may greet it with PREAUTH; nil for an unknown key.
    func tlsClientUser(fingerprint: String) async -> (user: IMAPUser, preauth: Bool)?
    /// The user of a login address, for EXTERNAL's authorization identity.
    func user(address: String) async -> IMAPUser?
}

extension IMAPBackend {
    public func deliveryMailboxes(account: String) -> Set<String> { [] }
    public func tlsClientUser(fingerprint: String) async -> (user: IMAPUser, preauth: Bool)? { nil }
    public func user(address: String) async -> IMAPUser? { nil }
}

/// Settings of one IMAP or IMAPS service.
public struct IMAPServerOptions: Sendable {
    public var hostname: String
    /// The listener's certificate; nil when it has no TLS.
    public var tls: ServerTLS?
    /// IMAPS: TLS from the first byte (RFC 8314).
    public var implicitTLS = false
    /// Refuse LOGIN and AUTHENTICATE before STARTTLS (LOGINDISABLED, RFC 9051 6.2.3); mox's
    /// NoRequireSTARTTLS turns it off.
    public var requireTLSForAuth = true
    /// Offer AUTH=CRAM-MD5: only where accounts keep CRAM-MD5 secrets (localserve).
    public var offerCRAMMD5 = false
    /// RFC 9051 5.4: an inactivity timer of at least 30 minutes; during IDLE the client must
    /// re-issue IDLE at least every 29 minutes (RFC 2177 3).
    public var idleTimeout: TimeAmount = .minutes(30)
    /// Before login the timer is shorter (RFC 9051 5.4 allows it).
    public var preAuthTimeout: TimeAmount = .minutes(1)
    /// Input buffered beyond the command being read (pipelined commands the server has not
    /// answered yet) before the connection is closed: a client that sends without reading the
    /// answers cannot make the server hold unbounded data.
    public var maxPipelinedBytes = 1024 * 1024
    /// Wrong passwords allowed per connection before it is closed.
    public var maxAuthFailures = 3
    /// Command and literal sizes.
    public var limits = IMAPLimits()
    /// Connection rate and failed logins per network, shared with every other listener.
    public var clientLimits: ClientLimits
    /// Open connections in total and per address (mox allows 30 from one address).
    public var connectionLimits = ConnectionLimits()
    /// The mox.conf listener this service belongs to, for logs.
    public var listenerName = ""

    public init(hostname: String, tls: ServerTLS?, clientLimits: ClientLimits = ClientLimits()) {
        self.hostname = hostname
        self.tls = tls
        self.clientLimits = clientLimits
    }
}

/// Wall-clock seconds since 1970 (internal dates, SEARCH's relative dates).
enum WallClock {
    static func seconds() -> Int {
        NetworkRateLimiter.wallClock()
    }
}
