import Crypto
import Foundation
import MailDNS
import MailMessage
import Testing
import _CryptoExtras

@testable import MailAuth

@Suite struct DKIMCanonicalTests {
    func bodyHash(_ body: String, relaxed: Bool, pieces: Int = 1) -> [UInt8] {
        var h = DKIMBodyHasher(relaxed: relaxed)
        let bytes = Array(body.utf8)
        let size = max(1, bytes.count / pieces)
        var i = 0
        while i < bytes.count {
            h.update(bytes[i..<min(bytes.count, i + size)])
            i += size
        }
        return h.finalize()
    }

    func sha(_ s: String) -> [UInt8] { Array(SHA256.hash(data: Array(s.utf8))) }

    // RFC 6376 3.4.5's example: " C \r\nD \t E\r\n\r\n\r\n" is " C\r\nD E\r\n" relaxed and
    // " C \r\nD \t E\r\n" simple.
    @Test func rfcExample() {
        let body = " C \r\nD \t E\r\n\r\n\r\n"
        #expect(self.bodyHash(body, relaxed: true) == self.sha(" C\r\nD E\r\n"))
        #expect(self.bodyHash(body, relaxed: false) == self.sha(" C \r\nD \t E\r\n"))
        #expect(DKIMCanonical.header(Array("A: X".utf8), relaxed: true) == Array("a:X\r\n".utf8))
        #expect(DKIMCanonical.header(Array("B : Y\t\r\n\tZ  ".utf8), relaxed: true) == Array("b:Y Z\r\n".utf8))
        #expect(DKIMCanonical.header(Array("B : Y\t\r\n\tZ  ".utf8), relaxed: false) == Array("B : Y\t\r\n\tZ  \r\n".utf8))
    }

    @Test(arguments: [
        ("", "\r\n", ""),
        ("\r\n\r\n", "\r\n", ""),
        ("text", "text\r\n", "text\r\n"),
        ("a\r\n\r\nb\r\n\r\n", "a\r\n\r\nb\r\n", "a\r\n\r\nb\r\n"),
        ("a  \t b \r\n \r\n", "a  \t b \r\n \r\n", "a b\r\n"),
        ("  lead\r\n", "  lead\r\n", " lead\r\n"),
        ("bare\nlf\n", "bare\r\nlf\r\n", "bare\r\nlf\r\n"),
        ("cr\rinside\r\n", "cr\rinside\r\n", "cr\rinside\r\n"),
    ])
    func bodies(body: String, simple: String, relaxed: String) {
        // Any split of the input gives the same hash.
        for pieces in [1, 2, 3, max(1, body.utf8.count)] {
            #expect(self.bodyHash(body, relaxed: false, pieces: pieces) == self.sha(simple), "simple \(body.debugDescription)")
            #expect(self.bodyHash(body, relaxed: true, pieces: pieces) == self.sha(relaxed), "relaxed \(body.debugDescription)")
        }
    }
}

extension DKIMCanonicalTests {
    /// RFC 6376 3.4.3 and 3.4.4 written plainly, over the whole body at once: the lines (ended by
    /// CRLF or a bare LF; a bare CR is content), relaxed whitespace folded, trailing empty lines
    /// dropped.
    static func reference(_ body: [UInt8], relaxed: Bool) -> [UInt8] {
        var lines: [[UInt8]] = []
        var line: [UInt8] = []
        var i = 0
        while i < body.count {
            if body[i] == 13 && i + 1 < body.count && body[i + 1] == 10 {
                lines.append(line)
                line = []
                i += 2
            } else if body[i] == 10 {
                lines.append(line)
                line = []
                i += 1
            } else {
                line.append(body[i])
                i += 1
            }
        }
        if !line.isEmpty { lines.append(line) }
        if relaxed {
            lines = lines.map { l in
                var out: [UInt8] = []
                var space = false
                for b in l {
                    if b == 32 || b == 9 {
                        space = true
                    } else {
                        if space { out.append(32) }
                        space = false
                        out.append(b)
                    }
                }
                return out
            }
        }
        while lines.last?.isEmpty == true { lines.removeLast() }
        if lines.isEmpty { return relaxed ? [] : [13, 10] }
        return lines.flatMap { $0 + [13, 10] }
    }

    // The streaming hasher against the plain version, over random bodies cut at random places,
    // with long runs that go to the hash without the buffer.
    @Test func streamingMatchesReference() {
        var state: UInt64 = 6376
        func next(_ n: Int) -> Int {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int((state >> 33) % UInt64(n))
        }
        let alphabet: [UInt8] = [UInt8(ascii: "a"), UInt8(ascii: "b"), 32, 9, 13, 10]
        for round in 0..<300 {
            var body: [UInt8] = []
            for _ in 0..<next(round % 10 == 0 ? 40 : 200) {
                if next(20) == 0 {
                    body += [UInt8](repeating: UInt8(ascii: "x"), count: 1000 + next(12000))
                } else {
                    body.append(alphabet[next(alphabet.count)])
                }
            }
            for relaxed in [false, true] {
                var h = DKIMBodyHasher(relaxed: relaxed)
                var at = 0
                while at < body.count {
                    let end = min(body.count, at + 1 + next(next(2) == 0 ? 5 : 9000))
                    h.update(body[at..<end])
                    at = end
                }
                let expected = Array(SHA256.hash(data: Self.reference(body, relaxed: relaxed)))
                #expect(h.finalize() == expected, "round \(round) relaxed \(relaxed): \(body.count) bytes")
            }
        }
    }
}

@Suite struct DKIMSignatureParseTests {
    @Test func parsesTags() throws {
        let value = Array(" v=1; a=rsa-sha256; c=relaxed/simple;\r\n d=Example.ORG; s=sel; t=100; x=200;\r\n h=from : to :\r\n subject; bh=AAAA; b=AA\r\n AA".utf8)
        let sig = try DKIMSignature(parsingValue: value)
        #expect(sig.algorithm == .rsaSHA256)
        #expect(sig.headerRelaxed && !sig.bodyRelaxed)
        #expect(sig.domain == "example.org")
        #expect(sig.signedHeaders == ["from", "to", "subject"])
        #expect(sig.identity == "@example.org")
        #expect(sig.signature == [0, 0, 0])
        #expect(sig.signTime == 100 && sig.expireTime == 200)
    }

    @Test(arguments: [
        ("v=1; a=rsa-sha256; d=x.example; s=s; h=to; bh=AAAA; b=AAAA", "from"),
        ("v=2; a=rsa-sha256; d=x.example; s=s; h=from; bh=AAAA; b=AAAA", "version"),
        ("v=1; a=rsa-md5; d=x.example; s=s; h=from; bh=AAAA; b=AAAA", "unknown algorithm"),
        ("v=1; a=rsa-sha256; d=x.example; s=s; h=from; bh=AAAA", "missing required tag b="),
        ("v=1; a=rsa-sha256; d=x.example; s=s; h=from; bh=AA!A; b=AAAA", "base64 in bh="),
        ("v=1; a=rsa-sha256; d=x.example; s=s; h=from; bh=AAAA; b=AAAA; i=a@other.example", "not within d="),
        ("v=1; a=rsa-sha256; d=x.example; s=s; h=from; bh=AAAA; b=AAAA; t=10; x=5", "before signing time"),
        ("v=1; a=rsa-sha256; d=x.example; s=s; h=from; bh=AAAA; b=AAAA; d=y.example", "duplicate tag"),
        ("v=1; a=rsa-sha256; d=x.example; s=s; h=from; bh=AAAA; b=AAAA; c=fancy", "canonicalization"),
        ("v=1; a=rsa-sha256; d=x.example; s=s; h=from; bh=AAAA; b=AAAA; q=http", "query method"),
    ])
    func refuses(value: String, reason: String) {
        do {
            _ = try DKIMSignature(parsingValue: Array(value.utf8))
            Issue.record("parsed: \(value)")
        } catch {
            #expect(error.description.contains(reason), "\(value): \(error)")
        }
    }

    @Test func keyRecords() throws {
        let r = try DKIMKeyRecord(parsing: "v=DKIM1; k=ed25519; h=sha256; t=y:s; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=")
        #expect(r.keyType == "ed25519" && r.testing && r.strict && r.publicKey.count == 32 && r.hashes == ["sha256"])
        #expect(try DKIMKeyRecord(parsing: "p=").publicKey.isEmpty)
        #expect(throws: DKIMSyntaxError.self) { try DKIMKeyRecord(parsing: "k=rsa; v=DKIM1; p=AAAA") }
        #expect(throws: DKIMSyntaxError.self) { try DKIMKeyRecord(parsing: "v=DKIM1; k=rsa") }
    }
}

@Suite struct DKIMSignVerifyTests {
    static let message = """
        From: Joe SixPack <joe@football.example.com>\r
        To: Suzie Q <suzie@shopping.example.net>\r
        Subject: Is dinner ready?\r
        Date: Fri, 11 Jul 2003 21:00:37 -0700 (PDT)\r
        Message-ID: <20030712040037.46341.5F8J@football.example.com>\r
        \r
        Hi.\r
        \r
        We lost the game.  Are you hungry yet?\r
        \r
        Joe.\r

        """

    static func split(_ message: String) -> ([UInt8], [UInt8]) {
        let bytes = Array(message.utf8)
        for i in 0..<(bytes.count - 3) where bytes[i..<(i + 4)] == [13, 10, 13, 10] {
            return (Array(bytes[..<(i + 4)]), Array(bytes[(i + 4)...]))
        }
        return (bytes, [])
    }

    static func body(_ b: [UInt8]) -> DKIMBodySource {
        { sink in sink(b[...]) }
    }

    func signAndVerify(_ key: DKIMPrivateKey, selector: String, headerRelaxed: Bool, bodyRelaxed: Bool, tamper: ((String) -> String)? = nil) async throws -> [DKIMResult] {
        let mock = MockResolver()
        mock.addTXT("\(selector)._domainkey.football.example.com", key.txtRecord)
        let (header, body) = Self.split(Self.message)
        let sel = DKIMSigningSelector(selector: selector, key: key, headerRelaxed: headerRelaxed, bodyRelaxed: bodyRelaxed)
        let signed = try DKIMSigner.sign(
            header: header, body: Self.body(body), domain: "football.example.com", identity: "joe@football.example.com",
            selectors: [sel], now: 1_700_000_000
        )
        var full = signed + Self.message
        if let tamper { full = tamper(full) }
        let (h2, b2) = Self.split(full)
        return await DKIMVerifier(resolver: mock, now: 1_700_000_100).verify(header: h2, body: Self.body(b2))
    }

    @Test(arguments: [(false, false), (true, true), (true, false), (false, true)])
    func ed25519RoundTrip(headerRelaxed: Bool, bodyRelaxed: Bool) async throws {
        let key = DKIMPrivateKey.ed25519(Curve25519.Signing.PrivateKey())
        let results = try await self.signAndVerify(key, selector: "ed", headerRelaxed: headerRelaxed, bodyRelaxed: bodyRelaxed)
        #expect(results.map(\.status) == [.pass], "\(results)")
    }

    @Test func rsaRoundTripAndTampering() async throws {
        let key = DKIMPrivateKey.rsa(try _RSA.Signing.PrivateKey(keySize: .bits2048))
        #expect(try await self.signAndVerify(key, selector: "rsa", headerRelaxed: true, bodyRelaxed: true).map(\.status) == [.pass])
        // A changed body: the body hash no longer matches.
        let body = try await self.signAndVerify(key, selector: "rsa", headerRelaxed: true, bodyRelaxed: true) {
            $0.replacing("hungry", with: "thirsty")
        }
        #expect(body.first?.status == .fail && body.first?.problem == "body hash does not match")
        // A changed signed header: the signature no longer verifies.
        let header = try await self.signAndVerify(key, selector: "rsa", headerRelaxed: true, bodyRelaxed: true) {
            $0.replacing("Subject: Is dinner ready?", with: "Subject: Is lunch ready?")
        }
        #expect(header.first?.status == .fail && header.first?.problem == "signature does not verify")
        // A second Subject added on top: sealed headers catch it.
        let added = try await self.signAndVerify(key, selector: "rsa", headerRelaxed: true, bodyRelaxed: true) {
            $0.replacing("From: Joe", with: "Subject: Buy now\r\nFrom: Joe")
        }
        #expect(added.first?.status == .fail)
        // Relaxed tolerates whitespace changes in headers and body.
        let spaced = try await self.signAndVerify(key, selector: "rsa", headerRelaxed: true, bodyRelaxed: true) {
            $0.replacing("Subject: Is dinner ready?", with: "subject:   Is dinner  ready?  ").replacing("Hi.", with: "Hi.   ")
        }
        #expect(spaced.first?.status == .pass, "\(spaced)")
    }

    @Test func keyProblems() async throws {
        let key = DKIMPrivateKey.ed25519(Curve25519.Signing.PrivateKey())
        let (header, body) = Self.split(Self.message)
        let signed = try DKIMSigner.sign(
            header: header, body: Self.body(body), domain: "football.example.com", identity: "@football.example.com",
            selectors: [DKIMSigningSelector(selector: "k", key: key)], now: 1_700_000_000
        )
        let (h, b) = Self.split(signed + Self.message)
        func verify(_ record: String?, fail: DNSError? = nil, now: Int = 1_700_000_100) async -> DKIMResult? {
            let mock = MockResolver()
            if let record { mock.addTXT("k._domainkey.football.example.com", record) }
            if let fail { mock.fail("k._domainkey.football.example.com", fail) }
            return await DKIMVerifier(resolver: mock, now: now).verify(header: h, body: Self.body(b)).first
        }
        #expect(await verify(nil)?.status == .permerror)
        #expect(await verify(nil, fail: .timeout(name: "k"))?.status == .temperror)
        #expect(await verify("v=DKIM1; k=ed25519; p=")?.problem.contains("revoked") == true)
        #expect(await verify("v=DKIM1; k=rsa; p=" + Base64.encode(key.publicKeyRecordValue))?.status == .permerror)
        #expect(await verify("v=DKIM1; k=ed25519; s=other; p=" + Base64.encode(key.publicKeyRecordValue))?.status == .permerror)
        // Testing mode: a failure counts as no signature.
        let other = DKIMPrivateKey.ed25519(Curve25519.Signing.PrivateKey())
        #expect(await verify("v=DKIM1; k=ed25519; t=y; p=" + Base64.encode(other.publicKeyRecordValue))?.status == DKIMStatus.none)
        #expect(await verify("v=DKIM1; k=ed25519; p=" + Base64.encode(other.publicKeyRecordValue))?.status == .fail)
        #expect(await verify(key.txtRecord)?.status == .pass)
    }

    @Test func privateKeysFromPEM() throws {
        let rsa = try _RSA.Signing.PrivateKey(keySize: .bits2048)
        if case .rsa = try DKIMPrivateKey(pem: rsa.pemRepresentation) {} else { Issue.record("PKCS#1 not rsa") }
        if case .rsa = try DKIMPrivateKey(pem: rsa.pkcs8PEMRepresentation) {} else { Issue.record("PKCS#8 not rsa") }
        let seed = Array(Curve25519.Signing.PrivateKey().rawRepresentation)
        let der: [UInt8] = [0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20] + seed
        let pem = "-----BEGIN PRIVATE KEY-----\n" + Base64.encode(der) + "\n-----END PRIVATE KEY-----\n"
        guard case .ed25519(let key) = try DKIMPrivateKey(pem: pem) else { Issue.record("not ed25519"); return }
        #expect(Array(key.rawRepresentation) == seed)
        #expect(throws: DKIMSyntaxError.self) { try DKIMPrivateKey(pem: "nothing") }
    }
}

/// RFC 8463 appendix A: the signed example message (A.3) with its ed25519 and rsa signatures,
/// the key records of A.2 and the private keys of A.1. Fixtures/rfc8463-a3.eml has the message
/// as the RFC prints it, with CRLF line ends; Fixtures/rfc8463-a1-rsa.pem the RSA key.
@Suite struct DKIMRFCExampleTests {
    static let ed25519Record = "v=DKIM1; k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo="
    static let rsaRecord =
        "v=DKIM1; k=rsa; p=MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDkHlOQoBTzWRiGs5V6NpP3idY6Wk08a5qhdR6wy5bdOKb2jLQiY/J16JYi0Qvx/byYzCNb3W91y3FutACDfzwQ/BC/e/8uBsCR+yz1Lxj+PL6lHvqMKrM3rG4hstT5QjvHO9PzoxZyVYLzBfO2EeC3Ip3G+2kryOTIKT+l/K4w3QIDAQAB"

    static func message() throws -> String {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/rfc8463-a3.eml")
        return try String(contentsOf: url, encoding: .utf8)
    }

    func verify(_ message: String, cache: DKIMKeyCache = DKIMKeyCache()) async -> [DKIMResult] {
        let mock = MockResolver()
        mock.addTXT("brisbane._domainkey.football.example.com", Self.ed25519Record)
        mock.addTXT("test._domainkey.football.example.com", Self.rsaRecord)
        let (header, body) = DKIMSignVerifyTests.split(message)
        return await DKIMVerifier(resolver: mock, now: 1_700_000_000, keyCache: cache).verify(header: header, body: DKIMSignVerifyTests.body(body))
    }

    @Test func bothSignaturesVerify() async throws {
        let results = await self.verify(try Self.message())
        #expect(results.map(\.status) == [.pass, .pass], "\(results.map(\.problem))")
        #expect(results.map { $0.signature?.algorithm } == [.ed25519SHA256, .rsaSHA256])
        #expect(results.map { $0.signature?.selector } == ["brisbane", "test"])
    }

    /// RFC 8463 A.1's private keys sign deterministically (PKCS#1 v1.5, PureEdDSA): signing
    /// the data our canonicalization computes for each A.3 signature gives the RFC's b= exactly.
    @Test func signedDataReproducesTheRFCSignatures() throws {
        let message = Array(try Self.message().utf8)
        let (header, _) = DKIMSignVerifyTests.split(String(decoding: message, as: UTF8.self))
        let fields = try #require(RawHeader.fields(header))
        let signatures = fields.filter { $0.lowercasedName == "dkim-signature" }
        #expect(signatures.count == 2)
        let ed = try Curve25519.Signing.PrivateKey(rawRepresentation: #require(Base64.decodeStrict(Array("nWGxne/9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A=".utf8))))
        #expect(Base64.encode(Array(ed.publicKey.rawRepresentation)) == "11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=")
        let pem = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/rfc8463-a1-rsa.pem")
        let rsa = try _RSA.Signing.PrivateKey(unsafePEMRepresentation: String(contentsOf: pem, encoding: .utf8))
        for field in signatures {
            let colon = try #require(field.raw.firstIndex(of: UInt8(ascii: ":")))
            let sig = try DKIMSignature(parsingValue: Array(field.raw[(colon + 1)...]))
            let data = DKIMVerifier.signedData(sig.signedHeaders, relaxed: sig.headerRelaxed, field: field, fields: fields)
            let digest = SHA256.hash(data: data)
            switch sig.algorithm {
            case .ed25519SHA256:
                #expect(Array(try ed.signature(for: Array(digest))) == sig.signature)
            case .rsaSHA256:
                #expect(Array(try rsa.signature(for: digest, padding: .insecurePKCS1v1_5).rawRepresentation) == sig.signature)
            case .rsaSHA1:
                Issue.record("unexpected rsa-sha1")
            }
        }
    }

    @Test func changesBreakThem() async throws {
        let message = try Self.message()
        // The body: both body hashes fail.
        let body = await self.verify(message.replacing("hungry", with: "Hungry"))
        #expect(body.map(\.problem) == ["body hash does not match", "body hash does not match"])
        // A signed header, under simple canonicalization even its case counts.
        let header = await self.verify(message.replacing("Subject: Is dinner ready?", with: "Subject: is dinner ready?"))
        #expect(header.map(\.problem) == ["signature does not verify", "signature does not verify"])
        // Whitespace at the end of a signature line is part of the signed data (simple).
        let space = await self.verify(message.replacing("c=simple/simple; \r\n d=", with: "c=simple/simple;\r\n d="))
        #expect(space.map(\.status) == [.fail, .fail])
    }

    @Test func keyCacheParsesOnce() async throws {
        let cache = DKIMKeyCache(capacity: 2)
        let message = try Self.message()
        #expect(await self.verify(message, cache: cache).map(\.status) == [.pass, .pass])
        #expect(cache.count == 2)
        // Cached records and keys give the same results, and failures stay failures.
        #expect(await self.verify(message, cache: cache).map(\.status) == [.pass, .pass])
        #expect(await self.verify(message.replacing("Joe.", with: "Jim."), cache: cache).map(\.status) == [.fail, .fail])
        #expect(cache.count == 2)
        // A bad record is cached as the error it is.
        #expect(cache.record("v=DKIM1; k=rsa").failureReason == "missing p= in key record")
        #expect(cache.record("v=DKIM1; k=rsa").failureReason == "missing p= in key record")
        // Past its capacity the cache drops entries instead of growing.
        #expect(cache.count == 2)
        // Texts longer than any key record are parsed, never kept.
        let huge = "v=DKIM1; k=ed25519; n=" + String(repeating: "x", count: 5000) + "; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo="
        #expect((try? cache.record(huge).get()) != nil)
        #expect(cache.count == 2)
        // A key that does not parse is reported, also from the cache.
        let bad = try DKIMKeyRecord(parsing: "k=rsa; p=AAAA")
        for _ in 0..<2 {
            guard case .invalid(let problem) = cache.publicKey("k=rsa; p=AAAA", record: bad) else {
                Issue.record("garbage rsa key parsed")
                return
            }
            #expect(problem.contains("invalid or too small rsa public key"))
        }
    }

    /// p= holds SubjectPublicKeyInfo (RFC 6376 3.6.1) or, from some signers, bare PKCS#1; anything
    /// else is an invalid key, and never brings the process down (swift-crypto 3's DER
    /// constructor frees twice on such input).
    @Test func rsaPublicKeyForms() throws {
        let spki = try #require(Base64.decodeStrict(Array(Self.rsaRecord.split(separator: "p=")[1].utf8)))
        let key = try #require(RSAPublicKeyDER.publicKey(spki))
        #expect(key.keySizeInBits == 1024)
        let pkcs1 = [UInt8](key.pkcs1DERRepresentation)
        #expect(RSAPublicKeyDER.publicKey(pkcs1)?.keySizeInBits == 1024)
        #expect(DKIMKeyRecord.rsaBits(spki) == 1024)
        let big = try _RSA.Signing.PrivateKey(keySize: .bits2048).publicKey
        #expect(DKIMKeyRecord.rsaBits([UInt8](big.derRepresentation)) == 2048)
        for garbage: [UInt8] in [[], [0, 0, 0], [0x30, 0x03, 0x02, 0x01, 0x05], Array(spki.dropLast()), Array(spki.prefix(20)), [0x30, 0x80]] {
            #expect(RSAPublicKeyDER.publicKey(garbage) == nil)
            #expect(DKIMKeyRecord.rsaBits(garbage) == nil)
        }
        // SubjectPublicKeyInfo with a byte after it, without NULL parameters (taken, as Go's
        // x509 does), with other parameters, or for RSA-PSS.
        #expect(RSAPublicKeyDER.publicKey(spki + [0]) == nil)
        let algorithmNULL: [UInt8] = [0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01, 0x05, 0x00]
        #expect(Array(spki[3..<18]) == algorithmNULL)
        let bitString = Array(spki[18...])
        func spkiWith(_ algorithm: [UInt8]) -> [UInt8] {
            let body = algorithm + bitString
            return [0x30, 0x81, UInt8(body.count)] + body
        }
        #expect(RSAPublicKeyDER.publicKey(spkiWith(algorithmNULL))?.keySizeInBits == 1024)
        #expect(RSAPublicKeyDER.publicKey(spkiWith([0x30, 0x0b] + algorithmNULL[2..<13]))?.keySizeInBits == 1024)
        #expect(RSAPublicKeyDER.publicKey(spkiWith([0x30, 0x0e] + algorithmNULL[2..<13] + [0x02, 0x01, 0x00])) == nil)
        var pss = algorithmNULL
        pss[12] = 0x0a  // 1.2.840.113549.1.1.10, RSASSA-PSS
        #expect(RSAPublicKeyDER.publicKey(spkiWith(pss)) == nil)
        // PKCS#1: a plain odd modulus is a key; an even one, or e = 1, BoringSSL refuses.
        // A positive 1024-bit odd modulus: a leading zero, then 0xc1 0xab ... 0xab.
        var n: [UInt8] = [0x00, 0xc1] + [UInt8](repeating: 0xab, count: 127)
        func pkcs1Key(_ n: [UInt8], _ e: [UInt8]) -> [UInt8] {
            let body = [0x02, 0x81, UInt8(n.count)] + n + [0x02, UInt8(e.count)] + e
            return [0x30, 0x81, UInt8(body.count)] + body
        }
        #expect(RSAPublicKeyDER.publicKey(pkcs1Key(n, [0x01, 0x00, 0x01]))?.keySizeInBits == 1024)
        n[128] = 0xaa
        #expect(RSAPublicKeyDER.publicKey(pkcs1Key(n, [0x01, 0x00, 0x01])) == nil)
        n[128] = 0xab
        #expect(RSAPublicKeyDER.publicKey(pkcs1Key(n, [0x01])) == nil)
        // A 512-bit key is refused (RFC 8301 3.2).
        let small: [UInt8] = Array(Base64.decodeStrict(Array(
            "MFwwDQYJKoZIhvcNAQEBBQADSwAwSAJBANmBe10IgY+u7h3enWTukkqtUD5PR52Tb/mPfjC0QJTocVBq6Za/PlzfV+Py92VaCak19F4WrbVTK5Gg5tW220MCAwEAAQ==".utf8))!)
        #expect(RSAPublicKeyDER.numbers(small) != nil)
        #expect(RSAPublicKeyDER.publicKey(small) == nil)
        // An ed25519 key in a k=rsa record is not an rsa key.
        let ed = Array(Curve25519.Signing.PrivateKey().publicKey.rawRepresentation)
        #expect(RSAPublicKeyDER.publicKey(ed) == nil)
    }
}

extension Result where Failure == DKIMSyntaxError {
    var failureReason: String? {
        if case .failure(let e) = self { return e.reason }
        return nil
    }
}
