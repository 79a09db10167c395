/// MailSASL: the server side of the SASL mechanisms that SMTP AUTH (RFC 4954) and IMAP AUTHENTICATE
/// (RFC 9051 6.2.2) share: PLAIN, LOGIN, CRAM-MD5, SCRAM-SHA-1, SCRAM-SHA-256 and their -PLUS variants
/// with channel binding; plus small client helpers for interop tests.
/// Pure: stdlib and swift-crypto only. No NIO, no MailStore, no I/O: `SASLServer` is a state machine
/// that takes the client's decoded bytes and returns a `SASLStep` for the protocol layer to carry out
/// (send a challenge, look up credentials, check a password, reply success or failure).
/// - SeeAlso: RFC 4422

/// A SASL mechanism this module implements, by its registered name.
/// - SeeAlso: RFC 4422 3.1
public enum SASLMechanism: String, CaseIterable, Hashable, Sendable {
    case plain = "PLAIN"
    case login = "LOGIN"
    case cramMD5 = "CRAM-MD5"
    case scramSHA1 = "SCRAM-SHA-1"
    case scramSHA1Plus = "SCRAM-SHA-1-PLUS"
    case scramSHA256 = "SCRAM-SHA-256"
    case scramSHA256Plus = "SCRAM-SHA-256-PLUS"

    /// The mechanism for a name as a client sends it, in any ASCII case: RFC 4422 3.1 registers names
    /// in upper case, and SMTP and IMAP compare their command arguments case-insensitively.
    public init?(name: String) {
        let upper = name.utf8.map { c in c >= 0x61 && c <= 0x7a ? c - 0x20 : c }
        self.init(rawValue: String(decoding: upper, as: UTF8.self))
    }

    /// Whether this is a channel-binding (-PLUS) variant.
    /// - SeeAlso: RFC 5802 6
    public var isPlus: Bool {
        self == .scramSHA1Plus || self == .scramSHA256Plus
    }

    /// The SCRAM hash, or nil for the password mechanisms.
    public var scramHash: SCRAMHash? {
        switch self {
        case .plain, .login, .cramMD5: nil
        case .scramSHA1, .scramSHA1Plus: .sha1
        case .scramSHA256, .scramSHA256Plus: .sha256
        }
    }
}

/// The channel binding the connection can offer to -PLUS mechanisms: the type name and the data the
/// TLS layer derived for this connection.
/// - SeeAlso: RFC 5056, RFC 5802 6
public struct ChannelBinding: Hashable, Sendable {
    /// The channel-binding type name as SCRAM carries it after "p=".
    public var type: String
    /// The binding data for this connection (the exporter output, or the certificate hash).
    public var data: [UInt8]

    public init(type: String, data: [UInt8]) {
        self.type = type
        self.data = data
    }

    /// RFC 9266 2: 32 bytes exported with label "EXPORTER-Channel-Binding" and no context (TLS 1.3).
    public static func tlsExporter(_ data: [UInt8]) -> ChannelBinding {
        ChannelBinding(type: "tls-exporter", data: data)
    }

    /// RFC 5929 4: the hash of the server's certificate.
    public static func tlsServerEndPoint(_ data: [UInt8]) -> ChannelBinding {
        ChannelBinding(type: "tls-server-end-point", data: data)
    }
}

/// What the protocol layer does next.
public enum SASLStep: Hashable, Sendable {
    /// Send these raw bytes to the client as a challenge (the protocol layer base64-encodes them:
    /// "334 " in SMTP, "+ " in IMAP) and pass the client's decoded answer to `SASLServer.receive`.
    case challenge([UInt8])
    /// Check a password given in the clear (PLAIN, LOGIN), then call `SASLServer.passwordVerified`.
    /// `authzid` is nil or equal to `username`: other authorization identities fail earlier.
    case verifyPlain(authzid: String?, username: String, password: String)
    /// Check a CRAM-MD5 digest: the HMAC-MD5 of `challenge` keyed with the user's password must equal
    /// `digest` (16 bytes). Then call `SASLServer.passwordVerified`.
    /// - SeeAlso: RFC 2195 2
    case verifyCRAMMD5(username: String, challenge: [UInt8], digest: [UInt8])
    /// Look up the user's SCRAM keys for `hash`, then call `SASLServer.credentialsFound` with them, or
    /// with nil for an unknown user (the exchange then continues and fails at the proof, so the client
    /// cannot tell unknown users from bad passwords).
    case needSCRAMKeys(username: String, hash: SCRAMHash)
    /// Authenticated as `username`. `additionalData` is SCRAM's server-final message ("v=...") when the
    /// server was made with `.withSuccess`; with `.asChallenge` it was sent as a challenge before.
    case success(username: String, additionalData: [UInt8]?)
    /// The exchange is over and failed.
    case failure(SASLError)
}

extension SASLStep: CustomStringConvertible {
    /// For logs: passwords and digests are left out.
    public var description: String {
        switch self {
        case .challenge(let data): "challenge (\(data.count) bytes)"
        case .verifyPlain(let authzid, let username, _):
            "verifyPlain(authzid: \(authzid ?? "-"), username: \(username), password: <redacted>)"
        case .verifyCRAMMD5(let username, _, _): "verifyCRAMMD5(username: \(username), digest: <redacted>)"
        case .needSCRAMKeys(let username, let hash): "needSCRAMKeys(username: \(username), hash: \(hash.rawValue))"
        case .success(let username, let data):
            "success(username: \(username), additionalData: \(data?.count ?? 0) bytes)"
        case .failure(let error): "failure(\(error))"
        }
    }
}

/// Why an exchange failed.
public struct SASLError: Error, Hashable, Sendable, CustomStringConvertible {
    public enum Kind: Hashable, Sendable {
        /// The client sent something malformed (bad base64, bad message syntax, out-of-order data).
        /// SMTP replies 501 (5.5.2), IMAP BAD.
        case malformed
        /// The credentials were wrong, unknown or not allowed. SMTP replies 535 (5.7.8), IMAP NO.
        case authenticationFailed
        /// The client cancelled with "*" (RFC 4954 4, RFC 9051 6.2.2). SMTP replies 501, IMAP BAD.
        case cancelled
    }

    public var kind: Kind
    /// For logs. For `.authenticationFailed`, send clients a generic text, not this.
    public var reason: String
    /// The SCRAM server-error-value where RFC 5802 7 has one ("invalid-proof", ...).
    public var scramError: String?

    public init(_ kind: Kind, _ reason: String, scramError: String? = nil) {
        self.kind = kind
        self.reason = reason
        self.scramError = scramError
    }

    /// RFC 5802 7: server-final-message = server-error ... with server-error = "e=" server-error-value.
    /// A protocol layer that wants to tell a SCRAM client why can send this as the final challenge.
    public var scramServerFinalMessage: [UInt8]? {
        self.scramError.map { Array("e=\($0)".utf8) }
    }

    public var description: String {
        "SASL \(self.kind): \(self.reason)"
    }

    static func malformed(_ reason: String, scram: String? = nil) -> SASLError {
        SASLError(.malformed, reason, scramError: scram)
    }

    static func failed(_ reason: String, scram: String? = nil) -> SASLError {
        SASLError(.authenticationFailed, reason, scramError: scram)
    }
}

/// Size limits on what a client may send in one SASL message.
public enum SASLLimits {
    /// The longest decoded client message accepted. PLAIN and LOGIN carry at most a few hundred
    /// octets (RFC 4616 2 asks for at least 255 per field); SCRAM messages with channel binding are
    /// well under 1 KiB.
    public static let maximumMessageLength = 8192
}
