import Crypto

/// The hash function of a SCRAM mechanism.
/// - SeeAlso: RFC 5802 (SHA-1), RFC 7677 (SHA-256)
public enum SCRAMHash: String, CaseIterable, Hashable, Sendable {
    case sha1 = "SHA-1"
    case sha256 = "SHA-256"

    /// Output length of H() and HMAC() in bytes.
    public var length: Int {
        switch self {
        case .sha1: 20
        case .sha256: 32
        }
    }

    /// RFC 5802 2.2: HMAC(key, str).
    public func hmac(key: [UInt8], _ data: [UInt8]) -> [UInt8] {
        switch self {
        case .sha1: Array(HMAC<Insecure.SHA1>.authenticationCode(for: data, using: SymmetricKey(data: key)))
        case .sha256: Array(HMAC<SHA256>.authenticationCode(for: data, using: SymmetricKey(data: key)))
        }
    }

    /// RFC 5802 2.2: H(str).
    public func hash(_ data: [UInt8]) -> [UInt8] {
        switch self {
        case .sha1: Array(Insecure.SHA1.hash(data: data))
        case .sha256: Array(SHA256.hash(data: data))
        }
    }
}

/// What a SCRAM server needs for one account and hash; never the password.
/// MailStore's `SCRAMCredentials` has exactly these values.
/// - SeeAlso: RFC 5802 3
public struct SCRAMServerKeys: Hashable, Sendable {
    public var salt: [UInt8]
    public var iterations: Int
    /// StoredKey := H(ClientKey)
    public var storedKey: [UInt8]
    /// ServerKey := HMAC(SaltedPassword, "Server Key")
    public var serverKey: [UInt8]

    public init(salt: [UInt8], iterations: Int, storedKey: [UInt8], serverKey: [UInt8]) {
        self.salt = salt
        self.iterations = iterations
        self.storedKey = storedKey
        self.serverKey = serverKey
    }

    /// The keys derived from a salted password.
    public init(hash: SCRAMHash, saltedPassword: [UInt8], salt: [UInt8], iterations: Int) {
        self.init(
            salt: salt,
            iterations: iterations,
            storedKey: SCRAM.storedKey(hash: hash, saltedPassword: saltedPassword),
            serverKey: SCRAM.serverKey(hash: hash, saltedPassword: saltedPassword)
        )
    }

    /// The keys for a password (runs PBKDF2: slow on purpose).
    public init(hash: SCRAMHash, password: String, salt: [UInt8], iterations: Int) {
        let salted = SCRAM.saltedPassword(password: password, salt: salt, iterations: iterations, hash: hash)
        self.init(hash: hash, saltedPassword: salted, salt: salt, iterations: iterations)
    }
}

/// The SCRAM key derivations and message pieces, shared by the server and the client helper.
/// - SeeAlso: RFC 5802 3
public enum SCRAM {
    /// RFC 5802 3: SaltedPassword := Hi(Normalize(password), salt, i). Normalize (SASLprep, RFC 4013)
    /// is reduced to taking the UTF-8 bytes as they are, which is exact for ASCII passwords.
    public static func saltedPassword(password: String, salt: [UInt8], iterations: Int, hash: SCRAMHash) -> [UInt8] {
        self.hi(hash: hash, password: Array(password.utf8), salt: salt, iterations: iterations)
    }

    /// RFC 5802 2.2: Hi(str, salt, i) is PBKDF2 (RFC 8018 5.2) with HMAC as the PRF and one output block.
    public static func hi(hash: SCRAMHash, password: [UInt8], salt: [UInt8], iterations: Int) -> [UInt8] {
        var u = hash.hmac(key: password, salt + [0, 0, 0, 1])
        var result = u
        var i = 1
        while i < iterations {
            u = hash.hmac(key: password, u)
            for j in 0..<result.count {
                result[j] ^= u[j]
            }
            i += 1
        }
        return result
    }

    /// RFC 5802 3: ClientKey := HMAC(SaltedPassword, "Client Key")
    public static func clientKey(hash: SCRAMHash, saltedPassword: [UInt8]) -> [UInt8] {
        hash.hmac(key: saltedPassword, Array("Client Key".utf8))
    }

    /// RFC 5802 3: StoredKey := H(ClientKey)
    public static func storedKey(hash: SCRAMHash, saltedPassword: [UInt8]) -> [UInt8] {
        hash.hash(self.clientKey(hash: hash, saltedPassword: saltedPassword))
    }

    /// RFC 5802 3: ServerKey := HMAC(SaltedPassword, "Server Key")
    public static func serverKey(hash: SCRAMHash, saltedPassword: [UInt8]) -> [UInt8] {
        hash.hmac(key: saltedPassword, Array("Server Key".utf8))
    }

    /// RFC 5802 5.1: a saslname with "," and "=" escaped as "=2C" and "=3D".
    public static func escapeSASLName(_ name: String) -> String {
        var out = ""
        for c in name.unicodeScalars {
            switch c {
            case ",": out += "=2C"
            case "=": out += "=3D"
            default: out.unicodeScalars.append(c)
            }
        }
        return out
    }

    /// RFC 5802 5.1 and 7: saslname = 1*(value-safe-char / "=2C" / "=3D"); value-safe-char is any
    /// UTF-8 character except NUL, "=" and ",". Other "=" escapes are invalid. Nil when malformed.
    public static func unescapeSASLName(_ bytes: ArraySlice<UInt8>) -> String? {
        guard !bytes.isEmpty else { return nil }
        var out: [UInt8] = []
        var i = bytes.startIndex
        while i < bytes.endIndex {
            let c = bytes[i]
            if c == 0 || c == UInt8(ascii: ",") {
                return nil
            }
            if c == UInt8(ascii: "=") {
                guard i + 3 <= bytes.endIndex else { return nil }
                let escape = [bytes[i + 1], bytes[i + 2]]
                if escape == Array("2C".utf8) {
                    out.append(UInt8(ascii: ","))
                } else if escape == Array("3D".utf8) {
                    out.append(UInt8(ascii: "="))
                } else {
                    return nil
                }
                i += 3
                continue
            }
            out.append(c)
            i += 1
        }
        return String(validating: out, as: UTF8.self)
    }

    /// RFC 5802 7: printable = %x21-2B / %x2D-7E (printable ASCII except ","). Nonces are made of it.
    static func isPrintable(_ c: UInt8) -> Bool {
        c >= 0x21 && c <= 0x7e && c != UInt8(ascii: ",")
    }

    /// RFC 5802 7: attr-val = ALPHA "=" value, with value = 1*value-char (any UTF-8 except NUL and ",").
    static func isAttributeValue(_ part: ArraySlice<UInt8>, attribute: UInt8? = nil) -> Bool {
        guard part.count >= 3, let first = part.first else { return false }
        let isAlpha = (first >= 0x41 && first <= 0x5a) || (first >= 0x61 && first <= 0x7a)
        guard isAlpha, part[part.startIndex + 1] == UInt8(ascii: "=") else { return false }
        if let attribute, first != attribute { return false }
        return !part.contains(0)
    }
}

/// Compares without stopping at the first difference, so the time taken does not tell an
/// attacker how much of a secret matched.
public func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
    guard a.count == b.count else { return false }
    var difference: UInt8 = 0
    for i in 0..<a.count {
        difference |= a[i] ^ b[i]
    }
    return difference == 0
}

extension Array where Element == UInt8 {
    /// Splits on "," keeping empty parts.
    func splitOnComma() -> [ArraySlice<UInt8>] {
        self.split(separator: UInt8(ascii: ","), omittingEmptySubsequences: false)
    }
}

extension ArraySlice where Element == UInt8 {
    func hasPrefix(_ prefix: String) -> Bool {
        self.starts(with: prefix.utf8)
    }

    /// The bytes after a two-byte "x=" attribute prefix.
    var attributeValue: ArraySlice<UInt8> {
        self.dropFirst(2)
    }
}
