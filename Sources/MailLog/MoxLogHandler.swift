/// MailLog: logging as mox does it, on swift-log. One `LogHandler` writes mox's logfmt lines to
/// standard error (`l=info m="delivered" pkg=smtpserver account=mox cid=19a4...`), with the level
/// of each package from mox.conf's LogLevel and PackageLogLevels; SwiftNIO, Hummingbird and the
/// HTTP client log through it too, under their own labels. Protocol traces (`Logger.traceProtocol`)
/// are written at `trace`, with credentials shown only at `traceauth` and message data only at
/// `tracedata`, as mox hides them.
///
/// Depends on swift-log only.

import Logging
import MailMetrics
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// mox's log levels, most verbose first. swift-log has one trace level; the three trace levels
/// decide what a protocol trace shows (see `TraceKind`).
public enum MoxLogLevel: Int, Sendable, Comparable, CaseIterable {
    case tracedata, traceauth, trace, debug, info, warn, error, fatal, print

    public static func < (a: MoxLogLevel, b: MoxLogLevel) -> Bool { a.rawValue < b.rawValue }

    /// The level for a mox.conf name (LogLevel, PackageLogLevels); "" is info.
    public init?(name: String) {
        switch name.lowercased() {
        case "": self = .info
        case let n: guard let level = Self.allCases.first(where: { "\($0)" == n }) else { return nil }
            self = level
        }
    }

    public var name: String { "\(self)" }

    /// The swift-log level that lets through what this level shows.
    public var swiftLogLevel: Logger.Level {
        switch self {
        case .tracedata, .traceauth, .trace: return .trace
        case .debug: return .debug
        case .info: return .info
        case .warn: return .warning
        case .error: return .error
        case .fatal, .print: return .critical
        }
    }
}

/// The levels in effect: the default (mox.conf LogLevel) and per package (PackageLogLevels).
public struct LogLevels: Sendable {
    public var defaultLevel: MoxLogLevel
    public var packages: [String: MoxLogLevel]

    public init(defaultLevel: MoxLogLevel = .info, packages: [String: MoxLogLevel] = [:]) {
        self.defaultLevel = defaultLevel
        self.packages = packages
    }

    public func level(of package: String) -> MoxLogLevel {
        self.packages[package] ?? self.defaultLevel
    }
}

/// What a protocol trace line carries, which decides when its content is shown.
public enum TraceKind: String, Sendable {
    /// Commands and replies: shown at trace.
    case plain
    /// Credentials (AUTH exchanges, LOGIN): shown at traceauth, "***" otherwise.
    case auth
    /// Message data (DATA, BDAT, APPEND, FETCH bodies): shown at tracedata, "..." otherwise.
    case data

    /// The metadata key a trace line is marked with.
    public static let metadataKey = "trace"
}

extension Logger {
    /// Logs one piece of a protocol exchange: `prefix` says the direction as mox writes it
    /// ("RC: "/"LS: " for the SMTP server, "C: "/"S: " for IMAP), `bytes` is what went over the
    /// connection. Costs nothing unless the level is trace; hidden content is not formatted.
    public func traceProtocol(_ prefix: String, _ bytes: some Collection<UInt8>, kind: TraceKind = .plain) {
        guard self.logLevel <= .trace, !bytes.isEmpty else { return }
        let level = (self.handler as? MoxLogHandler)?.moxLevel ?? .tracedata
        var metadata: Logger.Metadata = [TraceKind.metadataKey: "\(kind.rawValue)"]
        let content: String
        switch kind {
        case .auth where level > .traceauth:
            content = "***"
        case .data where level > .tracedata:
            content = "..."
            metadata["size"] = "\(bytes.count)"
        default:
            content = LogFormat.quotedBytes(bytes)
            metadata["size"] = "\(bytes.count)"
        }
        self.trace("\(LogFormat.escaped(prefix))\(content)", metadata: metadata)
    }
}

/// Writes log lines as mox does: to standard error, one write per line, no time stamp.
public struct MoxLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?
    public var logLevel: Logger.Level
    /// The package name shown as pkg=, and whose level applies.
    public let package: String
    /// The mox level of the package, for what protocol traces show.
    public let moxLevel: MoxLogLevel
    let sink: LogSink

    public init(label: String, levels: LogLevels, sink: LogSink = .standardError) {
        self.package = Self.packageName(label)
        self.moxLevel = levels.level(of: self.package)
        self.logLevel = self.moxLevel.swiftLogLevel
        self.sink = sink
    }

    /// mox's package name for a logger label: the server's own labels are package names already;
    /// libraries get the nearest one (SwiftNIO and Hummingbird log for the HTTP server).
    static func packageName(_ label: String) -> String {
        let lower = label.lowercased()
        if lower.hasPrefix("hummingbird") || lower.hasPrefix("org.swift.nio.http") { return "http" }
        if lower.hasPrefix("asynchttpclient") || lower.hasPrefix("ahc") { return "httpclient" }
        return label
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { self.metadata[key] }
        set { self.metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var line = LogFormat.line(
            level: event.level,
            message: event.message.description,
            package: self.package,
            call: event.metadata ?? [:],
            bound: self.metadataProvider.map { self.metadata.merging($0.get()) { a, _ in a } } ?? self.metadata,
            moxLevel: self.moxLevel
        )
        line.append("\n")
        self.sink.write(line)
        // mox counts the lines that pass the level filter, by level.
        switch event.level {
        case .info, .notice: MoxMetrics.logged(level: "info")
        case .warning: MoxMetrics.logged(level: "warn")
        case .error, .critical: MoxMetrics.logged(level: "error")
        default: break
        }
    }
}

/// Where log lines go: standard error, or (for tests) a buffer.
public final class LogSink: Sendable {
    let capture: Bool
    let lines = Mutex<[String]>([])

    init(capturing: Bool) {
        self.capture = capturing
    }

    public static let standardError = LogSink(capturing: false)

    /// A sink that keeps the lines, for tests.
    public static func capturing() -> LogSink { LogSink(capturing: true) }

    public var captured: [String] { self.lines.withLock { $0 } }

    func write(_ line: String) {
        if self.capture {
            self.lines.withLock { $0.append(line) }
            return
        }
        var line = line
        line.withUTF8 { buffer in
            var offset = 0
            while offset < buffer.count {
                let n = Glibc.write(2, buffer.baseAddress! + offset, buffer.count - offset)
                if n <= 0 { return }
                offset += n
            }
        }
    }
}

/// mox's logfmt.
public enum LogFormat {
    /// `l=<level> m=<message> [err=] pkg=<package> <call metadata> <logger metadata>`. The call's
    /// own keys come in name order after err; the logger's (cid, then the rest) after them.
    public static func line(
        level: Logger.Level,
        message: String,
        package: String,
        call: Logger.Metadata,
        bound: Logger.Metadata,
        moxLevel: MoxLogLevel
    ) -> String {
        var call = call
        var levelName: String
        switch level {
        case .trace: levelName = "trace"
        case .debug: levelName = "debug"
        case .info, .notice: levelName = "info"
        case .warning: levelName = "warn"
        case .error: levelName = "error"
        case .critical: levelName = "fatal"
        }
        var preQuoted = false
        if level == .trace, let kind = call.removeValue(forKey: TraceKind.metadataKey).flatMap({ TraceKind(rawValue: "\($0)") }) {
            // Escaped by `traceProtocol` (it holds raw protocol bytes), hidden there when the
            // package's level is above traceauth (credentials) or tracedata (message data).
            preQuoted = true
            switch kind {
            case .plain: break
            case .auth: levelName = "traceauth"
            case .data: levelName = "tracedata"
            }
        }
        var out = ""
        out.reserveCapacity(message.utf8.count + 128)
        out += "l="
        out += levelName
        out += " m="
        if preQuoted {
            out += "\""
            out += message
            out += "\""
        } else {
            out += Self.quoted(message)
        }
        if let err = call.removeValue(forKey: "err") {
            out += " err=" + Self.value("\(err)")
        }
        out += " pkg=" + Self.value(package)
        for key in call.keys.sorted() {
            out += " " + key + "=" + Self.value("\(call[key]!)")
        }
        var bound = bound
        if let cid = bound.removeValue(forKey: "cid") {
            out += " cid=" + Self.value("\(cid)")
        }
        for key in bound.keys.sorted() {
            out += " " + key + "=" + Self.value("\(bound[key]!)")
        }
        return out
    }

    /// An attribute value: bare unless it has a space or control character, `"`, `\`, `=` or
    /// anything beyond ASCII; then quoted as Go's %q does. Empty stays empty (`key=`).
    public static func value(_ s: String) -> String {
        let needsQuotes = s.unicodeScalars.contains { c in
            c.value <= 0x20 || c == "\"" || c == "\\" || c == "=" || c.value >= 0x7f
        }
        return needsQuotes ? Self.quoted(s) : s
    }

    /// Double-quoted with Go's %q escapes: \" \\ \n \r \t \a \b \f \v, other control characters
    /// as \xNN (\uNNNN beyond Latin-1's controls); printable characters stay as they are.
    public static func quoted(_ s: String) -> String {
        var out = "\""
        for c in s.unicodeScalars {
            Self.escape(c, into: &out)
        }
        return out + "\""
    }

    /// A string's Go %q escapes, without the quotes.
    public static func escaped(_ s: String) -> String {
        var out = ""
        for c in s.unicodeScalars {
            Self.escape(c, into: &out)
        }
        return out
    }

    /// Bytes from the network, escaped as Go's %q escapes a string (without the quotes): valid
    /// UTF-8 as characters, other bytes as \xNN. Plain ASCII is copied through in one pass.
    public static func quotedBytes(_ bytes: some Collection<UInt8>) -> String {
        if let quoted = bytes.withContiguousStorageIfAvailable({ Self.quotedBytes(buffer: $0) }) {
            return quoted
        }
        return Array(bytes).withUnsafeBufferPointer { Self.quotedBytes(buffer: $0) }
    }

    static func quotedBytes(buffer buf: UnsafeBufferPointer<UInt8>) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(buf.count + buf.count / 8 + 8)
        let hex = Array("0123456789abcdef".utf8)
        let backslash = UInt8(ascii: "\\")
        do {
            var i = 0
            let n = buf.count
            while i < n {
                // A run of printable ASCII is copied at once.
                var j = i
                while j < n, buf[j] >= 0x20, buf[j] < 0x7f, buf[j] != UInt8(ascii: "\""), buf[j] != backslash {
                    j += 1
                }
                if j > i {
                    out.append(contentsOf: UnsafeBufferPointer(rebasing: buf[i..<j]))
                    i = j
                    continue
                }
                let c = buf[i]
                switch c {
                case UInt8(ascii: "\""), backslash: out += [backslash, c]
                case 0x0a: out += [backslash, UInt8(ascii: "n")]
                case 0x0d: out += [backslash, UInt8(ascii: "r")]
                case 0x09: out += [backslash, UInt8(ascii: "t")]
                case 0x07: out += [backslash, UInt8(ascii: "a")]
                case 0x08: out += [backslash, UInt8(ascii: "b")]
                case 0x0b: out += [backslash, UInt8(ascii: "v")]
                case 0x0c: out += [backslash, UInt8(ascii: "f")]
                case 0..<0x20, 0x7f: out += [backslash, UInt8(ascii: "x"), hex[Int(c >> 4)], hex[Int(c & 15)]]
                default:
                    let length = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1
                    if length > 1, i + length <= n,
                        let s = String(validating: UnsafeBufferPointer(rebasing: buf[i..<(i + length)]), as: UTF8.self),
                        let scalar = s.unicodeScalars.first
                    {
                        var piece = ""
                        Self.escape(scalar, into: &piece)
                        out += Array(piece.utf8)
                        i += length
                        continue
                    }
                    out += [backslash, UInt8(ascii: "x"), hex[Int(c >> 4)], hex[Int(c & 15)]]
                }
                i += 1
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    static func escape(_ c: Unicode.Scalar, into out: inout String) {
        switch c {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case "\n": out += "\\n"
        case "\r": out += "\\r"
        case "\t": out += "\\t"
        case "\u{07}": out += "\\a"
        case "\u{08}": out += "\\b"
        case "\u{0C}": out += "\\f"
        case "\u{0B}": out += "\\v"
        default:
            if c.value < 0x20 || c.value == 0x7f {
                out += "\\x" + Self.hex2(UInt8(c.value))
            } else if (0x80..<0xa0).contains(c.value) || c.properties.generalCategory == .format {
                out += "\\u" + String(repeating: "0", count: 4 - String(c.value, radix: 16).count) + String(c.value, radix: 16)
            } else {
                out.unicodeScalars.append(c)
            }
        }
    }

    static func hex2(_ b: UInt8) -> String {
        let digits = Array("0123456789abcdef")
        return String([digits[Int(b >> 4)], digits[Int(b & 15)]])
    }
}
