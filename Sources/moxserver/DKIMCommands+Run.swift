import Crypto
import MailAddress
import MailAuth
import MailConfig
import MailDNS
import MailMessage
import MoxCommands
import _CryptoExtras

#if canImport(Glibc)
import Glibc
#endif

func readStandardInput() -> [UInt8] {
    var input: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 65536)
    while true {
        let n = Glibc.read(0, &chunk, chunk.count)
        if n < 0 && errno == EINTR { continue }
        if n <= 0 { break }
        input += chunk[..<n]
    }
    return input
}

func readFileBytes(_ path: String) throws -> [UInt8] {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { try fail("open \(path): \(String(cString: strerror(errno)))") }
    defer { close(fd) }
    var out: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 1 << 16)
    while true {
        let n = Glibc.read(fd, &chunk, chunk.count)
        if n < 0 && errno == EINTR { continue }
        if n < 0 { try fail("read \(path): \(String(cString: strerror(errno)))") }
        if n == 0 { break }
        out += chunk[..<n]
    }
    return out
}

/// A message's header section (up to and with the empty line) and its body.
func splitMessage(_ bytes: [UInt8]) -> (header: [UInt8], body: [UInt8]) {
    var i = 0
    while i < bytes.count {
        if bytes[i] == 10 {
            if i + 1 < bytes.count, bytes[i + 1] == 10 { return (Array(bytes[...(i + 1)]), Array(bytes[(i + 2)...])) }
            if i + 2 < bytes.count, bytes[i + 1] == 13, bytes[i + 2] == 10 {
                return (Array(bytes[...(i + 2)]), Array(bytes[(i + 3)...]))
            }
        }
        i += 1
    }
    return (bytes, [])
}

extension DKIMGenEd25519: RunnableCommand {
    func execute() throws {
        print(DKIMPrivateKey.ed25519(Curve25519.Signing.PrivateKey()).pkcs8PEM, terminator: "")
    }
}

extension DKIMGenRSA: RunnableCommand {
    func execute() throws {
        print(DKIMPrivateKey.rsa(try _RSA.Signing.PrivateKey(keySize: .bits2048)).pkcs8PEM, terminator: "")
    }
}

extension DKIMTXT: RunnableCommand {
    func execute() throws {
        let key: DKIMPrivateKey
        do {
            key = try DKIMPrivateKey(pem: String(decoding: readStandardInput(), as: UTF8.self))
        } catch {
            try fail("reading dkim private key from stdin: \(error)")
        }
        var record = Substring(key.txtRecord)
        var line = "<selector>._domainkey.<your.domain.> TXT "
        while !record.isEmpty {
            line += "\"\(record.prefix(100))\" "
            record = record.dropFirst(100)
        }
        print(line)
    }
}

extension DKIMLookup: RunnableCommand {
    func execute() throws {
        let domain = try parseDomainArgument(self.domain)
        let result = try commandLookupTXT("\(self.selector)._domainkey.\(domain)")
        switch result {
        case .failure(let error):
            print("error: \(error.isNotFound ? "no dkim dns txt record: \(error)" : "\(error)")")
            print("status: \(error.isTemporary ? "temperror" : "permerror")")
            print("dnssec-signed: no")
        case .success(let (texts, dns)):
            var record: DKIMKeyRecord?
            var text = ""
            var problem = ""
            for t in texts {
                do {
                    record = try DKIMKeyRecord(parsing: t)
                    text = t
                    break
                } catch {
                    problem = "\(error)"
                    text = t
                }
            }
            if record == nil {
                print("error: \(problem.isEmpty ? "no dkim dns txt record" : problem)")
                print("status: permerror")
            }
            if !text.isEmpty { print("TXT record: \(text)") }
            print("dnssec-signed: \(dns.authentic ? "yes" : "no")")
            if let record {
                print("Record:")
                print("\thashes: [\(record.hashes.joined(separator: " "))]")
                print("\tkey: \(record.keyType)")
                print("\tservices: [\(record.services.joined(separator: " "))]")
                var flags: [String] = []
                if record.testing { flags.append("y") }
                if record.strict { flags.append("s") }
                print("\tflags: [\(flags.joined(separator: " "))]")
                print("\trevoked: \(record.publicKey.isEmpty ? "yes" : "no")")
            }
        }
    }
}

extension DKIMVerify: RunnableCommand {
    func execute() throws {
        let (header, body) = splitMessage(try readFileBytes(self.file))
        let resolver = commandResolver()
        let now = Int(time(nil))
        let results = try runAsync { () async in
            await DKIMVerifier(resolver: resolver, now: now).verify(header: header, body: { sink in sink(body[...]) })
        }
        if results.isEmpty { print("no dkim signatures") }
        for r in results {
            let err = r.problem.isEmpty ? "<nil>" : r.problem
            var line = "status \"\(r.status.rawValue)\", err \(err)"
            if let sig = r.signature { line += "\ndomain \(sig.domain), selector \(sig.selector), algorithm \(sig.algorithm.rawValue)" }
            print(line)
        }
    }
}

extension DKIMSign: RunnableCommand {
    func execute() throws {
        let config = try loadConfig()
        let bytes = try readFileBytes(self.file)
        let (header, body) = splitMessage(bytes)
        let message = Message(parsing: bytes)
        let froms = message.envelope.from.flatMap(\.mailboxes)
        guard froms.count == 1, let from = froms.first else {
            try fail("found \(froms.count) from addresses, need exactly 1")
        }
        guard let domain = Domain.parse(from.domain) else { try fail("invalid domain in from header: \(from.domain)") }
        guard let domainConfig = config.dynamicConfig.domains.first(where: { Domain.parse($0.key) == domain })?.value else {
            try fail("domain \(domain.ascii) not configured")
        }
        let directory = config.dynamicPath.split(separator: "/", omittingEmptySubsequences: false).dropLast().joined(separator: "/")
        var selectors: [DKIMSigningSelector] = []
        for name in domainConfig.dkim.sign {
            guard let sel = domainConfig.dkim.selectors[name] else { try fail("sign selector \(name) not among the selectors") }
            let path = sel.privateKeyFile.hasPrefix("/") ? sel.privateKeyFile : (directory.isEmpty ? "" : directory + "/") + sel.privateKeyFile
            let key: DKIMPrivateKey
            do {
                key = try DKIMPrivateKey(pem: String(decoding: try readFileBytes(path), as: UTF8.self))
            } catch let error as DKIMSyntaxError {
                try fail("dkim key \(path): \(error)")
            }
            selectors.append(
                DKIMSigningSelector(
                    selector: name, key: key, headerRelaxed: sel.canonicalization.headerRelaxed,
                    bodyRelaxed: sel.canonicalization.bodyRelaxed, headers: sel.headers, sealHeaders: !sel.dontSealHeaders,
                    expiration: DKIMDuration.seconds(sel.expiration)
                )
            )
        }
        guard !selectors.isEmpty else { try fail("no dkim selectors to sign with for domain \(domain.ascii)") }
        let headers = try DKIMSigner.sign(
            header: header, body: { sink in sink(body[...]) }, domain: domain.ascii,
            identity: "\(from.localpart)@\(domain.ascii)", selectors: selectors, now: Int(time(nil))
        )
        let out = Array(headers.utf8) + bytes
        out.withUnsafeBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let n = Glibc.write(1, buffer.baseAddress! + offset, buffer.count - offset)
                if n <= 0 { return }
                offset += n
            }
        }
    }
}

/// Go-style durations of domains.conf ("72h", "1h30m", "90s") as seconds; nil when empty.
enum DKIMDuration {
    static func seconds(_ text: String) -> Int? {
        guard !text.isEmpty else { return nil }
        var total = 0.0
        var number = ""
        var chars = Array(text)
        chars.append(" ")
        var i = 0
        while i < chars.count - 1 {
            let c = chars[i]
            if c.isNumber || c == "." {
                number.append(c)
                i += 1
                continue
            }
            var unit = String(c)
            if (c == "m" && chars[i + 1] == "s") || ((c == "u" || c == "µ" || c == "n") && chars[i + 1] == "s") {
                unit.append("s")
                i += 1
            }
            i += 1
            guard let v = Double(number) else { return nil }
            number = ""
            switch unit {
            case "h": total += v * 3600
            case "m": total += v * 60
            case "s": total += v
            case "ms", "us", "µs", "ns": break
            default: return nil
            }
        }
        return number.isEmpty ? Int(total) : nil
    }
}
