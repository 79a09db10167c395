// What the SMTP server asks of the rest of the system: who may log in, which addresses are
// accepted, and where accepted messages go. The runtime implements it over the configuration
// and the store; tests implement it in memory.

import MailSASL
import MailSpool
import SMTPProtocol

/// The listener a connection came in on; it decides what is offered and allowed.
public enum SMTPListenerKind: String, Sendable {
    /// Port 25: mail from other servers for local recipients; no authentication.
    case smtp
    /// Port 587: authenticated submission, STARTTLS.
    case submission
    /// Port 465: authenticated submission over TLS from the first byte (RFC 8314).
    case submissions

    public var isSubmission: Bool { self != .smtp }
}

/// What is known about the client at a point in the session.
public struct SMTPClientInfo: Sendable {
    public var listener: SMTPListenerKind
    public var remoteIP: String
    public var localIP: String
    /// The name given with EHLO or HELO.
    public var hello: String
    public var tls: Bool
    /// The account that authenticated, on submission.
    public var account: String?
    /// The name the client authenticated as.
    public var username: String?
    /// The connection's id, as its log lines show it (hexadecimal).
    public var connectionID = ""
    /// The mox.conf listener the connection came in on.
    public var listenerName = ""
}

/// The envelope of the transaction being delivered.
public struct SMTPEnvelope: Sendable {
    public var mailFrom: ReversePath
    public var mailParameters: MailParameters
    public var recipients: [SMTPAcceptedRecipient]
}

/// A recipient accepted at RCPT TO, with what the backend needs to deliver to it later.
public struct SMTPAcceptedRecipient: Sendable {
    public var path: ForwardPath
    public var parameters: RcptParameters
    /// Opaque to the server: the backend's own typed routing (account and mailbox, or a
    /// failure to report after DATA), given back at delivery.
    public var route: any Sendable
}

public enum SMTPRecipientDecision: Sendable {
    case accept(route: any Sendable)
    case reject(SMTPReply)
}

/// The outcome of delivering to one recipient: nil for success.
public typealias SMTPDeliveryResult = SMTPReply?

/// An account's identity after a successful login (the same for every protocol).
public typealias SMTPAuthenticatedUser = AuthenticatedUser

public protocol SMTPBackend: Sendable {
    /// Checks a password given in the clear (AUTH PLAIN, LOGIN).
    func verifyPassword(username: String, password: String) async -> SMTPAuthenticatedUser?
    /// The SCRAM keys of `username`, or nil for an unknown user or one without them.
    func scramKeys(username: String, hash: SCRAMHash) async -> (SMTPAuthenticatedUser, SCRAMServerKeys)?
    /// Checks a CRAM-MD5 answer.
    func verifyCRAMMD5(username: String, challenge: [UInt8], digest: [UInt8]) async -> SMTPAuthenticatedUser?
    /// The user whose TLS public key has this fingerprint (base64url SHA-256 of the
    /// SubjectPublicKeyInfo, as `mox config tlspubkey` keeps them), for AUTH EXTERNAL; nil for
    /// a key nobody has.
    func tlsClientUser(fingerprint: String) async -> SMTPAuthenticatedUser?
    /// The user of a login address, for EXTERNAL's authorization identity.
    func user(address: String) async -> SMTPAuthenticatedUser?

    /// MAIL FROM: nil accepts, a reply refuses.
    func checkMailFrom(_ client: SMTPClientInfo, _ path: ReversePath, _ parameters: MailParameters) async -> SMTPReply?
    /// RCPT TO.
    func checkRecipient(
        _ client: SMTPClientInfo,
        _ path: ForwardPath,
        _ parameters: RcptParameters,
        mailFrom: ReversePath
    ) async -> SMTPRecipientDecision
    /// A new temporary file for a message about to be received (DATA, or the first BDAT chunk).
    func makeSpool() throws(SpoolError) -> MessageSpool
    /// After the message is received, before delivery: nil continues, a reply refuses the whole
    /// message (e.g. a From header the authenticated account may not use).
    func checkMessage(_ client: SMTPClientInfo, _ envelope: SMTPEnvelope, message: SpooledMessage) async -> SMTPReply?
    /// Stores the message for each recipient durably, with the trace header `received` makes for
    /// that recipient (and whatever else the backend adds) in front of it, and returns one result
    /// per recipient, in order. Only returns success once the message is on disk.
    func deliver(
        _ client: SMTPClientInfo,
        _ envelope: SMTPEnvelope,
        message: SpooledMessage,
        received: SMTPReceivedTrace
    ) async -> [SMTPDeliveryResult]
}

extension SMTPBackend {
    /// Without a key store no client certificate logs in.
    public func tlsClientUser(fingerprint: String) async -> SMTPAuthenticatedUser? { nil }
    public func user(address: String) async -> SMTPAuthenticatedUser? { nil }
}
