/// The EXTERNAL mechanism (RFC 4422 appendix A): the identity comes from outside SASL (here a
/// TLS client certificate's public key), and the client's one message is the authorization
/// identity it asks for, empty for the external identity itself.
public enum SASLExternal {
    /// The login address the client asks to act as, when that is another one than the
    /// certificate's own (`certificateLogin`): nil for an empty request or the same address
    /// (compared without case). The server must still check that the other address belongs to
    /// the same account.
    public static func otherIdentity(_ response: [UInt8], certificateLogin: String) -> String? {
        let requested = String(decoding: response, as: UTF8.self)
        if requested.isEmpty || requested.lowercased() == certificateLogin.lowercased() { return nil }
        return requested
    }
}
