// Logging in logfmt lines on standard error, as mox does: `l=info m="delivered" pkg=smtpserver
// account=mox`, filtered by the level from mox.conf's LogLevel.

import Synchronization

#if canImport(Glibc)
import Glibc
#endif

public struct Logger: Sendable {
    public enum Level: Int, Sendable, Comparable {
        case error = 0
        case info, debug, trace

        public static func < (a: Level, b: Level) -> Bool { a.rawValue < b.rawValue }

        /// mox's level names: error, info, debug, trace, traceauth, tracedata (the last two log
        /// more of the protocol; here they mean trace).
        public init?(name: String) {
            switch name.lowercased() {
            case "error": self = .error
            case "", "info": self = .info
            case "debug": self = .debug
            case "trace", "traceauth", "tracedata": self = .trace
            default: return nil
            }
        }
    }

    /// The level in effect for this logger's package.
    public let level: Level
    public let package: String
    /// LogLevel from mox.conf, for packages without their own.
    let defaultLevel: Level
    /// Levels for particular packages (mox.conf's PackageLogLevels), overriding the default.
    let packageLevels: [String: Level]

    public init(level: Level, package: String, packageLevels: [String: Level] = [:]) {
        self.defaultLevel = level
        self.packageLevels = packageLevels
        self.package = package
        self.level = packageLevels[package] ?? level
    }

    /// A logger for another package, with that package's level when one is configured.
    public func with(package: String) -> Logger {
        Logger(level: self.defaultLevel, package: package, packageLevels: self.packageLevels)
    }

    public func error(_ message: String, _ fields: KeyValuePairs<String, String> = [:]) {
        self.log(.error, message, fields)
    }

    public func info(_ message: String, _ fields: KeyValuePairs<String, String> = [:]) {
        self.log(.info, message, fields)
    }

    public func debug(_ message: String, _ fields: KeyValuePairs<String, String> = [:]) {
        self.log(.debug, message, fields)
    }

    func log(_ level: Level, _ message: String, _ fields: KeyValuePairs<String, String>) {
        guard level <= self.level else { return }
        var line = "l=\(level) m=\(Self.quoted(message)) pkg=\(self.package)"
        for (key, value) in fields {
            line += " \(key)=\(Self.quoted(value))"
        }
        line += "\n"
        line.withUTF8 { _ = write(2, $0.baseAddress, $0.count) }
    }

    /// logfmt: bare when the value has no space, quote or equals sign, else quoted and escaped.
    static func quoted(_ value: String) -> String {
        if !value.isEmpty && !value.contains(where: { $0 == " " || $0 == "\"" || $0 == "=" || $0 == "\n" }) {
            return value
        }
        var out = "\""
        for c in value {
            switch c {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            default: out.append(c)
            }
        }
        return out + "\""
    }
}
