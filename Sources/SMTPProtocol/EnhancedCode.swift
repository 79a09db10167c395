/// An enhanced mail system status code, "class.subject.detail".
/// - SeeAlso: RFC 3463 2, RFC 2034 (ENHANCEDSTATUSCODES)
public struct EnhancedCode: Hashable, Sendable, CustomStringConvertible {
    /// 2 (success), 4 (persistent transient failure) or 5 (permanent failure).
    public var `class`: Int
    public var subject: Int
    public var detail: Int

    public init(class: Int, subject: Int, detail: Int) {
        self.class = `class`
        self.subject = subject
        self.detail = detail
    }

    /// The same subject and detail under another class. `SMTPReply` uses it to make the class
    /// agree with the reply code, so the constants below (written with class 5) serve every class.
    public func withClass(_ c: Int) -> EnhancedCode {
        EnhancedCode(class: c, subject: self.subject, detail: self.detail)
    }

    public var description: String { "\(self.class).\(self.subject).\(self.detail)" }
}

// MARK: - The codes this server uses (RFC 3463 3, and the RFCs that added codes)

extension EnhancedCode {
    // RFC 3463 3.1: X.0.0 other or undefined status.
    public static let other = EnhancedCode(class: 5, subject: 0, detail: 0)

    // RFC 3463 3.2: addressing status.
    public static let addressOther = EnhancedCode(class: 5, subject: 1, detail: 0)
    public static let badDestinationMailbox = EnhancedCode(class: 5, subject: 1, detail: 1)
    public static let badDestinationSystem = EnhancedCode(class: 5, subject: 1, detail: 2)
    public static let badDestinationMailboxSyntax = EnhancedCode(class: 5, subject: 1, detail: 3)
    public static let badSenderMailboxSyntax = EnhancedCode(class: 5, subject: 1, detail: 7)
    public static let badSenderSystem = EnhancedCode(class: 5, subject: 1, detail: 8)
    /// RFC 7505 4.2: the domain publishes a null MX.
    public static let nullMX = EnhancedCode(class: 5, subject: 1, detail: 10)

    // RFC 3463 3.3: mailbox status.
    public static let mailboxOther = EnhancedCode(class: 5, subject: 2, detail: 0)
    public static let mailboxDisabled = EnhancedCode(class: 5, subject: 2, detail: 1)
    public static let mailboxFull = EnhancedCode(class: 5, subject: 2, detail: 2)
    public static let messageTooBigForMailbox = EnhancedCode(class: 5, subject: 2, detail: 3)

    // RFC 3463 3.4: mail system status.
    public static let systemOther = EnhancedCode(class: 5, subject: 3, detail: 0)
    public static let systemFull = EnhancedCode(class: 5, subject: 3, detail: 1)
    public static let systemNotAccepting = EnhancedCode(class: 5, subject: 3, detail: 2)
    public static let featureNotSupported = EnhancedCode(class: 5, subject: 3, detail: 3)
    public static let messageTooBig = EnhancedCode(class: 5, subject: 3, detail: 4)

    // RFC 3463 3.5: network and routing status.
    public static let networkOther = EnhancedCode(class: 5, subject: 4, detail: 0)
    public static let routingLoop = EnhancedCode(class: 5, subject: 4, detail: 6)

    // RFC 3463 3.6: mail delivery protocol status.
    public static let protocolOther = EnhancedCode(class: 5, subject: 5, detail: 0)
    /// Invalid command, or a command out of sequence.
    public static let invalidCommand = EnhancedCode(class: 5, subject: 5, detail: 1)
    public static let syntaxError = EnhancedCode(class: 5, subject: 5, detail: 2)
    public static let tooManyRecipients = EnhancedCode(class: 5, subject: 5, detail: 3)
    public static let invalidArguments = EnhancedCode(class: 5, subject: 5, detail: 4)
    public static let wrongProtocolVersion = EnhancedCode(class: 5, subject: 5, detail: 5)
    /// RFC 4954 6: the authentication exchange line is too long.
    public static let authExchangeTooLong = EnhancedCode(class: 5, subject: 5, detail: 6)

    // RFC 3463 3.7: message content or media status.
    public static let contentOther = EnhancedCode(class: 5, subject: 6, detail: 0)
    /// RFC 6531 3.7.1: non-ASCII addresses need SMTPUTF8.
    public static let nonASCIIAddressNotPermitted = EnhancedCode(class: 5, subject: 6, detail: 7)

    // RFC 3463 3.8: security or policy status.
    public static let policyOther = EnhancedCode(class: 5, subject: 7, detail: 0)
    public static let deliveryNotAuthorized = EnhancedCode(class: 5, subject: 7, detail: 1)
    public static let expansionProhibited = EnhancedCode(class: 5, subject: 7, detail: 2)
    /// RFC 4954 6: authentication credentials invalid.
    public static let authCredentialsInvalid = EnhancedCode(class: 5, subject: 7, detail: 8)
    /// RFC 4954 6: authentication mechanism too weak.
    public static let authMechanismTooWeak = EnhancedCode(class: 5, subject: 7, detail: 9)
    /// RFC 5248 2.4: encryption needed.
    public static let encryptionNeeded = EnhancedCode(class: 5, subject: 7, detail: 10)
    /// RFC 4954 6: encryption required for the requested authentication mechanism.
    public static let encryptionRequiredForAuth = EnhancedCode(class: 5, subject: 7, detail: 11)
    /// RFC 5248 2.4: the account is disabled.
    public static let accountDisabled = EnhancedCode(class: 5, subject: 7, detail: 13)
    /// RFC 8689 5: REQUIRETLS support required.
    public static let requireTLSMissing = EnhancedCode(class: 5, subject: 7, detail: 30)
}
