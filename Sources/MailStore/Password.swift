import Crypto
import GRDB
import MailSASL
import Synchronization
import _CryptoExtras

// SHA-1, SHA-256, HMAC and PBKDF2 come from swift-crypto (PBKDF2 from _CryptoExtras, with a
// plain loop over HMAC for other hash functions).

/// PBKDF2 with HMAC over `H`, one output block (`dkLen` = the hash length), which is all SCRAM's
/// `Hi()` and the PLAIN hash need.
/// - SeeAlso: RFC 8018 5.2, RFC 5802 2.2
func pbkdf2<H: HashFunction>(_ hash: H.Type, password: [UInt8], salt: [UInt8], iterations: Int) -> [UInt8] {
    // RFC 8018 5.2 (PBKDF2 with HMAC), one block: BoringSSL's implementation, which keys the HMAC
    // once instead of once per iteration (a login costs tens of milliseconds, not hundreds).
    let function: KDF.Insecure.PBKDF2.HashFunction? =
        H.self == SHA256.self ? .sha256 : H.self == Insecure.SHA1.self ? .insecureSHA1 : nil
    if let function,
        let key = try? KDF.Insecure.PBKDF2.deriveKey(
            from: password,
            salt: salt,
            using: function,
            outputByteCount: H.Digest.byteCount,
            unsafeUncheckedRounds: iterations
        )
    {
        return key.withUnsafeBytes { Array($0) }
    }
    let key = SymmetricKey(data: password)
    var block = salt
    block.append(contentsOf: [0, 0, 0, 1])
    var u = Array(HMAC<H>.authenticationCode(for: block, using: key))
    var result = u
    if iterations > 1 {
        for _ in 1..<iterations {
            u = Array(HMAC<H>.authenticationCode(for: u, using: key))
            for i in 0..<result.count {
                result[i] ^= u[i]
            }
        }
    }
    return result
}

func randomBytes(_ count: Int) -> [UInt8] {
    var generator = SystemRandomNumberGenerator()
    return (0..<count).map { _ in UInt8.random(in: 0...255, using: &generator) }
}

/// How expensive the derived password secrets are.
public struct PasswordParameters: Hashable, Sendable {
    /// SCRAM iteration count (RFC 5802 5.1 and RFC 7677 recommend at least 4096).
    public var scramIterations: Int
    /// PBKDF2-HMAC-SHA256 iterations for the hash that checks PLAIN logins.
    public var plainIterations: Int
    /// Whether to keep CRAM-MD5 material; it lets anyone who reads it log in with CRAM-MD5.
    public var cramMD5: Bool

    public init(scramIterations: Int = 4096, plainIterations: Int = 100_000, cramMD5: Bool = false) {
        self.scramIterations = scramIterations
        self.plainIterations = plainIterations
        self.cramMD5 = cramMD5
    }
}

/// What a server needs to run SCRAM for one account: never the password itself.
/// - SeeAlso: RFC 5802 3
public struct SCRAMCredentials: Hashable, Sendable {
    public typealias Hash = SCRAMHash

    public var hash: Hash
    public var salt: [UInt8]
    public var iterations: Int
    public var saltedPassword: [UInt8]

    /// StoredKey and ServerKey (RFC 5802 3), what the SASL server (MailSASL) checks proofs with.
    public var serverKeys: SCRAMServerKeys {
        SCRAMServerKeys(
            hash: self.hash,
            saltedPassword: self.saltedPassword,
            salt: self.salt,
            iterations: self.iterations
        )
    }
}

extension Account {
    /// Stores new derived secrets for `password`: SCRAM-SHA-1 and SCRAM-SHA-256 salted passwords and a
    /// PBKDF2-HMAC-SHA256 hash for PLAIN, each with its own random salt. The password is not kept.
    /// With `parameters.cramMD5`, the CRAM-MD5 inner and outer HMAC states are kept as well.
    public func setPassword(
        _ password: String,
        parameters: PasswordParameters = PasswordParameters()
    )
        async throws(StoreError)
    {
        let bytes = Array(password.utf8)
        let sha1Salt = randomBytes(16)
        let sha256Salt = randomBytes(16)
        let plainSalt = randomBytes(16)
        let cram = parameters.cramMD5 ? CRAMMD5Secret(password: bytes) : nil
        let record = PasswordRecord(
            scramSHA1Salt: sha1Salt,
            scramSHA1Iterations: Int64(parameters.scramIterations),
            scramSHA1SaltedPassword: pbkdf2(
                Insecure.SHA1.self,
                password: bytes,
                salt: sha1Salt,
                iterations: parameters.scramIterations
            ),
            scramSHA256Salt: sha256Salt,
            scramSHA256Iterations: Int64(parameters.scramIterations),
            scramSHA256SaltedPassword: pbkdf2(
                SHA256.self,
                password: bytes,
                salt: sha256Salt,
                iterations: parameters.scramIterations
            ),
            plainSalt: plainSalt,
            plainIterations: Int64(parameters.plainIterations),
            plainHash: pbkdf2(SHA256.self, password: bytes, salt: plainSalt, iterations: parameters.plainIterations),
            cramMD5Inner: cram?.inner.bytes,
            cramMD5Outer: cram?.outer.bytes
        )
        try await self.write("setting password") { db, _ in
            try record.save(db)
        }
    }

    /// Checks a password given in the clear (AUTH PLAIN, IMAP LOGIN) against the stored hash.
    public func verifyPlainPassword(_ password: String) async throws(StoreError) -> Bool {
        guard let record = try await self.passwordRecord() else { return false }
        // A client that logs in again (another connection, a reconnect) with the same password
        // is recognized without the slow hash; the cache key includes the stored hash, so a new
        // password never matches an old entry.
        let cacheKey = VerifiedPasswords.key(stored: record.plainSalt + record.plainHash, password: password)
        if VerifiedPasswords.shared.contains(cacheKey) {
            return true
        }
        let hash = pbkdf2(
            SHA256.self,
            password: Array(password.utf8),
            salt: record.plainSalt,
            iterations: Int(record.plainIterations)
        )
        guard constantTimeEqual(hash, record.plainHash) else { return false }
        VerifiedPasswords.shared.insert(cacheKey)
        return true
    }

    /// Checks a CRAM-MD5 response: `digest` is the client's HMAC-MD5 of `challenge` keyed with the
    /// password (decoded from hex). False when no CRAM-MD5 material is stored.
    /// - SeeAlso: RFC 2195 2
    public func verifyCRAMMD5(challenge: [UInt8], digest: [UInt8]) async throws(StoreError) -> Bool {
        guard let record = try await self.passwordRecord(),
            let innerBytes = record.cramMD5Inner, let outerBytes = record.cramMD5Outer,
            let inner = MD5State(bytes: innerBytes), let outer = MD5State(bytes: outerBytes)
        else {
            return false
        }
        return constantTimeEqual(CRAMMD5Secret(inner: inner, outer: outer).hmac(challenge), digest)
    }

    /// The stored SCRAM credentials, or nil when no password is set.
    public func scramCredentials(_ hash: SCRAMCredentials.Hash) async throws(StoreError) -> SCRAMCredentials? {
        guard let record = try await self.passwordRecord() else { return nil }
        switch hash {
        case .sha1:
            return SCRAMCredentials(
                hash: .sha1,
                salt: record.scramSHA1Salt,
                iterations: Int(record.scramSHA1Iterations),
                saltedPassword: record.scramSHA1SaltedPassword
            )
        case .sha256:
            return SCRAMCredentials(
                hash: .sha256,
                salt: record.scramSHA256Salt,
                iterations: Int(record.scramSHA256Iterations),
                saltedPassword: record.scramSHA256SaltedPassword
            )
        }
    }

    func passwordRecord() async throws(StoreError) -> PasswordRecord? {
        try await self.read("reading password") { db in try PasswordRecord.fetchOne(db, key: 1) }
    }
}

/// Recently verified passwords, in memory only: for each, an HMAC keyed with a random
/// per-process secret over the stored hash and the password, valid for a few minutes. Dovecot
/// keeps a similar authentication cache; it spares the deliberately slow password hash when
/// mail clients open several connections or reconnect.
final class VerifiedPasswords: Sendable {
    static let shared = VerifiedPasswords()
    static let lifetime: Duration = .seconds(300)
    static let capacity = 10_000

    private let secret = randomBytes(32)
    private let entries = Mutex<[[UInt8]: ContinuousClock.Instant]>([:])

    static func key(stored: [UInt8], password: String) -> [UInt8] {
        var mac = HMAC<SHA256>(key: SymmetricKey(data: Self.shared.secret))
        mac.update(data: stored)
        mac.update(data: [0])
        mac.update(data: Array(password.utf8))
        return Array(mac.finalize())
    }

    func contains(_ key: [UInt8]) -> Bool {
        self.entries.withLock { entries in
            guard let expires = entries[key] else { return false }
            if expires < ContinuousClock.now {
                entries[key] = nil
                return false
            }
            return true
        }
    }

    func insert(_ key: [UInt8]) {
        let now = ContinuousClock.now
        self.entries.withLock { entries in
            if entries.count >= Self.capacity {
                entries = entries.filter { $0.value > now }
                if entries.count >= Self.capacity {
                    entries.removeAll()
                }
            }
            entries[key] = now + Self.lifetime
        }
    }
}
