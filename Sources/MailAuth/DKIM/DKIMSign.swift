// DKIM signing (RFC 6376 5) of submitted messages with the selectors of domains.conf.

import Crypto
import MailMessage
import _CryptoExtras

/// A private key for signing: RSA (2048 bits or more) or Ed25519 (RFC 8463).
public enum DKIMPrivateKey: @unchecked Sendable {
    case rsa(_RSA.Signing.PrivateKey)
    case ed25519(Curve25519.Signing.PrivateKey)

    /// Reads a PEM file's text: PKCS#8 ("PRIVATE KEY", RSA or Ed25519) or PKCS#1 ("RSA PRIVATE
    /// KEY"), as mox writes them and `openssl genpkey` does.
    public init(pem: String) throws(DKIMSyntaxError) {
        if pem.contains("-----BEGIN RSA PRIVATE KEY-----") {
            guard let key = try? _RSA.Signing.PrivateKey(pemRepresentation: pem) else {
                throw DKIMSyntaxError("invalid rsa private key")
            }
            self = .rsa(key)
            return
        }
        guard let der = Self.derFromPEM(pem, label: "PRIVATE KEY") else {
            throw DKIMSyntaxError("no PEM \"PRIVATE KEY\" block")
        }
        // RFC 8410 7: an Ed25519 PKCS#8 key is this fixed prefix and the 32-byte seed.
        let ed25519Prefix: [UInt8] = [0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20]
        if der.count == 48, Array(der.prefix(16)) == ed25519Prefix {
            guard let key = try? Curve25519.Signing.PrivateKey(rawRepresentation: der.suffix(32)) else {
                throw DKIMSyntaxError("invalid ed25519 private key")
            }
            self = .ed25519(key)
            return
        }
        guard let key = try? _RSA.Signing.PrivateKey(derRepresentation: der) else {
            throw DKIMSyntaxError("private key is neither ed25519 nor rsa of at least 2048 bits")
        }
        self = .rsa(key)
    }

    static func derFromPEM(_ pem: String, label: String) -> [UInt8]? {
        let begin = "-----BEGIN \(label)-----"
        let end = "-----END \(label)-----"
        guard let b = pem.firstRange(of: begin), let e = pem[b.upperBound...].firstRange(of: end) else { return nil }
        return Base64.decodeStrict(Array(pem[b.upperBound..<e.lowerBound].utf8))
    }

    var algorithm: DKIMAlgorithm {
        switch self {
        case .rsa: return .rsaSHA256
        case .ed25519: return .ed25519SHA256
        }
    }

    /// The key record's p= value: the SubjectPublicKeyInfo for RSA, the raw key for Ed25519.
    public var publicKeyRecordValue: [UInt8] {
        switch self {
        case .rsa(let key): return Array(key.publicKey.derRepresentation)
        case .ed25519(let key): return Array(key.publicKey.rawRepresentation)
        }
    }

    /// The TXT record to publish at <selector>._domainkey.<domain>, as mox writes it: SHA-256
    /// only, and t=s (the i= domain must be d=, RFC 6376 3.6.1).
    public var txtRecord: String {
        switch self {
        case .rsa: return "v=DKIM1;h=sha256;t=s;p=" + Base64.encode(self.publicKeyRecordValue)
        case .ed25519: return "v=DKIM1;h=sha256;k=ed25519;t=s;p=" + Base64.encode(self.publicKeyRecordValue)
        }
    }
}

/// One selector as signing uses it (from domains.conf's DKIM.Selectors).
public struct DKIMSigningSelector: Sendable {
    public var selector: String
    public var key: DKIMPrivateKey
    public var headerRelaxed: Bool
    public var bodyRelaxed: Bool
    /// The header fields to sign, mox's default set when empty.
    public var headers: [String]
    /// Sign each header once more than it occurs, so none can be added later (mox's default).
    public var sealHeaders: Bool
    /// Seconds the signature stays valid; nil for no x=.
    public var expiration: Int?

    /// mox's default header set.
    public static let defaultHeaders = [
        "From", "To", "Cc", "Bcc", "Reply-To", "References", "In-Reply-To", "Subject", "Date", "Message-Id", "Content-Type",
    ]

    public init(
        selector: String, key: DKIMPrivateKey, headerRelaxed: Bool = true, bodyRelaxed: Bool = true, headers: [String] = [],
        sealHeaders: Bool = true, expiration: Int? = nil
    ) {
        self.selector = selector
        self.key = key
        self.headerRelaxed = headerRelaxed
        self.bodyRelaxed = bodyRelaxed
        self.headers = headers.isEmpty ? Self.defaultHeaders : headers
        self.sealHeaders = sealHeaders
        self.expiration = expiration
    }
}

public enum DKIMSigner {
    /// DKIM-Signature header fields, one per selector, each ending in CRLF, to put in front of
    /// the message. `identity` is the i= value (the sender's address), `domain` the d= value.
    public static func sign(
        header: [UInt8], body: DKIMBodySource, domain: String, identity: String, selectors: [DKIMSigningSelector], now: Int
    ) throws -> String {
        guard let fields = RawHeader.fields(header) else { throw DKIMSyntaxError("malformed message header") }
        // RFC 6376 5.4: the message must have exactly one From to be signed meaningfully.
        let froms = fields.filter { $0.lowercasedName == "from" }.count
        guard froms == 1 else { throw DKIMSyntaxError("message has \(froms) From headers, need exactly 1") }
        var counts: [String: Int] = [:]
        for f in fields { counts[f.lowercasedName, default: 0] += 1 }
        var bodyHashes: [Bool: [UInt8]] = [:]
        var out = ""
        for sel in selectors {
            var signed = sel.headers
            if sel.sealHeaders {
                // RFC 6376 5.4.2, 8.15: each name once more per instance, so one more added later
                // breaks the signature.
                for h in sel.headers {
                    for _ in 0..<counts[h.lowercased(), default: 0] { signed.append(h) }
                }
            }
            let bodyHash: [UInt8]
            if let known = bodyHashes[sel.bodyRelaxed] {
                bodyHash = known
            } else {
                var hasher = DKIMBodyHasher(relaxed: sel.bodyRelaxed)
                try body { hasher.update($0) }
                bodyHash = hasher.finalize()
                bodyHashes[sel.bodyRelaxed] = bodyHash
            }
            let canonicalization = (sel.headerRelaxed ? "relaxed" : "simple") + "/" + (sel.bodyRelaxed ? "relaxed" : "simple")
            var tags: [String] = [
                "v=1", "d=\(domain)", "s=\(sel.selector)", "i=\(identity)", "a=\(sel.key.algorithm.rawValue)",
                "c=\(canonicalization)", "h=\(signed.joined(separator: ":"))", "t=\(now)",
            ]
            if let expiration = sel.expiration { tags.append("x=\(now + expiration)") }
            tags.append("bh=\(Base64.encode(bodyHash))")
            let unsigned = Self.fold("DKIM-Signature: " + tags.joined(separator: "; ") + "; b=")
            let sigField = RawHeaderField(name: "DKIM-Signature", raw: Array(unsigned.utf8))
            let parsed = try DKIMSignature(parsingValue: Array(unsigned.utf8.dropFirst("DKIM-Signature:".count)) + Array("AAAA".utf8))
            let data = DKIMVerifier.signedData(parsed, field: sigField, fields: fields, signatureIndex: -1)
            let digest = SHA256.hash(data: data)
            let signature: [UInt8]
            switch sel.key {
            case .rsa(let key):
                signature = Array(try key.signature(for: digest, padding: .insecurePKCS1v1_5).rawRepresentation)
            case .ed25519(let key):
                signature = Array(try key.signature(for: Array(digest)))
            }
            out += unsigned + Self.foldBase64(Base64.encode(signature), column: Self.lastLineLength(unsigned)) + "\r\n"
        }
        return out
    }

    /// Folds "tag; tag; ..." at the "; " separators before 78 characters.
    static func fold(_ line: String) -> String {
        var out = ""
        var length = 0
        let parts = line.split(separator: "; ", omittingEmptySubsequences: false).map(String.init)
        for (i, part) in parts.enumerated() {
            let piece = i == parts.count - 1 ? part : part + ";"
            if i > 0 {
                if length + 1 + piece.count > 78 {
                    out += "\r\n\t"
                    length = 1
                } else {
                    out += " "
                    length += 1
                }
            }
            out += piece
            length += piece.count
        }
        return out
    }

    static func lastLineLength(_ s: String) -> Int {
        (s.split(separator: "\r\n", omittingEmptySubsequences: false).last.map(String.init) ?? s).count
    }

    /// Base64 folded to lines of at most 78 characters; FWS inside b= is ignored by verifiers.
    static func foldBase64(_ s: String, column: Int) -> String {
        var out = ""
        var col = column
        for c in s {
            if col >= 78 {
                out += "\r\n\t"
                col = 1
            }
            out.append(c)
            col += 1
        }
        return out
    }
}
