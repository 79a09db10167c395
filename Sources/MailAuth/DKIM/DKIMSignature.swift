// The DKIM-Signature header field (RFC 6376 3.5) and DKIM key records (RFC 6376 3.6.1), both
// tag=value lists (RFC 6376 3.2).

import MailMessage

/// Why a signature or key record is unusable: the result is permerror.
public struct DKIMSyntaxError: Error, Hashable, Sendable, CustomStringConvertible {
    public var reason: String

    public init(_ reason: String) {
        self.reason = reason
    }

    public var description: String { self.reason }
}

enum TagList {
    /// RFC 6376 3.2: tag-list = tag-spec *( ";" tag-spec ) [ ";" ]; tag-spec = [FWS] tag-name
    /// [FWS] "=" [FWS] tag-value [FWS]. Duplicate tags are an error. Values keep inner FWS.
    static func parse(_ text: [UInt8]) throws(DKIMSyntaxError) -> [(name: String, value: [UInt8])] {
        var tags: [(name: String, value: [UInt8])] = []
        var start = 0
        while start <= text.count {
            let end = text[start...].firstIndex(of: UInt8(ascii: ";")) ?? text.count
            let spec = Self.trimFWS(text[start..<end])
            start = end + 1
            if spec.isEmpty {
                // Only an empty spec after the last ";" is allowed.
                if end == text.count { break }
                throw DKIMSyntaxError("empty tag")
            }
            guard let eq = spec.firstIndex(of: UInt8(ascii: "=")) else {
                throw DKIMSyntaxError("tag without \"=\": \(String(decoding: spec, as: UTF8.self))")
            }
            let nameBytes = Self.trimFWS(spec[..<eq])
            let name = String(decoding: nameBytes, as: UTF8.self)
            // tag-name = ALPHA *ALNUMPUNC (ALNUMPUNC = ALPHA / DIGIT / "_")
            func alpha(_ b: UInt8) -> Bool { (b | 0x20) >= UInt8(ascii: "a") && (b | 0x20) <= UInt8(ascii: "z") }
            guard let first = nameBytes.first, alpha(first),
                nameBytes.allSatisfy({ alpha($0) || ($0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9")) || $0 == UInt8(ascii: "_") })
            else { throw DKIMSyntaxError("invalid tag name \"\(name)\"") }
            guard !tags.contains(where: { $0.name == name }) else { throw DKIMSyntaxError("duplicate tag \"\(name)\"") }
            tags.append((name: name, value: Array(Self.trimFWS(spec[(eq + 1)...]))))
            if end == text.count { break }
        }
        return tags
    }

    static func isFWS(_ b: UInt8) -> Bool { b == 32 || b == 9 || b == 13 || b == 10 }

    static func trimFWS(_ s: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
        var s = s
        while let f = s.first, isFWS(f) { s = s.dropFirst() }
        while let l = s.last, isFWS(l) { s = s.dropLast() }
        return s
    }

    static func withoutFWS(_ s: [UInt8]) -> [UInt8] { s.filter { !isFWS($0) } }
}

public enum DKIMAlgorithm: String, Hashable, Sendable {
    case rsaSHA256 = "rsa-sha256"
    case ed25519SHA256 = "ed25519-sha256"
    /// RFC 8301 3.1: not valid for verification; parsed to say so precisely.
    case rsaSHA1 = "rsa-sha1"

    var keyType: String { self == .ed25519SHA256 ? "ed25519" : "rsa" }
    var hashName: String { self == .rsaSHA1 ? "sha1" : "sha256" }
}

/// A parsed DKIM-Signature.
public struct DKIMSignature: Hashable, Sendable {
    public var algorithm: DKIMAlgorithm
    public var signature: [UInt8]
    public var bodyHash: [UInt8]
    public var headerRelaxed: Bool
    public var bodyRelaxed: Bool
    /// d=, lower case.
    public var domain: String
    /// h=, in order, as written.
    public var signedHeaders: [String]
    /// i=: the agent or user identity; "@d" when absent.
    public var identity: String
    /// l=: body length limit, if any.
    public var length: Int?
    public var selector: String
    public var signTime: Int?
    public var expireTime: Int?

    /// Parses a DKIM-Signature field's value (everything after the colon).
    public init(parsingValue value: [UInt8]) throws(DKIMSyntaxError) {
        let tags = try TagList.parse(value)
        func tag(_ name: String) -> [UInt8]? { tags.first(where: { $0.name == name })?.value }
        func required(_ name: String) throws(DKIMSyntaxError) -> [UInt8] {
            guard let v = tag(name) else { throw DKIMSyntaxError("missing required tag \(name)=") }
            return v
        }
        func text(_ bytes: [UInt8]) -> String { String(decoding: bytes, as: UTF8.self) }
        // RFC 6376 3.5: v=1 is required.
        guard text(try required("v")) == "1" else { throw DKIMSyntaxError("unsupported version v=\(text(tag("v") ?? []))") }
        let a = text(TagList.withoutFWS(try required("a"))).lowercased()
        guard let algorithm = DKIMAlgorithm(rawValue: a) else { throw DKIMSyntaxError("unknown algorithm a=\(a)") }
        self.algorithm = algorithm
        guard let b = Base64.decodeStrict(try required("b")), !b.isEmpty else { throw DKIMSyntaxError("invalid base64 in b=") }
        self.signature = b
        guard let bh = Base64.decodeStrict(try required("bh")), !bh.isEmpty else {
            throw DKIMSyntaxError("invalid base64 in bh=")
        }
        self.bodyHash = bh
        let c = text(TagList.withoutFWS(tag("c") ?? Array("simple/simple".utf8))).lowercased()
        let parts = c.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count <= 2, parts.allSatisfy({ $0 == "simple" || $0 == "relaxed" }) else {
            throw DKIMSyntaxError("unknown canonicalization c=\(c)")
        }
        self.headerRelaxed = parts[0] == "relaxed"
        self.bodyRelaxed = parts.count == 2 && parts[1] == "relaxed"
        self.domain = text(TagList.withoutFWS(try required("d"))).lowercased()
        guard !self.domain.isEmpty else { throw DKIMSyntaxError("empty d=") }
        self.signedHeaders = text(try required("h")).split(separator: ":").map { text(TagList.withoutFWS(Array($0.utf8))) }
        // RFC 6376 5.4: From must be signed.
        guard self.signedHeaders.contains(where: { $0.lowercased() == "from" }) else {
            throw DKIMSyntaxError("required \"from\" header not signed")
        }
        self.selector = text(TagList.withoutFWS(try required("s"))).lowercased()
        guard !self.selector.isEmpty else { throw DKIMSyntaxError("empty s=") }
        self.identity = tag("i").map { text(TagList.withoutFWS($0)) } ?? "@\(self.domain)"
        // RFC 6376 3.5 i=: its domain is d= or a subdomain of it.
        guard let at = self.identity.lastIndex(of: "@") else { throw DKIMSyntaxError("i= without @") }
        let identityDomain = self.identity[self.identity.index(after: at)...].lowercased()
        guard identityDomain == self.domain || identityDomain.hasSuffix("." + self.domain) else {
            throw DKIMSyntaxError("i= identity domain \(identityDomain) not within d=\(self.domain)")
        }
        func number(_ name: String, digits: Int) throws(DKIMSyntaxError) -> Int? {
            guard let v = tag(name) else { return nil }
            let t = text(TagList.withoutFWS(v))
            guard !t.isEmpty, t.count <= digits, t.allSatisfy(\.isASCII), let n = Int(t), n >= 0 else {
                throw DKIMSyntaxError("invalid \(name)=\(t)")
            }
            return n
        }
        self.length = try number("l", digits: 76)
        self.signTime = try number("t", digits: 12)
        self.expireTime = try number("x", digits: 12)
        if let t = self.signTime, let x = self.expireTime, x < t {
            throw DKIMSyntaxError("expiration x= before signing time t=")
        }
        if let q = tag("q"), !text(TagList.withoutFWS(q)).lowercased().split(separator: ":").contains("dns/txt") {
            throw DKIMSyntaxError("unsupported query method q=\(text(q))")
        }
    }
}

/// A DKIM key record (RFC 6376 3.6.1) from <selector>._domainkey.<domain>.
public struct DKIMKeyRecord: Hashable, Sendable {
    /// k=: "rsa" (the default) or "ed25519".
    public var keyType: String
    /// h=: acceptable hashes; empty means any.
    public var hashes: [String]
    /// p=: the public key; empty when revoked.
    public var publicKey: [UInt8]
    /// s=: service types; "*" or "email" allow mail.
    public var services: [String]
    /// t=y: testing; t=s: the i= domain must equal d=.
    public var testing: Bool
    public var strict: Bool

    public init(parsing text: String) throws(DKIMSyntaxError) {
        let tags = try TagList.parse(Array(text.utf8))
        func tag(_ name: String) -> String? {
            tags.first(where: { $0.name == name }).map { String(decoding: TagList.withoutFWS($0.value), as: UTF8.self) }
        }
        // RFC 6376 3.6.1: v=, if present, is first and DKIM1.
        if let v = tag("v") {
            guard tags.first?.name == "v", v == "DKIM1" else { throw DKIMSyntaxError("invalid version v=\(v)") }
        }
        self.keyType = (tag("k") ?? "rsa").lowercased()
        self.hashes = tag("h").map { $0.lowercased().split(separator: ":").map(String.init) } ?? []
        guard let p = tag("p") else { throw DKIMSyntaxError("missing p= in key record") }
        if p.isEmpty {
            self.publicKey = []
        } else {
            guard let key = Base64.decodeStrict(Array(p.utf8)) else { throw DKIMSyntaxError("invalid base64 in p=") }
            self.publicKey = key
        }
        self.services = tag("s").map { $0.lowercased().split(separator: ":").map(String.init) } ?? ["*"]
        let flags = tag("t").map { $0.lowercased().split(separator: ":").map(String.init) } ?? []
        self.testing = flags.contains("y")
        self.strict = flags.contains("s")
    }
}
