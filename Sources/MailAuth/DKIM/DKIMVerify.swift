// DKIM verification (RFC 6376 6) of every signature on a message, over any MailDNS.Resolver.
// The body is hashed as it streams from the stored file, once per canonicalization and hash.

import Crypto
import MailDNS
import MailMessage
import _CryptoExtras

/// RFC 8601 2.7.1: the results of one signature.
public enum DKIMStatus: String, Hashable, Sendable {
    case none, pass, fail, policy, neutral, temperror, permerror
}

public struct DKIMResult: Hashable, Sendable {
    public var status: DKIMStatus
    /// The signature, when it parsed.
    public var signature: DKIMSignature?
    /// The key record, when it was found and parsed.
    public var record: DKIMKeyRecord?
    /// Why the status is not pass.
    public var problem: String
    /// Whether the key record's lookup was DNSSEC-authentic.
    public var authentic: Bool
    /// The size of the record's RSA key, when it is a usable one (for Authentication-Results'
    /// comment, as mox writes it).
    public var rsaBits: Int?

    public init(status: DKIMStatus, signature: DKIMSignature?, record: DKIMKeyRecord?, problem: String, authentic: Bool, rsaBits: Int? = nil) {
        self.status = status
        self.signature = signature
        self.record = record
        self.problem = problem
        self.authentic = authentic
        self.rsaBits = rsaBits
    }
}

extension DKIMKeyRecord {
    /// The size of an RSA public key (the p= value: DER SubjectPublicKeyInfo or PKCS#1) of at
    /// least 1024 bits (RFC 8301 3.2); nil when it is not one.
    public static func rsaBits(_ publicKey: [UInt8]) -> Int? {
        RSAPublicKeyDER.publicKey(publicKey)?.keySizeInBits
    }
}

/// Reads the message body in pieces for hashing: called with a sink, it feeds every byte of the
/// body (everything after the header's empty line) in order.
public typealias DKIMBodySource = (_ sink: (ArraySlice<UInt8>) -> Void) throws -> Void

public struct DKIMVerifier: Sendable {
    public let resolver: any Resolver
    /// Seconds since the epoch, for x= expiration.
    public var now: Int
    /// mox's rule for testing keys (t=y): with it false, a failure under a testing key counts as
    /// no signature (RFC 6376 3.6.1 lets verifiers treat it so).
    public var ignoreTestMode = false

    /// Parsed key records and public keys, shared by default across the process.
    public var keyCache: DKIMKeyCache

    public init(resolver: any Resolver, now: Int, keyCache: DKIMKeyCache = .shared) {
        self.resolver = resolver
        self.now = now
        self.keyCache = keyCache
    }

    /// Verifies each DKIM-Signature field of the header, in order. The header is the raw header
    /// section; `body` streams the body.
    public func verify(header: [UInt8], body: DKIMBodySource) async -> [DKIMResult] {
        guard let fields = RawHeader.fields(header) else {
            return [DKIMResult(status: .permerror, signature: nil, record: nil, problem: "malformed message header", authentic: false)]
        }
        var results: [DKIMResult] = []
        var bodyHashes = DKIMBodyHashes()
        for field in fields where field.lowercasedName == "dkim-signature" {
            var result = await self.verifyOne(field, fields: fields, body: body, bodyHashes: &bodyHashes)
            if result.status == .fail, let record = result.record, record.testing, !self.ignoreTestMode {
                result.status = .none
                result.problem += " (key in testing mode)"
            }
            results.append(result)
        }
        return results
    }

    func verifyOne(
        _ field: RawHeaderField, fields: [RawHeaderField], body: DKIMBodySource,
        bodyHashes: inout DKIMBodyHashes
    ) async -> DKIMResult {
        func result(_ status: DKIMStatus, _ sig: DKIMSignature?, _ record: DKIMKeyRecord?, _ problem: String, authentic: Bool = false) -> DKIMResult {
            DKIMResult(status: status, signature: sig, record: record, problem: problem, authentic: authentic)
        }
        let colon = field.raw.firstIndex(of: UInt8(ascii: ":")) ?? field.raw.count - 1
        let value = Array(field.raw[(colon + 1)...])
        let sig: DKIMSignature
        do {
            sig = try DKIMSignature(parsingValue: value)
        } catch {
            return result(.permerror, nil, nil, "parsing DKIM-Signature: \(error)")
        }
        // RFC 6376 6.1.1: an expired signature is unusable.
        if let x = sig.expireTime, x < self.now {
            return result(.permerror, sig, nil, "signature expired")
        }
        // RFC 8301 3.1: rsa-sha1 signatures are not valid.
        if sig.algorithm == .rsaSHA1 {
            return result(.permerror, sig, nil, "rsa-sha1 signatures are not accepted (RFC 8301)")
        }
        // mox does not verify partial bodies: l= is refused.
        if sig.length != nil {
            return result(.permerror, sig, nil, "l= (body length) is not supported")
        }
        // RFC 6376 3.6.2.1: the key is at <selector>._domainkey.<domain>.
        guard let name = try? DNSName("\(sig.selector)._domainkey.\(sig.domain)") else {
            return result(.permerror, sig, nil, "invalid key name for selector \(sig.selector)")
        }
        let texts: [String]
        let authentic: Bool
        do {
            let (found, dns) = try await self.resolver.lookupTXT(name)
            texts = found
            authentic = dns.authentic
        } catch {
            // RFC 6376 6.1.2: no key is a permanent failure, a DNS failure a temporary one.
            if error.isNotFound { return result(.permerror, sig, nil, "no dkim key record at \(name.text)") }
            return result(.temperror, sig, nil, "\(error)")
        }
        var found: (text: String, record: DKIMKeyRecord)?
        var recordError = "no dkim key record at \(name.text)"
        for text in texts {
            switch self.keyCache.record(text) {
            case .success(let record):
                found = (text, record)
            case .failure(let error):
                recordError = "key record at \(name.text): \(error)"
            }
            if found != nil { break }
        }
        guard let (recordText, record) = found else { return result(.permerror, sig, nil, recordError, authentic: authentic) }
        // The key is parsed once per record text, for its size in every result from here on (as
        // mox reports it); an unusable key is reported only after the record's rules and the
        // body hash.
        let publicKey = self.keyCache.publicKey(recordText, record: record)
        var rsaBits: Int?
        if case .rsa(let key) = publicKey { rsaBits = key.keySizeInBits }
        func keyed(_ status: DKIMStatus, _ problem: String) -> DKIMResult {
            DKIMResult(status: status, signature: sig, record: record, problem: problem, authentic: authentic, rsaBits: rsaBits)
        }
        func bad(_ problem: String) -> DKIMResult { keyed(.permerror, problem) }
        // RFC 6376 3.6.1: the record's h=, k=, s= and t=s must allow this signature.
        if !record.hashes.isEmpty && !record.hashes.contains(sig.algorithm.hashName) {
            return bad("key record does not allow hash \(sig.algorithm.hashName)")
        }
        guard record.keyType == sig.algorithm.keyType else {
            return bad("key record is for \(record.keyType), signature uses \(sig.algorithm.keyType)")
        }
        guard !record.publicKey.isEmpty else { return bad("key revoked (empty p=)") }
        guard record.services.contains("*") || record.services.contains("email") else {
            return bad("key not for email (s=\(record.services.joined(separator: ":")))")
        }
        if record.strict {
            let identityDomain = sig.identity.split(separator: "@").last.map { $0.lowercased() } ?? ""
            guard identityDomain == sig.domain else { return bad("key requires i= domain to equal d= (t=s)") }
        }
        let bodyHash: [UInt8]
        do {
            bodyHash = try bodyHashes.hash(relaxed: sig.bodyRelaxed, body: body)
        } catch {
            return keyed(.temperror, "reading message body: \(error)")
        }
        guard bodyHash == sig.bodyHash else {
            return keyed(.fail, "body hash does not match")
        }
        let digest = SHA256.hash(data: Self.signedData(sig.signedHeaders, relaxed: sig.headerRelaxed, field: field, fields: fields))
        let verified: Bool
        switch (sig.algorithm, publicKey) {
        case (_, .invalid(let problem)):
            return bad(problem)
        case (.ed25519SHA256, .ed25519(let publicKey)):
            // RFC 8463 3: PureEdDSA over the SHA-256 hash of the signed data.
            verified = publicKey.isValidSignature(sig.signature, for: Array(digest))
        case (.rsaSHA256, .rsa(let publicKey)):
            let signature = _RSA.Signing.RSASignature(rawRepresentation: sig.signature)
            verified = publicKey.isValidSignature(signature, for: digest, padding: .insecurePKCS1v1_5)
        default:
            // The key type was checked against the algorithm above; rsa-sha1 was refused.
            return bad("key does not fit algorithm \(sig.algorithm.rawValue)")
        }
        guard verified else {
            return keyed(.fail, "signature does not verify")
        }
        return keyed(.pass, "")
    }

    /// RFC 6376 3.7, 5.4.2: the signed header fields, each h= name taking the last unused
    /// instance from the bottom (a name with no instance left adds nothing), then the signature
    /// field itself with an empty b= value and without its trailing CRLF.
    static func signedData(_ signedHeaders: [String], relaxed: Bool, field: RawHeaderField, fields: [RawHeaderField]) -> [UInt8] {
        var data: [UInt8] = []
        var used: [String: Int] = [:]
        for name in signedHeaders {
            let lower = name.lowercased()
            let instances = fields.indices.filter { fields[$0].lowercasedName == lower }
            let n = used[lower, default: 0]
            used[lower] = n + 1
            guard n < instances.count else { continue }
            data += DKIMCanonical.header(fields[instances[instances.count - 1 - n]].raw, relaxed: relaxed)
        }
        var own = DKIMCanonical.header(Self.withEmptyB(field.raw), relaxed: relaxed)
        own.removeLast(2)
        return data + own
    }

    /// The field with the b= tag's value removed (RFC 6376 3.5 b=, 3.7: "with the value of the
    /// b= tag deleted"), all else unchanged.
    static func withEmptyB(_ raw: [UInt8]) -> [UInt8] {
        guard let colon = raw.firstIndex(of: UInt8(ascii: ":")) else { return raw }
        var i = colon + 1
        var tagStart = i
        while i <= raw.count {
            if i == raw.count || raw[i] == UInt8(ascii: ";") {
                // The tag spans tagStart..<i: is it b=?
                var j = tagStart
                while j < i, TagList.isFWS(raw[j]) { j += 1 }
                if j < i, raw[j] == UInt8(ascii: "b") {
                    var k = j + 1
                    while k < i, TagList.isFWS(raw[k]) { k += 1 }
                    if k < i, raw[k] == UInt8(ascii: "=") {
                        return Array(raw[...k]) + Array(raw[i...])
                    }
                }
                tagStart = i + 1
            }
            i += 1
        }
        return raw
    }
}
