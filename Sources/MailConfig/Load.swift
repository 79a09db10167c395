// Loading: read mox.conf and the domains.conf beside it, parse both, and check what mox checks
// on load that needs neither the network nor the data directory.
import FoundationEssentials
import Sconf

#if canImport(Glibc)
import Glibc
#endif

// MARK: - Errors

/// A problem in a configuration file, with the place and field it concerns: the file, the
/// 1-based line (0 for the file as a whole), the dotted field path and the reason. The same
/// type the sconf parser reports, so parse and validation errors print alike.
public typealias ConfigError = SconfError

/// All problems found while loading, in file order per check.
public struct ConfigErrors: Error, CustomStringConvertible, Sendable {
    public var errors: [ConfigError]

    public init(errors: [ConfigError]) {
        self.errors = errors
    }

    /// One error per line.
    public var description: String {
        self.errors.map(\.description).joined(separator: "\n")
    }
}

// MARK: - Loaded configuration

/// A loaded and checked configuration.
public struct Config: Sendable {
    public var staticConfig: StaticConfig
    public var dynamicConfig: DynamicConfig
    public var staticPath: String
    public var dynamicPath: String

    public init(staticConfig: StaticConfig, dynamicConfig: DynamicConfig, staticPath: String, dynamicPath: String) {
        self.staticConfig = staticConfig
        self.dynamicConfig = dynamicConfig
        self.staticPath = staticPath
        self.dynamicPath = dynamicPath
    }

    /// The directory holding the configuration files.
    public var configDirectory: String {
        ConfigLoader.directory(of: self.staticPath)
    }

    /// `path` as written in a config file: absolute as is, relative to the config directory otherwise.
    public func configDirPath(_ path: String) -> String {
        ConfigLoader.resolve(path, relativeTo: self.configDirectory)
    }

    /// The data directory, resolved against the config directory.
    public var dataDirectory: String {
        self.configDirPath(self.staticConfig.dataDir)
    }

    /// `path` inside the data directory.
    public func dataDirPath(_ path: String) -> String {
        ConfigLoader.resolve(path, relativeTo: self.dataDirectory)
    }
}

// MARK: - Loader

public enum ConfigLoader {
    /// Reads mox.conf at `staticPath` and domains.conf in the same directory, parses and checks
    /// both, and reports every problem found. Files named in the configuration (keys,
    /// certificates) must be readable; paths are relative to the config directory.
    public static func load(staticPath: String) throws(ConfigErrors) -> Config {
        let staticText = try Self.read(staticPath)
        let (staticConfig, staticLocations) = try Self.parseStatic(staticText, file: staticPath)

        let dynamicPath = Self.resolve("domains.conf", relativeTo: Self.directory(of: staticPath))
        let dynamicText = try Self.read(dynamicPath)
        var errors: [ConfigError] = []
        var dynamicConfig = DynamicConfig()
        var dynamicLocations: [String: Int] = [:]
        do {
            (dynamicConfig, dynamicLocations) = try Self.parseDynamic(
                dynamicText,
                file: dynamicPath,
                staticConfig: staticConfig,
                staticFile: staticPath,
                staticLocations: staticLocations
            )
        } catch {
            errors += error.errors
        }

        var files = FileChecker(directory: Self.directory(of: staticPath))
        files.checkStatic(staticConfig, file: staticPath, locations: staticLocations)
        if errors.isEmpty {
            files.checkDynamic(dynamicConfig, file: dynamicPath, locations: dynamicLocations)
        }
        errors += files.errors
        if !errors.isEmpty {
            throw ConfigErrors(errors: errors)
        }
        return Config(
            staticConfig: staticConfig,
            dynamicConfig: dynamicConfig,
            staticPath: staticPath,
            dynamicPath: dynamicPath
        )
    }

    /// Parses and checks mox.conf text. Returns the config and the line of each field path.
    public static func parseStatic(
        _ text: String,
        file: String
    ) throws(ConfigErrors) -> (StaticConfig, [String: Int]) {
        let parsed: SconfParsed<StaticConfig>
        do {
            parsed = try Sconf.parse(StaticConfig.self, from: text, file: file)
        } catch {
            throw ConfigErrors(errors: [error])
        }
        var v = Validator(file: file, locations: parsed.locations)
        v.checkStatic(parsed.value)
        if !v.errors.isEmpty {
            throw ConfigErrors(errors: v.errors)
        }
        return (parsed.value, parsed.locations)
    }

    /// Parses and checks domains.conf text against an already loaded mox.conf. Problems in
    /// mox.conf that only show with domains.conf (e.g. an unknown postmaster account) are
    /// reported at `staticFile`, with lines from `staticLocations` when given.
    public static func parseDynamic(
        _ text: String,
        file: String,
        staticConfig: StaticConfig,
        staticFile: String = "mox.conf",
        staticLocations: [String: Int] = [:]
    ) throws(ConfigErrors) -> (DynamicConfig, [String: Int]) {
        let parsed: SconfParsed<DynamicConfig>
        do {
            parsed = try Sconf.parse(DynamicConfig.self, from: text, file: file)
        } catch {
            throw ConfigErrors(errors: [error])
        }
        var staticErrors = Validator(file: staticFile, locations: staticLocations)
        var v = Validator(file: file, locations: parsed.locations)
        v.checkDynamic(parsed.value, staticConfig: staticConfig, staticErrors: &staticErrors)
        let errors = staticErrors.errors + v.errors
        if !errors.isEmpty {
            throw ConfigErrors(errors: errors)
        }
        return (parsed.value, parsed.locations)
    }

    // MARK: - Files

    static func read(_ path: String) throws(ConfigErrors) -> String {
        let bytes: [UInt8]
        switch Self.readBytes(path) {
        case .success(let b):
            bytes = b
        case .failure(let reason):
            throw ConfigErrors(errors: [
                ConfigError(file: path, line: 0, fieldPath: "", reason: "cannot read file: \(reason)")
            ])
        }
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw ConfigErrors(errors: [ConfigError(file: path, line: 0, fieldPath: "", reason: "not valid UTF-8")])
        }
        return text
    }

    struct OSError: Error, CustomStringConvertible {
        var description: String
    }

    /// Reads a whole file; a failure carries the operating system's words for it.
    static func readBytes(_ path: String) -> Result<[UInt8], OSError> {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 {
            return .failure(OSError(description: String(cString: strerror(errno))))
        }
        defer { close(fd) }
        var data: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n > 0 {
                data.append(contentsOf: buffer[0..<n])
            } else if n == 0 {
                return .success(data)
            } else if errno != EINTR {
                return .failure(OSError(description: String(cString: strerror(errno))))
            }
        }
    }

    static func directory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else {
            return "."
        }
        let dir = String(path[..<slash])
        return dir.isEmpty ? "/" : dir
    }

    static func resolve(_ path: String, relativeTo directory: String) -> String {
        if path.hasPrefix("/") {
            return path
        }
        if directory == "." {
            return path
        }
        return directory.hasSuffix("/") ? directory + path : directory + "/" + path
    }
}

/// Checks that files named in the configuration can be read.
struct FileChecker {
    let directory: String
    var errors: [ConfigError] = []

    init(directory: String) {
        self.directory = directory
    }

    mutating func check(_ path: String, fieldPath: String, file: String, locations: [String: Int]) {
        let full = ConfigLoader.resolve(path, relativeTo: self.directory)
        if FileManager.default.isReadableFile(atPath: full) {
            return
        }
        let reason: String
        if FileManager.default.fileExists(atPath: full) {
            reason = String(cString: strerror(EACCES))
        } else {
            reason = String(cString: strerror(ENOENT))
        }
        self.errors.append(
            ConfigError(
                file: file,
                line: Validator.line(for: fieldPath, in: locations),
                fieldPath: fieldPath,
                reason: "cannot read \(full): \(reason)"
            )
        )
    }

    mutating func checkStatic(_ c: StaticConfig, file: String, locations: [String: Int]) {
        for (i, f) in c.tls.ca?.certFiles.enumerated() ?? [].enumerated() {
            self.check(f, fieldPath: "TLS.CA.CertFiles[\(i)]", file: file, locations: locations)
        }
        for (name, acme) in c.acme.sorted(by: { $0.key < $1.key }) {
            if let eab = acme.externalAccountBinding {
                self.check(
                    eab.keyFile,
                    fieldPath: "ACME.\(name).ExternalAccountBinding.KeyFile",
                    file: file,
                    locations: locations
                )
            }
        }
        for (name, l) in c.listeners.sorted(by: { $0.key < $1.key }) {
            guard let tls = l.tls else { continue }
            for (i, kc) in tls.keyCerts.enumerated() {
                let p = "Listeners.\(name).TLS.KeyCerts[\(i)]"
                self.check(kc.certFile, fieldPath: p + ".CertFile", file: file, locations: locations)
                self.check(kc.keyFile, fieldPath: p + ".KeyFile", file: file, locations: locations)
            }
            for (i, f) in tls.hostPrivateKeyFiles.enumerated() {
                self.check(
                    f,
                    fieldPath: "Listeners.\(name).TLS.HostPrivateKeyFiles[\(i)]",
                    file: file,
                    locations: locations
                )
            }
        }
    }

    mutating func checkDynamic(_ c: DynamicConfig, file: String, locations: [String: Int]) {
        for (d, domain) in c.domains.sorted(by: { $0.key < $1.key }) {
            for (name, sel) in domain.dkim.selectors.sorted(by: { $0.key < $1.key }) {
                self.check(
                    sel.privateKeyFile,
                    fieldPath: "Domains.\(d).DKIM.Selectors.\(name).PrivateKeyFile",
                    file: file,
                    locations: locations
                )
            }
        }
    }
}
