// The SMTP side of a SASL exchange (RFC 4954 4): its replies. Decoding the client's lines
// ("*" to cancel, base64 otherwise) is MailSASL's `SASLBase64.decodeClientResponse`.

extension SMTPReply {
    /// RFC 4954 4: "334" and a base64 challenge (may be empty); no enhanced code.
    public static func authChallenge(_ base64: String) -> SMTPReply {
        SMTPReply(code: 334, enhanced: nil, lines: [base64])
    }

    /// RFC 4954 4: 501 when the client cancels with "*" (5.5.0 like mox).
    public static let authCancelled = SMTPReply(501, .protocolOther, "authentication cancelled")

    /// RFC 4954 4: 501 5.5.2 for a response that is not valid base64.
    public static let authInvalidBase64 = SMTPReply(501, .syntaxError, "invalid base64 in authentication response")

    /// RFC 4954 6: 538 5.7.11, the mechanism needs TLS first.
    public static let authRequiresTLS = SMTPReply(538, .encryptionRequiredForAuth, "authentication requires TLS")
}
