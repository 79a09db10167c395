// `mox localserve`'s first run: a configuration for a mail server on one laptop, written to a
// directory of its own, with the listeners, ports, domain, account and file names mox's
// localserve uses, so a directory made by mox localserve also works here. Left out until the
// features exist: the admin password file, the junk filter and the web handler.

import FoundationEssentials
import MailConfig
import MailStore
import MailTLS

#if canImport(Glibc)
import Glibc
#endif

public enum LocalserveSetup {
    /// The account, address and password of a new localserve directory.
    public static let accountName = "mox"
    public static let address = "mox@localhost"
    public static let password = "moxmoxmox"

    /// mox's default: "mox-localserve" in the user's configuration directory ($XDG_CONFIG_HOME,
    /// else $HOME/.config).
    public static var defaultDirectory: String {
        let env = ProcessInfo.processInfo.environment
        if let xdg = env["XDG_CONFIG_HOME"], xdg.hasPrefix("/") {
            return xdg + "/mox-localserve"
        }
        if let home = env["HOME"], !home.isEmpty {
            return home + "/.config/mox-localserve"
        }
        return "./mox-localserve"
    }

    /// Writes mox.conf, domains.conf, a self-signed certificate for localhost, a DKIM key and the
    /// account's data (with its password) into `dir`, which must not exist yet or be empty (else
    /// nothing is touched). On failure everything written is removed again.
    public static func write(dir: String, ip: String?) async throws(RuntimeError) {
        // The parents too, as for the default under ~/.config, which a new user may not have.
        if let slash = dir.lastIndex(of: "/"), slash != dir.startIndex {
            let parent = String(dir[..<slash])
            do {
                try FileManager.default.createDirectory(atPath: parent, withIntermediateDirectories: true)
            } catch {
                throw RuntimeError("creating \(parent): \(error)")
            }
        }
        let created = mkdir(dir, 0o770) == 0
        if !created {
            guard errno == EEXIST else {
                throw RuntimeError("creating \(dir): \(String(cString: strerror(errno)))")
            }
            let entries = (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []
            guard entries.isEmpty else {
                throw RuntimeError(
                    "\(dir) exists and is not empty; localserve writes a new configuration only into a new or empty directory"
                )
            }
        }
        do {
            try await Self.writeFiles(dir: dir, ip: ip)
        } catch {
            // Only what this call made is removed: the directory was new or empty.
            if created {
                Self.removeTree(dir)
            } else {
                for entry in (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? [] {
                    Self.removeTree(dir + "/" + entry)
                }
            }
            throw error
        }
    }

    private static func writeFiles(dir: String, ip: String?) async throws(RuntimeError) {
        let certificate: GeneratedCertificate
        do {
            certificate = try SelfSigned.generate(hostnames: ["localhost"])
        } catch {
            throw RuntimeError(error.description)
        }
        try Self.writeFile(dir + "/localhost.crt", certificate.certificatePEM)
        try Self.writeFile(dir + "/localhost.key", certificate.privateKeyPEM)
        try Self.writeFile(dir + "/dkim.localserve.privatekey.pkcs8.pem", SelfSigned.ed25519PrivateKeyPEM())
        try Self.writeFile(dir + "/mox.conf", Self.staticConfig(ips: ip.map { [$0] } ?? ["127.0.0.1", "::1"]))
        try Self.writeFile(dir + "/domains.conf", Self.dynamicConfig)

        let config: Config
        do {
            config = try ConfigLoader.load(staticPath: dir + "/mox.conf")
        } catch {
            throw RuntimeError("the generated configuration does not load:\n\(error)")
        }
        do {
            let account = try await Account.open(dataDir: config.dataDirectory, name: Self.accountName)
            do {
                // With CRAM-MD5 secrets: localserve offers CRAM-MD5, for testing clients that use it.
                try await account.setPassword(Self.password, parameters: PasswordParameters(cramMD5: true))
            } catch {
                await account.close()
                throw error
            }
            await account.close()
        } catch {
            throw RuntimeError("setting up account \(Self.accountName): \(error)")
        }
    }

    /// mox.conf: one listener "local" on loopback with every service at its usual port + 1000.
    static func staticConfig(ips: [String]) -> String {
        """
        DataDir: .
        LogLevel: traceauth
        User: \(getuid())
        Hostname: localhost
        Pedantic: true
        TLS:
        \tCA:
        \t\tAdditionalToSystem: true
        \t\tCertFiles:
        \t\t\t- localhost.crt
        Listeners:
        \tlocal:
        \t\tIPs:
        \(ips.map { "\t\t\t- \($0)\n" }.joined())\t\tTLS:
        \t\t\tKeyCerts:
        \t\t\t\t-
        \t\t\t\t\tCertFile: localhost.crt
        \t\t\t\t\tKeyFile: localhost.key
        \t\tSMTP:
        \t\t\tEnabled: true
        \t\t\tPort: 1025
        \t\tSubmission:
        \t\t\tEnabled: true
        \t\t\tPort: 1587
        \t\t\tNoRequireSTARTTLS: true
        \t\tSubmissions:
        \t\t\tEnabled: true
        \t\t\tPort: 1465
        \t\tIMAP:
        \t\t\tEnabled: true
        \t\t\tPort: 1143
        \t\t\tNoRequireSTARTTLS: true
        \t\tIMAPS:
        \t\t\tEnabled: true
        \t\t\tPort: 1993
        \t\tAccountHTTP:
        \t\t\tEnabled: true
        \t\t\tPort: 1080
        \t\t\tPath: /account/
        \t\tAccountHTTPS:
        \t\t\tEnabled: true
        \t\t\tPort: 1443
        \t\t\tPath: /account/
        \t\tAdminHTTP:
        \t\t\tEnabled: true
        \t\t\tPort: 1080
        \t\tAdminHTTPS:
        \t\t\tEnabled: true
        \t\t\tPort: 1443
        \t\tWebmailHTTP:
        \t\t\tEnabled: true
        \t\t\tPort: 1080
        \t\t\tPath: /webmail/
        \t\tWebmailHTTPS:
        \t\t\tEnabled: true
        \t\t\tPort: 1443
        \t\t\tPath: /webmail/
        \t\tWebAPIHTTP:
        \t\t\tEnabled: true
        \t\t\tPort: 1080
        \t\t\tPath: /webapi/
        \t\tWebAPIHTTPS:
        \t\t\tEnabled: true
        \t\t\tPort: 1443
        \t\t\tPath: /webapi/
        \t\tMetricsHTTP:
        \t\t\tEnabled: true
        \t\t\tPort: 1081
        \t\tWebserverHTTP:
        \t\t\tEnabled: true
        \t\t\tPort: 1080
        \t\tWebserverHTTPS:
        \t\t\tEnabled: true
        \t\t\tPort: 1443
        Postmaster:
        \tAccount: mox
        \tMailbox: Inbox

        """
    }

    /// domains.conf: domain localhost and account mox with address mox@localhost.
    static let dynamicConfig = """
        Domains:
        \tlocalhost:
        \t\tLocalpartCatchallSeparator: +
        \t\tDKIM:
        \t\t\tSelectors:
        \t\t\t\tlocalserve:
        \t\t\t\t\tExpiration: 72h
        \t\t\t\t\tPrivateKeyFile: dkim.localserve.privatekey.pkcs8.pem
        \t\t\tSign:
        \t\t\t\t- localserve
        Accounts:
        \tmox:
        \t\tKeepRetiredMessagePeriod: 72h0m0s
        \t\tKeepRetiredWebhookPeriod: 72h0m0s
        \t\tDomain:
        \t\tDestinations:
        \t\t\tmox@localhost: nil
        \t\tRejectsMailbox: Rejects
        \t\tAutomaticJunkFlags:
        \t\t\tEnabled: true
        \t\t\tJunkMailboxRegexp: ^(junk|spam)
        \t\t\tNeutralMailboxRegexp: ^(inbox|introbox|neutral|postmaster|dmarc|tlsrpt|rejects)
        \t\tNoFirstTimeSenderDelay: true
        WebHandlers:
        \t-
        \t\tLogName: workdir
        \t\tDomain: localhost
        \t\tPathRegexp: ^/workdir/
        \t\tDontRedirectPlainHTTP: true
        \t\tWebStatic:
        \t\t\tStripPrefix: /workdir/
        \t\t\tRoot: .
        \t\t\tListFiles: true

        """

    static func writeFile(_ path: String, _ text: String) throws(RuntimeError) {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o660)
        guard fd >= 0 else {
            throw RuntimeError("creating \(path): \(String(cString: strerror(errno)))")
        }
        defer { close(fd) }
        var rest = Array(text.utf8)[...]
        while !rest.isEmpty {
            let n = rest.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw RuntimeError("writing \(path): \(String(cString: strerror(errno)))")
            }
            rest = rest.dropFirst(n)
        }
        guard fsync(fd) == 0 else {
            throw RuntimeError("writing \(path): \(String(cString: strerror(errno)))")
        }
    }

    /// Removes a directory tree (only used on a directory this code created).
    static func removeTree(_ path: String) {
        try? FileManager.default.removeItem(atPath: path)
    }
}

/// A failure to set up or run the server, with what it concerns.
public struct RuntimeError: Error, CustomStringConvertible, Sendable {
    public var description: String

    public init(_ description: String) {
        self.description = description
    }
}
