/// The service extensions a listener announces in its EHLO reply. The session also enforces
/// them: a parameter of an extension that is off is answered with 555.
/// - SeeAlso: RFC 5321 4.1.1.1, the IANA "SMTP Service Extensions" registry
public struct SMTPExtensions: Hashable, Sendable {
    /// RFC 2920.
    public var pipelining = true
    /// RFC 1870: SIZE with the maximum message size in octets; nil: not announced, no limit.
    public var size: Int?
    /// RFC 3207: announced only while TLS is not active.
    public var startTLS = false
    /// RFC 8689: announced only while TLS is active.
    public var requireTLS = false
    /// RFC 4954: the SASL mechanisms; empty means AUTH is not offered.
    public var authMechanisms: [String] = []
    /// RFC 2034.
    public var enhancedStatusCodes = true
    /// RFC 6152.
    public var eightBitMIME = true
    /// RFC 3030 3; needs `chunking`.
    public var binaryMIME = false
    /// RFC 3030 2: BDAT.
    public var chunking = false
    /// RFC 3461.
    public var dsn = false
    /// RFC 9422 LIMITS RCPTMAX=n; also the limit the session enforces. Nil: not announced, and
    /// `SMTPLimits.defaultMaxRecipients` is enforced.
    public var rcptMax: Int?
    /// RFC 6531.
    public var smtputf8 = true

    public init() {}

    /// The maximum number of recipients per transaction.
    public var maxRecipients: Int { self.rcptMax ?? SMTPLimits.defaultMaxRecipients }

    /// The EHLO reply: the host name (and optional greeting text) on the first line, then one line
    /// per enabled extension, in a fixed order.
    /// - SeeAlso: RFC 5321 4.1.1.1 (ehlo-ok-rsp)
    public func ehloReply(hostname: String, greeting: String? = nil) -> SMTPReply {
        var lines = [greeting.map { hostname + " " + $0 } ?? hostname]
        if self.pipelining { lines.append("PIPELINING") }
        if let size = self.size { lines.append("SIZE \(size)") }
        if self.startTLS { lines.append("STARTTLS") }
        if self.requireTLS { lines.append("REQUIRETLS") }
        if !self.authMechanisms.isEmpty { lines.append("AUTH " + self.authMechanisms.joined(separator: " ")) }
        if self.enhancedStatusCodes { lines.append("ENHANCEDSTATUSCODES") }
        if self.eightBitMIME { lines.append("8BITMIME") }
        if self.binaryMIME { lines.append("BINARYMIME") }
        if self.chunking { lines.append("CHUNKING") }
        if self.dsn { lines.append("DSN") }
        if let rcptMax = self.rcptMax { lines.append("LIMITS RCPTMAX=\(rcptMax)") }
        if self.smtputf8 { lines.append("SMTPUTF8") }
        return SMTPReply(code: 250, enhanced: nil, lines: lines)
    }
}
