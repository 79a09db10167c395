import ArgumentParser
import FoundationEssentials

#if canImport(Glibc)
import Glibc
#endif

/// Flags that apply to every command and are given before it.
final class GlobalOptions: @unchecked Sendable {
    static let shared = GlobalOptions()

    /// Path of mox.conf; domains.conf is read from the same directory.
    var configPath: String =
        ProcessInfo.processInfo.environment["MOXCONF"].flatMap { $0.isEmpty ? nil : $0 } ?? "config/mox.conf"
    /// Treat protocol violations seen in the wild as errors.
    var pedantic = false

    struct UsageError: Error, CustomStringConvertible {
        var description: String
    }

    /// Removes leading `-config PATH`, `-config=PATH` and `-pedantic` (one or two dashes).
    func consume(_ args: inout [String]) throws {
        while let first = args.first {
            let name =
                first.hasPrefix("--")
                ? String(first.dropFirst(2)) : first.hasPrefix("-") ? String(first.dropFirst()) : nil
            guard let name else { return }
            if name == "config" {
                guard args.count >= 2 else {
                    throw UsageError(description: "flag -config needs a value: the path of mox.conf")
                }
                self.configPath = args[1]
                args.removeFirst(2)
            } else if name.hasPrefix("config=") {
                self.configPath = String(name.dropFirst("config=".count))
                args.removeFirst()
            } else if name == "pedantic" || name == "pedantic=true" {
                self.pedantic = true
                args.removeFirst()
            } else if name == "pedantic=false" {
                self.pedantic = false
                args.removeFirst()
            } else {
                return
            }
        }
    }
}

/// Writes to standard error, unbuffered.
func writeStderr(_ text: String) {
    var text = text
    text.withUTF8 { _ = write(2, $0.baseAddress, $0.count) }
}
