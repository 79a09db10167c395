/// One parsed command line.
/// - SeeAlso: RFC 5321 4.1.1
public enum SMTPCommand: Hashable, Sendable {
    /// EHLO; the host is nil only when the parser was told to ignore the argument (submission).
    case ehlo(SMTPHost?)
    /// HELO; only a domain is allowed (RFC 5321 4.1.1.1).
    case helo(SMTPHost?)
    case mail(ReversePath, MailParameters)
    case rcpt(ForwardPath, RcptParameters)
    case data
    /// RFC 3030 2: BDAT chunk-size [LAST].
    case bdat(size: Int, last: Bool)
    case rset
    /// NOOP with its optional string argument, which is ignored.
    case noop(String?)
    case quit
    /// VRFY string [SP "SMTPUTF8"] (RFC 6531 3.7.4.2 adds the SMTPUTF8 flag).
    case vrfy(String, smtputf8: Bool)
    /// EXPN string [SP "SMTPUTF8"].
    case expn(String, smtputf8: Bool)
    /// HELP with its optional argument, which is ignored.
    case help(String?)
    /// RFC 3207 4.
    case starttls
    /// RFC 4954 4: AUTH mechanism [initial-response]. The mechanism is upper-cased. The initial
    /// response is still base64; "=" (an empty response) becomes "".
    case auth(mechanism: String, initialResponse: String?)
    /// A verb we do not know. The server answers 500 5.5.1 (RFC 5321 4.2.4).
    case unknown(verb: String)

    /// The verb, upper case, for logs and metrics.
    public var verb: String {
        switch self {
        case .ehlo: return "EHLO"
        case .helo: return "HELO"
        case .mail: return "MAIL"
        case .rcpt: return "RCPT"
        case .data: return "DATA"
        case .bdat: return "BDAT"
        case .rset: return "RSET"
        case .noop: return "NOOP"
        case .quit: return "QUIT"
        case .vrfy: return "VRFY"
        case .expn: return "EXPN"
        case .help: return "HELP"
        case .starttls: return "STARTTLS"
        case .auth: return "AUTH"
        case .unknown: return "(unknown)"
        }
    }
}

/// RFC 6152 / RFC 3030 3: the BODY parameter of MAIL.
public enum BodyType: String, Hashable, Sendable {
    case sevenBit = "7BIT"
    case eightBitMIME = "8BITMIME"
    case binaryMIME = "BINARYMIME"
}

/// RFC 3461 4.3: RET, what a DSN should return.
public enum DSNReturn: String, Hashable, Sendable {
    case full = "FULL"
    case headers = "HDRS"
}

/// RFC 4954 5: the AUTH parameter of MAIL.
public enum AuthParameter: Hashable, Sendable {
    /// "AUTH=<>": the submitter is not known or not trusted.
    case unknown
    /// The xtext-decoded mailbox the client claims submitted the message.
    case mailbox(String)
}

/// The parameters of MAIL FROM that this module knows. Which of them the session accepts
/// depends on the extensions it announced.
/// - SeeAlso: RFC 5321 4.1.2 (Mail-parameters), RFC 1869 6
public struct MailParameters: Hashable, Sendable {
    /// RFC 1870 3: SIZE=n.
    public var size: Int?
    /// RFC 6152 2, RFC 3030 3: BODY=7BIT / 8BITMIME / BINARYMIME.
    public var body: BodyType?
    /// RFC 6531 3.4: SMTPUTF8.
    public var smtputf8 = false
    /// RFC 4954 5: AUTH=.
    public var auth: AuthParameter?
    /// RFC 3461 4.3: RET=FULL / HDRS.
    public var ret: DSNReturn?
    /// RFC 3461 4.4: ENVID=, decoded from xtext.
    public var envid: String?
    /// RFC 8689 4.1: REQUIRETLS.
    public var requireTLS = false

    public init() {}

    /// Whether no parameter was given.
    public var isEmpty: Bool { self == MailParameters() }
}

/// RFC 3461 4.1: NOTIFY, when the sender wants a DSN.
public struct NotifyConditions: OptionSet, Hashable, Sendable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }
    public static let success = NotifyConditions(rawValue: 1)
    public static let failure = NotifyConditions(rawValue: 2)
    public static let delay = NotifyConditions(rawValue: 4)
}

/// RFC 3461 4.1: NOTIFY=NEVER, or a list of conditions.
public enum NotifyParameter: Hashable, Sendable {
    case never
    case conditions(NotifyConditions)
}

/// RFC 3461 4.2: ORCPT=addr-type;xtext.
public struct OriginalRecipient: Hashable, Sendable {
    /// For example "rfc822" or "utf-8", as sent.
    public var addressType: String
    /// The address, decoded from xtext.
    public var address: String

    public init(addressType: String, address: String) {
        self.addressType = addressType
        self.address = address
    }
}

/// The parameters of RCPT TO that this module knows.
/// - SeeAlso: RFC 5321 4.1.2 (Rcpt-parameters)
public struct RcptParameters: Hashable, Sendable {
    public var notify: NotifyParameter?
    public var orcpt: OriginalRecipient?

    public init() {}

    public var isEmpty: Bool { self == RcptParameters() }
}
