/// The server side of one SASL exchange, as a state machine: each call takes what the client sent (or
/// what the caller looked up) and returns the next `SASLStep`. No I/O and no async inside.
///
/// ```
/// var server = SASLServer(mechanism: .scramSHA256, hostname: "mail.example.org")
/// var step = server.start(initialResponse: decodedInitialResponse)
/// loop: .challenge(bytes)          -> send, then step = server.receive(decodedAnswer)
///       .verifyPlain / .verifyCRAMMD5 -> check, then step = server.passwordVerified(ok)
///       .needSCRAMKeys               -> look up, then step = server.credentialsFound(keysOrNil)
///       .success / .failure          -> reply and stop
/// ```
/// - SeeAlso: RFC 4422 3, RFC 4954 4, RFC 9051 6.2.2
public struct SASLServer: Sendable {
    /// How SCRAM's server-final message ("v=...") reaches the client.
    /// RFC 4422 3.6: a protocol without "additional data with success" sends it as a
    /// challenge and the client answers with an empty response; SMTP AUTH (RFC 4954 4) works that way.
    public enum SuccessData: Hashable, Sendable {
        /// Returned in `.success(additionalData:)`, for protocols that carry data with success.
        case withSuccess
        /// Sent as a final `.challenge`; the client's empty answer then yields `.success` without data.
        case asChallenge
    }

    public let mechanism: SASLMechanism
    /// The connection's channel binding for -PLUS mechanisms; nil without TLS or without support.
    public let channelBinding: ChannelBinding?
    /// Whether the server advertised -PLUS mechanisms on this connection: a SCRAM client that sends
    /// "y" then fails (RFC 5802 6, downgrade protection). Always true for a -PLUS mechanism.
    public let plusAdvertised: Bool
    /// The server's host name, in CRAM-MD5 challenges.
    public let hostname: String
    public let successData: SuccessData
    /// The SCRAM iteration count announced for unknown users; set it to the count real accounts use.
    public var unknownUserIterations: Int = 4096

    let nonce: @Sendable () -> String
    let unknownUserSecret: [UInt8]
    var state: State = .initial

    /// - Parameters:
    ///   - nonce: the random part of SCRAM server nonces and CRAM-MD5 challenges: printable ASCII
    ///     without ",". Tests inject fixed values; the default is 24 base64 characters (144 random bits).
    ///   - unknownUserSecret: keys the fake SCRAM salts of unknown users, so the same name always gets
    ///     the same salt; defaults to a random per-process secret.
    public init(
        mechanism: SASLMechanism,
        channelBinding: ChannelBinding? = nil,
        plusAdvertised: Bool = false,
        hostname: String,
        successData: SuccessData = .asChallenge,
        nonce: @escaping @Sendable () -> String = SASLServer.randomNonce,
        unknownUserSecret: [UInt8]? = nil
    ) {
        self.mechanism = mechanism
        self.channelBinding = channelBinding
        self.plusAdvertised = plusAdvertised || mechanism.isPlus
        self.hostname = hostname
        self.successData = successData
        self.nonce = nonce
        self.unknownUserSecret = unknownUserSecret ?? processSecret
    }

    /// 18 random bytes in base64: 24 printable characters without ",".
    @Sendable public static func randomNonce() -> String {
        var generator = SystemRandomNumberGenerator()
        return SASLBase64.encode((0..<18).map { _ in UInt8.random(in: 0...255, using: &generator) })
    }

    /// Whether the exchange has ended (with success or failure).
    public var isFinished: Bool {
        if case .done = self.state { return true }
        return false
    }

    // MARK: - State

    struct SCRAMClientFirst: Hashable, Sendable {
        enum Flag: Hashable, Sendable {
            /// "n": the client does not support channel binding.
            case notSupported
            /// "y": the client supports it but thinks the server does not.
            case serverNotSupporting
            /// "p=cb-name": the client requires this channel binding type.
            case required(String)
        }

        var gs2Header: [UInt8]
        var flag: Flag
        var authzid: String?
        var bare: [UInt8]
        var username: String
        var clientNonce: [UInt8]
    }

    struct SCRAMExchange: Hashable, Sendable {
        var username: String
        var hash: SCRAMHash
        var keys: SCRAMServerKeys
        var unknownUser: Bool
        var nonce: [UInt8]
        var expectedChannelBinding: [UInt8]
        /// client-first-message-bare "," server-first-message
        var authMessagePrefix: [UInt8]
    }

    enum State: Hashable, Sendable {
        case initial
        case plainAwaitingResponse
        case loginAwaitingUsername
        case loginAwaitingPassword(username: String)
        case cramAwaitingResponse(challenge: [UInt8])
        case awaitingPasswordCheck(username: String)
        case scramAwaitingClientFirst
        case scramAwaitingKeys(SCRAMClientFirst, expectedChannelBinding: [UInt8])
        case scramAwaitingClientFinal(SCRAMExchange)
        case scramAwaitingFinalAck(username: String)
        case done
    }

    // MARK: - Steps

    /// Begins the exchange, with the client's initial response if it sent one (already base64-decoded;
    /// an empty array for "=", RFC 4954 4).
    public mutating func start(initialResponse: [UInt8]?) -> SASLStep {
        guard case .initial = self.state else {
            return self.fail(.malformed("exchange already started"))
        }
        if let initialResponse, initialResponse.count > SASLLimits.maximumMessageLength {
            return self.fail(.malformed("initial response too long"))
        }
        switch self.mechanism {
        case .plain:
            if let initialResponse {
                return self.plain(initialResponse)
            }
            // RFC 4422 5: without an initial response, a client-first mechanism gets an empty challenge.
            self.state = .plainAwaitingResponse
            return .challenge([])
        case .login:
            // LOGIN (draft-murchison-sasl-login): some clients send the user name as initial response.
            if let initialResponse {
                return self.loginUsername(initialResponse)
            }
            self.state = .loginAwaitingUsername
            return .challenge(Array("Username:".utf8))
        case .cramMD5:
            // RFC 4422 5: CRAM-MD5 is server-first, an initial response is a protocol error.
            guard initialResponse == nil else {
                return self.fail(.malformed("CRAM-MD5 takes no initial response"))
            }
            // RFC 2195 2: the challenge has the form of a msg-id, "<" unique "@" hostname ">".
            let challenge = Array("<\(self.nonce())@\(self.hostname)>".utf8)
            self.state = .cramAwaitingResponse(challenge: challenge)
            return .challenge(challenge)
        case .scramSHA1, .scramSHA1Plus, .scramSHA256, .scramSHA256Plus:
            if let initialResponse {
                return self.scramClientFirst(initialResponse)
            }
            self.state = .scramAwaitingClientFirst
            return .challenge([])
        }
    }

    /// Takes the client's answer to the last challenge, base64-decoded.
    public mutating func receive(_ clientData: [UInt8]) -> SASLStep {
        guard clientData.count <= SASLLimits.maximumMessageLength else {
            return self.fail(.malformed("response too long"))
        }
        switch self.state {
        case .plainAwaitingResponse:
            return self.plain(clientData)
        case .loginAwaitingUsername:
            return self.loginUsername(clientData)
        case .loginAwaitingPassword(let username):
            guard !clientData.isEmpty, !clientData.contains(0),
                let password = String(validating: clientData, as: UTF8.self)
            else {
                return self.fail(.malformed("LOGIN password empty, with NUL or not UTF-8"))
            }
            self.state = .awaitingPasswordCheck(username: username)
            return .verifyPlain(authzid: nil, username: username, password: password)
        case .cramAwaitingResponse(let challenge):
            return self.cramMD5(clientData, challenge: challenge)
        case .scramAwaitingClientFirst:
            return self.scramClientFirst(clientData)
        case .scramAwaitingClientFinal(let exchange):
            return self.scramClientFinal(clientData, exchange)
        case .scramAwaitingFinalAck(let username):
            // RFC 4422 3.6: the client acknowledges the server-final challenge with an empty response.
            guard clientData.isEmpty else {
                return self.fail(.malformed("expected an empty response after the server-final message"))
            }
            self.state = .done
            return .success(username: username, additionalData: nil)
        case .initial, .awaitingPasswordCheck, .scramAwaitingKeys, .done:
            return self.fail(.malformed("unexpected client data"))
        }
    }

    /// The result of the check asked for by `.verifyPlain` or `.verifyCRAMMD5`.
    public mutating func passwordVerified(_ valid: Bool) -> SASLStep {
        guard case .awaitingPasswordCheck(let username) = self.state else {
            return self.fail(.malformed("no password check pending"))
        }
        guard valid else {
            return self.fail(.failed("invalid credentials for \(username)"))
        }
        self.state = .done
        return .success(username: username, additionalData: nil)
    }

    mutating func fail(_ error: SASLError) -> SASLStep {
        self.state = .done
        return .failure(error)
    }

    // MARK: - PLAIN, LOGIN, CRAM-MD5

    /// RFC 4616 2:
    /// ```
    /// message = [authzid] UTF8NUL authcid UTF8NUL passwd
    /// authcid = 1*SAFE ; MUST accept up to 255 octets
    /// passwd  = 1*SAFE ; MUST accept up to 255 octets
    /// SAFE    = UTF1 / UTF2 / UTF3 / UTF4 ; any UTF-8 encoded Unicode character except NUL
    /// ```
    private mutating func plain(_ message: [UInt8]) -> SASLStep {
        let parts = message.split(separator: 0, omittingEmptySubsequences: false)
        guard parts.count == 3 else {
            return self.fail(.malformed("PLAIN message needs exactly two NUL separators"))
        }
        guard let authzid = String(validating: parts[0], as: UTF8.self),
            let username = String(validating: parts[1], as: UTF8.self),
            let password = String(validating: parts[2], as: UTF8.self)
        else {
            return self.fail(.malformed("PLAIN message not UTF-8"))
        }
        guard !username.isEmpty, !password.isEmpty else {
            return self.fail(.malformed("PLAIN authcid or password empty"))
        }
        // RFC 4616 2: the server may refuse an authzid other than the authcid; acting as another user
        // is not supported.
        guard authzid.isEmpty || authzid == username else {
            return self.fail(.failed("authorization identity \(authzid) differs from \(username)"))
        }
        self.state = .awaitingPasswordCheck(username: username)
        return .verifyPlain(authzid: authzid.isEmpty ? nil : authzid, username: username, password: password)
    }

    private mutating func loginUsername(_ data: [UInt8]) -> SASLStep {
        guard !data.isEmpty, !data.contains(0), let username = String(validating: data, as: UTF8.self) else {
            return self.fail(.malformed("LOGIN user name empty, with NUL or not UTF-8"))
        }
        self.state = .loginAwaitingPassword(username: username)
        return .challenge(Array("Password:".utf8))
    }

    /// RFC 2195 2: the response is the user name, a space, and the HMAC-MD5 digest of the challenge
    /// keyed with the password, as 32 lower-case hex digits (upper case accepted too).
    private mutating func cramMD5(_ response: [UInt8], challenge: [UInt8]) -> SASLStep {
        guard let space = response.lastIndex(of: UInt8(ascii: " ")) else {
            return self.fail(.malformed("CRAM-MD5 response without space"))
        }
        let hex = response[(space + 1)...]
        guard space > 0, let username = String(validating: response[..<space], as: UTF8.self),
            let digest = decodeHex(hex), digest.count == 16
        else {
            return self.fail(.malformed("CRAM-MD5 response is not \"user hexdigest\""))
        }
        self.state = .awaitingPasswordCheck(username: username)
        return .verifyCRAMMD5(username: username, challenge: challenge, digest: digest)
    }
}

/// Keys unknown users' fake SCRAM salts for this process.
private let processSecret: [UInt8] = {
    var generator = SystemRandomNumberGenerator()
    return (0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) }
}()

func decodeHex(_ text: some Collection<UInt8>) -> [UInt8]? {
    func value(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): c - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): c - UInt8(ascii: "A") + 10
        default: nil
        }
    }
    let chars = Array(text)
    guard chars.count % 2 == 0 else { return nil }
    var out: [UInt8] = []
    var i = 0
    while i < chars.count {
        guard let high = value(chars[i]), let low = value(chars[i + 1]) else { return nil }
        out.append(high << 4 | low)
        i += 2
    }
    return out
}

func encodeHex(_ bytes: [UInt8]) -> String {
    let digits = Array("0123456789abcdef".utf8)
    var out: [UInt8] = []
    for b in bytes {
        out.append(digits[Int(b >> 4)])
        out.append(digits[Int(b & 15)])
    }
    return String(decoding: out, as: UTF8.self)
}
