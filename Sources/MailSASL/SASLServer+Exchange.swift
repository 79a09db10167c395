/// How a protocol checks credentials during a SASL exchange; `User` is its idea of who logged in.
public struct SASLVerifier<User: Sendable>: Sendable {
    /// A password given in the clear (PLAIN, LOGIN); nil when wrong or unknown.
    public var plain: @Sendable (_ username: String, _ password: String) async -> User?
    /// A CRAM-MD5 answer.
    public var cramMD5: @Sendable (_ username: String, _ challenge: [UInt8], _ digest: [UInt8]) async -> User?
    /// The SCRAM keys of a user, nil for an unknown one.
    public var scram: @Sendable (_ username: String, _ hash: SCRAMHash) async -> (User, SCRAMServerKeys)?

    public init(
        plain: @escaping @Sendable (String, String) async -> User?,
        cramMD5: @escaping @Sendable (String, [UInt8], [UInt8]) async -> User?,
        scram: @escaping @Sendable (String, SCRAMHash) async -> (User, SCRAMServerKeys)?
    ) {
        self.plain = plain
        self.cramMD5 = cramMD5
        self.scram = scram
    }
}

/// How a SASL exchange ended.
public enum SASLOutcome<User: Sendable>: Sendable {
    case authenticated(User, username: String)
    /// Cancelled, malformed, or wrong credentials: the error's kind says which.
    case failed(SASLError)
}

extension SASLServer {
    /// Runs an exchange to its end: challenges go out through `exchange`, which returns the
    /// client's decoded answer (or why it could not be read), and credentials are checked
    /// through `verifier`. SMTP (RFC 4954) and IMAP (RFC 9051 6.2.2) differ only in how a
    /// challenge and an answer travel, which `exchange` carries out.
    public mutating func run<User: Sendable, Failure: Error>(
        initialResponse: [UInt8]?,
        verifier: SASLVerifier<User>,
        exchange: (_ challenge: [UInt8]) async throws(Failure) -> Result<[UInt8], SASLError>
    ) async throws(Failure) -> SASLOutcome<User> {
        var step = self.start(initialResponse: initialResponse)
        var user: User?
        while true {
            switch step {
            case .challenge(let bytes):
                switch try await exchange(bytes) {
                case .success(let answer): step = self.receive(answer)
                case .failure(let error): step = .failure(error)
                }
            case .verifyPlain(_, let username, let password):
                user = await verifier.plain(username, password)
                step = self.passwordVerified(user != nil)
            case .verifyCRAMMD5(let username, let challenge, let digest):
                user = await verifier.cramMD5(username, challenge, digest)
                step = self.passwordVerified(user != nil)
            case .needSCRAMKeys(let username, let hash):
                if let (found, keys) = await verifier.scram(username, hash) {
                    user = found
                    step = self.credentialsFound(keys)
                } else {
                    step = self.credentialsFound(nil)
                }
            case .success(let username, _):
                guard let user else {
                    return .failed(SASLError(.authenticationFailed, "no user for a successful exchange"))
                }
                return .authenticated(user, username: username)
            case .failure(let error):
                return .failed(error)
            }
        }
    }
}
