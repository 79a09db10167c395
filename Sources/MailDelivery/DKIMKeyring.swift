// The DKIM signing keys of the configured domains (domains.conf DKIM.Selectors and Sign),
// read from their files when the configuration is loaded, and the signing of submitted mail.

import Logging
import MailAddress
import MailAuth
import MailConfig
import MailMessage
import Sconf

#if canImport(Glibc)
import Glibc
#endif

public struct DKIMKeyError: Error, CustomStringConvertible, Sendable {
    /// The config field the problem is in ("Domains.example.org.DKIM.Selectors.sel.PrivateKeyFile").
    public var field: String
    public var reason: String

    public var description: String { "\(self.field): \(self.reason)" }
}

public struct DKIMKeyring: Sendable {
    /// By lowercase ASCII domain: the selectors that sign, in Sign's order.
    public var signers: [String: [DKIMSigningSelector]] = [:]

    public init() {}

    /// Reads the keys of every domain's Sign selectors. Key files are relative to the directory
    /// of domains.conf. A selector whose key cannot be used is left out and reported.
    public static func load(_ config: Config) -> (DKIMKeyring, [DKIMKeyError]) {
        var ring = DKIMKeyring()
        var errors: [DKIMKeyError] = []
        let directory = Self.directory(of: config.dynamicPath)
        for (name, domain) in config.dynamicConfig.domains.sorted(by: { $0.key < $1.key }) {
            guard let parsed = Domain.parse(name) else { continue }
            var selectors: [DKIMSigningSelector] = []
            for selectorName in domain.dkim.sign {
                let field = "Domains.\(name).DKIM.Selectors.\(selectorName)"
                guard let sel = domain.dkim.selectors[selectorName] else {
                    errors.append(DKIMKeyError(field: "Domains.\(name).DKIM.Sign", reason: "unknown selector \(selectorName)"))
                    continue
                }
                switch Self.selector(selectorName, sel, directory: directory) {
                case .success(let s): selectors.append(s)
                case .failure(let reason): errors.append(DKIMKeyError(field: field, reason: reason.text))
                }
            }
            if !selectors.isEmpty { ring.signers[parsed.ascii] = selectors }
        }
        return (ring, errors)
    }

    /// Every configured selector of a domain (not only those in Sign), sorted by name, for the
    /// DNS records to publish; the ones whose key cannot be read are reported.
    public static func allSelectors(_ config: Config, domain name: String) -> ([DKIMSigningSelector], [DKIMKeyError]) {
        guard let domain = config.dynamicConfig.domains[name] else { return ([], []) }
        let directory = Self.directory(of: config.dynamicPath)
        var selectors: [DKIMSigningSelector] = []
        var errors: [DKIMKeyError] = []
        for (selectorName, sel) in domain.dkim.selectors.sorted(by: { $0.key < $1.key }) {
            switch Self.selector(selectorName, sel, directory: directory) {
            case .success(let s): selectors.append(s)
            case .failure(let reason):
                errors.append(DKIMKeyError(field: "Domains.\(name).DKIM.Selectors.\(selectorName)", reason: reason.text))
            }
        }
        return (selectors, errors)
    }

    struct Reason: Error { var text: String }

    static func selector(_ name: String, _ sel: DKIMConfig.Selector, directory: String) -> Result<DKIMSigningSelector, Reason> {
        let path = sel.privateKeyFile.hasPrefix("/") ? sel.privateKeyFile : directory + "/" + sel.privateKeyFile
        let text: String
        switch Self.readFile(path) {
        case .success(let bytes): text = String(decoding: bytes, as: UTF8.self)
        case .failure(let e): return .failure(Reason(text: "PrivateKeyFile \(path): \(e.text)"))
        }
        let key: DKIMPrivateKey
        do {
            key = try DKIMPrivateKey(pem: text)
        } catch {
            return .failure(Reason(text: "PrivateKeyFile \(path): \(error)"))
        }
        let hash = sel.hash.lowercased()
        guard hash.isEmpty || hash == "sha256" else {
            // RFC 8301 3.1: rsa-sha1 must not be used for signing.
            return .failure(Reason(text: "Hash \(sel.hash): only sha256 is supported"))
        }
        var expiration: Int?
        if !sel.expiration.isEmpty {
            guard let d = SconfDuration(sconfText: Substring(sel.expiration)), d.nanoseconds > 0 else {
                return .failure(Reason(text: "Expiration \(sel.expiration): not a duration such as 72h"))
            }
            expiration = Int(d.nanoseconds / 1_000_000_000)
        }
        return .success(
            DKIMSigningSelector(
                selector: name, key: key, headerRelaxed: sel.canonicalization.headerRelaxed,
                bodyRelaxed: sel.canonicalization.bodyRelaxed, headers: sel.headers, sealHeaders: !sel.dontSealHeaders,
                expiration: expiration
            )
        )
    }

    /// DKIM-Signature fields for a message from `from` (its From address): nil when its domain
    /// does not sign. `header` is the message's header as it will be delivered.
    public func sign(from: Address, header: [UInt8], body: DKIMBodySource, now: Int) throws -> String? {
        guard let selectors = self.signers[from.domain.ascii], !selectors.isEmpty else { return nil }
        // RFC 6376 3.5 i=: the sender's address, as mox signs it.
        return try DKIMSigner.sign(
            header: header, body: body, domain: from.domain.ascii, identity: from.formatted, selectors: selectors, now: now
        )
    }

    static func directory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        let dir = String(path[..<slash])
        return dir.isEmpty ? "/" : dir
    }

    static func readFile(_ path: String) -> Result<[UInt8], Reason> {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { return .failure(Reason(text: String(cString: strerror(errno)))) }
        defer { close(fd) }
        var out: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 16384)
        while true {
            let n = read(fd, &chunk, chunk.count)
            if n < 0 {
                if errno == EINTR { continue }
                return .failure(Reason(text: String(cString: strerror(errno))))
            }
            if n == 0 { break }
            out += chunk[..<n]
            if out.count > 1 << 20 { return .failure(Reason(text: "file too large for a key")) }
        }
        return .success(out)
    }
}
