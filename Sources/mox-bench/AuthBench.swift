// The mail authentication benchmarks of issue #14, run by scripts/bench-auth:
//   dkim      DKIM signing and verification of 10 KB messages, RSA-2048 and Ed25519, on one core,
//             and the rate SHA-256 over the same messages allows. Writes the keys, the key records,
//             the messages and the signed messages into WORKDIR, so dkimpy can do the same work.
//   spfdmarc  SPF and DMARC evaluations per second with a warm cache, through the network resolver
//             against the DNS server named by $MOXRESOLVCONF (scripts/bench-auth starts nsd).

import Crypto
import DNSResolver
import MailAddress
import MailAuth
import MailDNS
import MailMessage
import _CryptoExtras

#if canImport(Glibc)
import Glibc
#endif

struct AuthBenchError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

func writeFile(_ path: String, _ bytes: [UInt8]) throws {
    let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
    guard fd >= 0 else { throw AuthBenchError("creating \(path): errno \(errno)") }
    defer { close(fd) }
    var at = 0
    while at < bytes.count {
        let n = bytes[at...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        guard n > 0 else { throw AuthBenchError("writing \(path): errno \(errno)") }
        at += n
    }
}

/// A 10 KB message as an application or a person would send it: the usual header fields and
/// lines of text, some with trailing spaces, so relaxed canonicalization has work to do.
func tenKB(_ n: Int, _ random: inout Generator) -> [UInt8] {
    var text = "From: Sender Name <sender@bench.example>\r\n"
    text += "To: Recipient <rcpt@mox.example>\r\n"
    text += "Subject: Quarterly numbers, part \(n)\r\n"
    text += "Date: Mon, 07 Dec 2026 08:00:00 +0000\r\n"
    text += "Message-Id: <bench-\(n)@bench.example>\r\n"
    text += "MIME-Version: 1.0\r\n"
    text += "Content-Type: text/plain; charset=utf-8\r\n\r\n"
    var line = 0
    while text.utf8.count < 10 * 1024 {
        text += words(12, &random)
        text += line % 5 == 0 ? "  \r\n" : "\r\n"
        line += 1
    }
    return Array(text.utf8)
}

func split(_ message: [UInt8]) -> (header: [UInt8], body: ArraySlice<UInt8>) {
    var i = 0
    while i + 3 < message.count {
        if message[i] == 13 && message[i + 1] == 10 && message[i + 2] == 13 && message[i + 3] == 10 {
            return (Array(message[..<(i + 4)]), message[(i + 4)...])
        }
        i += 1
    }
    return (message, [])
}

/// Messages per second of `body` over `corpus`, cycling through it for at least `minimum` seconds.
func rate(_ corpus: [[UInt8]], minimum: Double = 2, _ body: ([UInt8]) throws -> Void) rethrows -> Double {
    let start = ContinuousClock.now
    var done = 0
    while true {
        for message in corpus {
            try body(message)
            done += 1
        }
        let elapsed = seconds(ContinuousClock.now - start)
        if elapsed >= minimum { return Double(done) / elapsed }
    }
}

func asyncRate(_ corpus: [[UInt8]], minimum: Double = 2, _ body: ([UInt8]) async throws -> Void) async rethrows -> Double {
    let start = ContinuousClock.now
    var done = 0
    while true {
        for message in corpus {
            try await body(message)
            done += 1
        }
        let elapsed = seconds(ContinuousClock.now - start)
        if elapsed >= minimum { return Double(done) / elapsed }
    }
}

let dkimNow = 1_796_630_400  // 2026-12-07

func benchDKIM(workDir: String, count: Int) async throws {
    var random = Generator(state: 14)
    let corpus = (0..<count).map { tenKB($0, &random) }
    for (i, message) in corpus.enumerated() {
        try writeFile("\(workDir)/msg-\(i).eml", message)
    }
    let rsaKey = try _RSA.Signing.PrivateKey(keySize: .bits2048)
    let edKey = Curve25519.Signing.PrivateKey()
    // dkimpy reads PKCS#1 PEM for RSA and the base64 seed for Ed25519.
    try writeFile("\(workDir)/rsa.pem", Array(rsaKey.pemRepresentation.utf8))
    try writeFile("\(workDir)/ed25519.key", Array(Base64.encode(Array(edKey.rawRepresentation)).utf8))
    let keys: [(name: String, key: DKIMPrivateKey)] = [("rsa", .rsa(rsaKey)), ("ed25519", .ed25519(edKey))]
    let resolver = MockResolver()
    for (name, key) in keys {
        let record = key.txtRecord(strict: false)
        try writeFile("\(workDir)/\(name).txt", Array(record.utf8))
        resolver.addTXT("\(name)._domainkey.bench.example", record)
    }

    let hashRate = rate(corpus) { message in
        _ = SHA256.hash(data: message)
    }
    report("dkim hashing alone: \(format(hashRate, 0)) msgs/s (SHA-256 over each 10 KB message once)")

    // The ceiling the signature algorithms set, whatever the rest costs: one signature (and one
    // verification) over a digest, nothing else.
    let digest = SHA256.hash(data: corpus[0])
    let rsaSignature = try rsaKey.signature(for: digest, padding: .insecurePKCS1v1_5)
    let edSignature = try edKey.signature(for: Array(digest))
    let one = [corpus[0]]
    let rsaSignAlone = try rate(one) { _ in _ = try rsaKey.signature(for: digest, padding: .insecurePKCS1v1_5) }
    let rsaVerifyAlone = rate(one) { _ in
        _ = rsaKey.publicKey.isValidSignature(rsaSignature, for: digest, padding: .insecurePKCS1v1_5)
    }
    let edSignAlone = try rate(one) { _ in _ = try edKey.signature(for: Array(digest)) }
    let edVerifyAlone = rate(one) { _ in _ = edKey.publicKey.isValidSignature(edSignature, for: Array(digest)) }
    report("dkim rsa-2048 signature alone: \(format(rsaSignAlone, 0)) msgs/s (one signature over a digest)")
    report("dkim rsa-2048 verification alone: \(format(rsaVerifyAlone, 0)) msgs/s")
    report("dkim ed25519 signature alone: \(format(edSignAlone, 0)) msgs/s")
    report("dkim ed25519 verification alone: \(format(edVerifyAlone, 0)) msgs/s")

    for (name, key) in keys {
        let selector = DKIMSigningSelector(selector: name, key: key)
        func sign(_ message: [UInt8]) throws -> [UInt8] {
            let (header, body) = split(message)
            let fields = try DKIMSigner.sign(
                header: header, body: { sink in sink(body) }, domain: "bench.example", identity: "sender@bench.example",
                selectors: [selector], now: dkimNow
            )
            return Array(fields.utf8) + message
        }
        let signRate = try rate(corpus) { _ = try sign($0) }
        report("dkim sign \(name): \(format(signRate, 0)) msgs/s, \(format(signRate / hashRate * 100, 1))% of the hashing rate")

        let signed = try corpus.map(sign)
        for (i, message) in signed.enumerated() {
            try writeFile("\(workDir)/signed-\(name)-\(i).eml", message)
        }
        let verifier = DKIMVerifier(resolver: resolver, now: dkimNow)
        var failures = 0
        let verifyRate = await asyncRate(signed) { message in
            let (header, body) = split(message)
            let results = await verifier.verify(header: header, body: { sink in sink(body) })
            if results.count != 1 || results[0].status != .pass { failures += 1 }
        }
        guard failures == 0 else { throw AuthBenchError("dkim verify \(name): \(failures) signatures did not pass") }
        report(
            "dkim verify \(name): \(format(verifyRate, 0)) msgs/s, \(format(verifyRate / hashRate * 100, 1))% of the hashing rate"
        )
    }
}

/// SPF for a sender domain whose record includes another and ends in -all, and DMARC for its
/// From domain, as a server evaluates them for each incoming message; the zones are in
/// scripts/bench-auth.
func benchSPFDMARC(count: Int) async throws {
    let resolver = NetworkResolver(conf: NetworkResolver.systemConf(path: String(cString: getenv("MOXRESOLVCONF"))))
    guard case .success(let suffixes) = PublicSuffixList.load() else { throw AuthBenchError("no public suffix list") }
    let spf = SPFVerifier(resolver: resolver, now: dkimNow)
    let dmarc = DMARCVerifier(resolver: resolver, suffixes: suffixes)
    guard let ip = IPAddress("192.0.2.25") else { throw AuthBenchError("bad ip") }
    let domains = (0..<count).map { "s\($0).bench.example" }
    func evaluate(_ domain: String) async throws {
        let args = SPFArgs(
            remoteIP: ip, mailFromLocalpart: "sender", mailFromDomain: domain, helo: "mail.\(domain)", heloIsIP: false,
            localHostname: "mox.example"
        )
        let (outcome, spfDomain, _) = await spf.verify(args)
        guard outcome.status == .pass else { throw AuthBenchError("spf for \(domain): \(outcome.status) \(outcome)") }
        let (_, result) = await dmarc.verify(fromDomain: domain, dkim: [], spf: outcome.status, spfIdentity: spfDomain)
        guard result.status == .pass else { throw AuthBenchError("dmarc for \(domain): \(result.status) \(result.problem)") }
    }
    // Warm the cache: every name is looked up once over the network.
    for domain in domains { try await evaluate(domain) }
    let start = ContinuousClock.now
    var done = 0
    while seconds(ContinuousClock.now - start) < 3 {
        for domain in domains {
            try await evaluate(domain)
            done += 1
        }
    }
    let perSecond = Double(done) / seconds(ContinuousClock.now - start)
    report(
        "spf+dmarc, warm cache: \(format(perSecond, 0)) evaluations/s (\(count) sender domains, spf include + -all, dmarc p=reject)"
    )
}
