// The public suffix list (publicsuffix.org), for the organizational domain of RFC 7489 3.2:
// DMARC looks up a policy at the From domain and, without one, at its organizational domain,
// and relaxed alignment compares organizational domains.

import MailAddress

#if canImport(Glibc)
import Glibc
#endif

public struct PublicSuffixList: Sendable {
    /// Rules by their labels, lowercase ASCII, rightmost label first joined with ".".
    var rules: Set<String> = []
    var wildcards: Set<String> = []
    var exceptions: Set<String> = []

    /// Debian's `publicsuffix` package installs the list here.
    public static let systemPath = "/usr/share/publicsuffix/public_suffix_list.dat"

    /// A list without rules: every name's public suffix is its last label (the "*" default).
    public init() {}

    /// Parses the list's text format: one rule per line, "//" comments, "*." wildcards and "!"
    /// exceptions; rules in Unicode are turned into their A-labels. Lines that are not valid
    /// rules are skipped (the list is published data, not configuration).
    public init(text: String) {
        for raw in text.split(whereSeparator: { $0 == "\n" || $0 == "\r" }) {
            // The format: the rule is the line up to the first whitespace.
            guard let word = raw.split(whereSeparator: { $0 == " " || $0 == "\t" }).first else { continue }
            var rule = String(word)
            if rule.hasPrefix("//") { continue }
            var exception = false
            var wildcard = false
            if rule.hasPrefix("!") {
                exception = true
                rule.removeFirst()
            } else if rule.hasPrefix("*.") {
                wildcard = true
                rule.removeFirst(2)
            }
            guard !rule.isEmpty, !rule.contains("*"), let domain = Domain.parse(rule) else { continue }
            let key = domain.ascii
            if exception {
                self.exceptions.insert(key)
            } else if wildcard {
                self.wildcards.insert(key)
            } else {
                self.rules.insert(key)
            }
        }
    }

    /// The system list, or nil with the reason when it cannot be read.
    public static func load(path: String = PublicSuffixList.systemPath) -> Result<PublicSuffixList, PublicSuffixError> {
        guard let file = fopen(path, "r") else {
            return .failure(PublicSuffixError(path: path, reason: String(cString: strerror(errno))))
        }
        defer { fclose(file) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = fread(&buffer, 1, buffer.count, file)
            if n <= 0 { break }
            bytes += buffer[0..<n]
        }
        if ferror(file) != 0 {
            return .failure(PublicSuffixError(path: path, reason: "read error"))
        }
        let list = PublicSuffixList(text: String(decoding: bytes, as: UTF8.self))
        if list.rules.isEmpty {
            return .failure(PublicSuffixError(path: path, reason: "no rules in file"))
        }
        return .success(list)
    }

    public var count: Int { self.rules.count + self.wildcards.count + self.exceptions.count }

    /// The number of labels of `labels`' public suffix (the psl algorithm: the longest
    /// matching rule, exceptions win, the default rule "*" is one label).
    func suffixLength(_ labels: [Substring]) -> Int {
        var best = 1
        var name = ""
        // Walk from the rightmost label: after i+1 labels `name` is the last i+1 labels.
        for i in 0..<labels.count {
            let label = labels[labels.count - 1 - i]
            name = i == 0 ? String(label) : label + "." + name
            if self.exceptions.contains(name) {
                // An exception rule: the suffix is the rule without its leftmost label.
                return i
            }
            if self.rules.contains(name) { best = max(best, i + 1) }
            if self.wildcards.contains(name), i + 1 < labels.count { best = max(best, i + 2) }
        }
        return best
    }

    /// RFC 7489 3.2: the organizational domain, the public suffix plus one label; the name
    /// itself when it is a public suffix or one label. Works on lowercase ASCII names.
    public func organizationalDomain(_ name: String) -> String {
        var lower = name.lowercased()
        if lower.hasSuffix(".") { lower.removeLast() }
        let labels = lower.split(separator: ".", omittingEmptySubsequences: false)
        let suffix = self.suffixLength(labels)
        if suffix >= labels.count { return lower }
        return labels.suffix(suffix + 1).joined(separator: ".")
    }
}

public struct PublicSuffixError: Error, CustomStringConvertible, Sendable {
    public var path: String
    public var reason: String

    public var description: String { "public suffix list \(self.path): \(self.reason)" }
}
