import Crypto

/// Client messages for the password mechanisms, for interop tests and our own SMTP client.
public enum SASLClient {
    /// RFC 4616 2: [authzid] NUL authcid NUL passwd.
    public static func plain(authzid: String? = nil, username: String, password: String) -> [UInt8] {
        Array((authzid ?? "").utf8) + [0] + Array(username.utf8) + [0] + Array(password.utf8)
    }

    /// RFC 2195 2: HMAC-MD5 of the challenge keyed with the password (RFC 2104).
    public static func cramMD5Digest(password: String, challenge: [UInt8]) -> [UInt8] {
        Array(HMAC<Insecure.MD5>.authenticationCode(for: challenge, using: SymmetricKey(data: Array(password.utf8))))
    }

    /// RFC 2195 2: the user name, a space, and the digest as 32 lower-case hex digits.
    public static func cramMD5Response(username: String, password: String, challenge: [UInt8]) -> [UInt8] {
        Array("\(username) \(encodeHex(self.cramMD5Digest(password: password, challenge: challenge)))".utf8)
    }
}

/// The client side of a SCRAM exchange, for interop tests and our own SMTP client.
/// - SeeAlso: RFC 5802 5
public struct SCRAMClient: Sendable {
    /// What the client says about channel binding in its gs2 header.
    /// - SeeAlso: RFC 5802 6
    public enum ChannelBindingUse: Hashable, Sendable {
        /// "n": the client does not support channel binding.
        case notSupported
        /// "y": the client supports it, but the server did not advertise -PLUS.
        case serverNotSupporting
        /// "p=type": bind to this channel (use with a -PLUS mechanism).
        case bind(ChannelBinding)
    }

    public let hash: SCRAMHash
    public let username: String
    public let authzid: String?
    public let channelBinding: ChannelBindingUse
    public let clientNonce: String
    private let password: String
    private var clientFirstBare: [UInt8] = []
    private var expectedServerSignature: [UInt8]?

    /// The longest iteration count the client accepts from a server.
    public static let maximumIterations = 10_000_000

    public init(
        hash: SCRAMHash,
        username: String,
        password: String,
        authzid: String? = nil,
        channelBinding: ChannelBindingUse = .notSupported,
        nonce: String = SASLServer.randomNonce()
    ) {
        self.hash = hash
        self.username = username
        self.password = password
        self.authzid = authzid
        self.channelBinding = channelBinding
        self.clientNonce = nonce
    }

    /// RFC 5802 7: gs2-header = gs2-cbind-flag "," [ authzid ] ","
    public var gs2Header: [UInt8] {
        let flag: String
        switch self.channelBinding {
        case .notSupported: flag = "n"
        case .serverNotSupporting: flag = "y"
        case .bind(let binding): flag = "p=\(binding.type)"
        }
        let authz = self.authzid.map { "a=\(SCRAM.escapeSASLName($0))" } ?? ""
        return Array("\(flag),\(authz),".utf8)
    }

    /// The client-first message: gs2 header and client-first-message-bare.
    public mutating func clientFirst() -> [UInt8] {
        self.clientFirstBare = Array("n=\(SCRAM.escapeSASLName(self.username)),r=\(self.clientNonce)".utf8)
        return self.gs2Header + self.clientFirstBare
    }

    /// Takes the server-first message and returns the client-final message.
    public mutating func serverFirst(_ message: [UInt8]) throws(SASLError) -> [UInt8] {
        let parts = message.splitOnComma()
        if let first = parts.first, first.hasPrefix("m=") {
            // RFC 5802 5.1: a mandatory extension the client does not know fails the exchange.
            throw .failed("server requires an extension", scram: "extensions-not-supported")
        }
        guard parts.count >= 3, parts[0].hasPrefix("r="), parts[1].hasPrefix("s="), parts[2].hasPrefix("i=") else {
            throw .malformed("invalid server-first message")
        }
        let nonce = parts[0].attributeValue
        // RFC 5802 5.1: the server's nonce starts with the client's and adds to it.
        guard nonce.starts(with: self.clientNonce.utf8), nonce.count > self.clientNonce.utf8.count,
            nonce.allSatisfy(SCRAM.isPrintable)
        else {
            throw .failed("server nonce does not extend the client nonce")
        }
        guard let salt = SASLBase64.decode(parts[1].attributeValue), !salt.isEmpty else {
            throw .malformed("invalid salt")
        }
        guard let iterations = Int(String(decoding: parts[2].attributeValue, as: UTF8.self)),
            iterations >= 1, iterations <= Self.maximumIterations
        else {
            throw .malformed("invalid iteration count")
        }

        var cbindInput = self.gs2Header
        if case .bind(let binding) = self.channelBinding {
            cbindInput += binding.data
        }
        let withoutProof = Array("c=\(SASLBase64.encode(cbindInput)),r=".utf8) + Array(nonce)
        let authMessage = self.clientFirstBare + Array(",".utf8) + message + Array(",".utf8) + withoutProof
        let salted = SCRAM.saltedPassword(
            password: self.password,
            salt: salt,
            iterations: iterations,
            hash: self.hash
        )
        let clientKey = SCRAM.clientKey(hash: self.hash, saltedPassword: salted)
        let storedKey = self.hash.hash(clientKey)
        let clientSignature = self.hash.hmac(key: storedKey, authMessage)
        let proof = zip(clientKey, clientSignature).map { $0 ^ $1 }
        let serverKey = SCRAM.serverKey(hash: self.hash, saltedPassword: salted)
        self.expectedServerSignature = self.hash.hmac(key: serverKey, authMessage)
        return withoutProof + Array(",p=".utf8) + SASLBase64.encodeBytes(proof)
    }

    /// Checks the server-final message: "v=" with the expected server signature, or "e=" with an error.
    public func serverFinal(_ message: [UInt8]) throws(SASLError) {
        let first = message.splitOnComma().first ?? []
        if first.hasPrefix("e=") {
            let value = String(decoding: first.attributeValue, as: UTF8.self)
            throw .failed("server error \(value)", scram: value)
        }
        guard first.hasPrefix("v="), let signature = SASLBase64.decode(first.attributeValue),
            let expected = self.expectedServerSignature
        else {
            throw .malformed("invalid server-final message")
        }
        guard constantTimeEqual(signature, expected) else {
            throw .failed("server signature mismatch: the server does not know the password")
        }
    }
}
