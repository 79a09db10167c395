import ArgumentParser
import FoundationEssentials
import MailAddress
import MailConfig
import MailDelivery
import MailMessage
import MailStore
import MailTLS
import MoxCommands
import MoxRuntime

#if canImport(Glibc)
import Glibc
#endif

extension ConfigTest: RunnableCommand {
    func execute() throws {
        do {
            _ = try ConfigLoader.load(staticPath: GlobalOptions.shared.configPath)
        } catch {
            if error.errors.count > 1 {
                writeStderr("multiple errors:\n")
            }
            for e in error.errors {
                writeStderr("\(e)\n")
            }
            throw ExitCode(1)
        }
        print("config OK")
    }
}

extension ConfigDescribeStatic: RunnableCommand {
    func execute() throws {
        print(ConfigDescribe.staticExample, terminator: "")
    }
}

extension ConfigDescribeDomains: RunnableCommand {
    func execute() throws {
        print(ConfigDescribe.dynamicExample, terminator: "")
    }
}

extension ConfigExampleCommand: RunnableCommand {
    func execute() throws {
        guard let name else {
            print(ConfigExample.names.joined(separator: "\n"))
            return
        }
        guard let example = ConfigExample(rawValue: name) else {
            writeStderr("not found\n")
            throw ExitCode(1)
        }
        print(example.text, terminator: "")
    }
}

// MARK: - mox config tlspubkey

extension ConfigTLSPublicKeyList: RunnableCommand {
    func execute() throws {
        let config = try loadConfig()
        do {
            let keys = try TLSPublicKeyStore.open(dataDir: config.dataDirectory).list(account: self.account)
            for key in keys {
                print([key.fingerprint, key.type, key.account, key.loginAddress, key.name].joined(separator: "\t"))
            }
        } catch {
            try fail(error.description)
        }
    }
}

extension ConfigTLSPublicKeyGet: RunnableCommand {
    func execute() throws {
        let config = try loadConfig()
        let found: TLSPublicKey?
        do {
            found = try TLSPublicKeyStore.open(dataDir: config.dataDirectory).key(fingerprint: self.fingerprint)
        } catch {
            try fail(error.description)
        }
        guard let key = found else { try fail("no tls public key with fingerprint \(self.fingerprint)") }
        print("type: \(key.type)\nname: \(key.name)\naccount: \(key.account)\naddress: \(key.loginAddress)")
        print("no imap preauth: \(key.noIMAPPreauth)\ncertificate:\n")
        print(ClientCertificate.pem(fromDER: key.certificateDER), terminator: "")
    }
}

extension ConfigTLSPublicKeyAdd: RunnableCommand {
    func execute() throws {
        let config = try loadConfig()
        let input = readStandardInput()
        let der: [UInt8]
        let certificate: ClientCertificate
        do {
            der = try ClientCertificate.der(fromPEM: String(decoding: input, as: UTF8.self))
            certificate = try ClientCertificate(der: der)
        } catch {
            try fail("reading the certificate from standard input: \(error)")
        }
        // The address must be one an account logs in with, as for passwords.
        guard let address = Address.parse(self.address),
            case .local(let destination) = config.dynamicConfig.lookup(address, postmaster: Postmaster()),
            !destination.canonicalAddress.hasPrefix("@")
        else {
            try fail("\(self.address) is not an address of an account")
        }
        let key = TLSPublicKey(
            fingerprint: certificate.fingerprint,
            created: Int64(Date().timeIntervalSince1970),
            type: certificate.keyType,
            name: self.name ?? certificate.commonName,
            noIMAPPreauth: self.noIMAPPreauth,
            certificateDER: der,
            account: destination.account,
            loginAddress: self.address
        )
        do {
            try TLSPublicKeyStore.open(dataDir: config.dataDirectory).add(key)
        } catch {
            try fail(error.description)
        }
        print("tls public key added, fingerprint \(key.fingerprint)")
    }
}

extension ConfigTLSPublicKeyRemove: RunnableCommand {
    func execute() throws {
        let config = try loadConfig()
        do {
            try TLSPublicKeyStore.open(dataDir: config.dataDirectory).remove(fingerprint: self.fingerprint)
        } catch {
            try fail(error.description)
        }
        print("tls public key removed")
    }
}

extension ConfigTLSPublicKeyGen: RunnableCommand {
    func execute() throws {
        let now = Date()
        let d = MessageDate(unixTime: Int64(now.timeIntervalSince1970))
        func two(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }
        let timestamp = "\(d.year)" + two(d.month) + two(d.day) + two(d.hour) + two(d.minute)
        let prefix = self.stem + "." + timestamp
        let generated: (certificate: GeneratedCertificate, seed: [UInt8])
        let fingerprint: String
        do {
            let base = self.stem.split(separator: "/").last.map(String.init) ?? self.stem
            generated = try SelfSigned.clientCertificate(commonName: base, now: now)
            fingerprint = try ClientCertificate(der: ClientCertificate.der(fromPEM: generated.certificate.certificatePEM))
                .fingerprint
        } catch {
            try fail("\(error)")
        }
        let files = [
            (prefix + ".ed25519privatekey.pkcs8.pem", generated.certificate.privateKeyPEM),
            (prefix + ".certificate.pem", generated.certificate.certificatePEM),
            (
                prefix + ".ed25519privatekey-certificate.pem",
                generated.certificate.privateKeyPEM + generated.certificate.certificatePEM
            ),
        ]
        for (path, text) in files {
            writeStderr("writing \(path)\n")
            let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
            guard fd >= 0 else { try fail("creating \(path): \(String(cString: strerror(errno)))") }
            var bytes = Array(text.utf8)
            let written = bytes.withUnsafeMutableBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
            close(fd)
            guard written == bytes.count else { try fail("writing \(path): \(String(cString: strerror(errno)))") }
            bytes.removeAll()
        }
        let seed = ClientCertificate.base64URL(generated.seed)
        writeStderr("ed25519 private key as raw-url-base64: \(seed)\ned25519 public key fingerprint: \(fingerprint)\n")
    }
}
