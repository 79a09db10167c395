import SMTPProtocol

/// Why a delivery attempt (or part of it) did not succeed: the stage, the server's reply when
/// there was one, and whether trying again later can help.
public struct SMTPClientError: Error, Sendable, CustomStringConvertible {
    public enum Stage: String, Sendable {
        case dial, greeting, ehlo, tls, auth, mail, rcpt, data, quit, unknown
    }

    public enum Kind: Sendable, Equatable {
        /// The server answered with a failure code.
        case reply
        case timeout
        case closed
        case io(String)
        /// Garbage or a reply that breaks the protocol (an unexpected code, bytes before TLS).
        case protocolError(String)
        /// The server lacks an extension the message needs (8BITMIME, SMTPUTF8, REQUIRETLS, SIZE).
        case missingExtension(String)
        case tlsRequired(String)
    }

    public var kind: Kind
    public var stage: Stage
    public var reply: SMTPReply?

    public init(_ kind: Kind, stage: Stage, reply: SMTPReply? = nil) {
        self.kind = kind
        self.stage = stage
        self.reply = reply
    }

    static func reply(_ reply: SMTPReply, stage: Stage) -> SMTPClientError {
        SMTPClientError(.reply, stage: stage, reply: reply)
    }

    /// A 5xx reply, or a missing extension the message cannot do without: trying again will
    /// not help. Network problems and 4xx replies are temporary.
    public var permanent: Bool {
        switch self.kind {
        case .reply: return self.reply?.isPermanentFailure ?? false
        case .missingExtension: return true
        default: return false
        }
    }

    /// The code and enhanced code for the delivery result and DSN: the server's, or a local
    /// one that says what happened.
    public var code: Int {
        if let reply = self.reply { return reply.code }
        return self.permanent ? 554 : 451
    }

    public var enhanced: EnhancedCode {
        if let enhanced = self.reply?.enhanced { return enhanced }
        switch self.kind {
        case .missingExtension(let name) where name == "SMTPUTF8": return .nonASCIIAddressNotPermitted
        case .missingExtension(let name) where name == "SIZE": return .messageTooBig
        case .missingExtension: return EnhancedCode(class: 5, subject: 3, detail: 3)
        case .tlsRequired: return EnhancedCode(class: 4, subject: 7, detail: 10)
        case .timeout, .closed, .io: return EnhancedCode(class: 4, subject: 4, detail: 2)
        default: return EnhancedCode(class: self.code / 100, subject: 0, detail: 0)
        }
    }

    /// The text for the result: the server's lines, or a description.
    public var text: String {
        if let reply = self.reply { return reply.text }
        switch self.kind {
        case .reply: return "failure reply"
        case .timeout: return "timeout waiting for reply"
        case .closed: return "connection closed by remote"
        case .io(let s): return "i/o error: \(s)"
        case .protocolError(let s): return "protocol error: \(s)"
        case .missingExtension(let name): return "remote server does not support \(name)"
        case .tlsRequired(let s): return "tls required: \(s)"
        }
    }

    public var description: String {
        "\(self.stage.rawValue): \(self.code) \(self.enhanced) \(self.text)"
    }
}
