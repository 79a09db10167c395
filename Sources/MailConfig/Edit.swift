// Editing domains.conf for the account and address commands. Edits work on the lines of the file,
// guided by its structure (tabs give the depth), so comments and the order of everything not touched
// stay as they were; writing the parsed value back would lose the comments. Every edited text is
// parsed and validated before it replaces the file, and it replaces the file atomically.
import FoundationEssentials

#if canImport(Glibc)
import Glibc
#endif

/// Why an edit of domains.conf was refused or failed.
public struct ConfigEditError: Error, CustomStringConvertible, Sendable {
    public var reason: String

    public init(_ reason: String) {
        self.reason = reason
    }

    public var description: String { self.reason }
}

/// Line-level edits of domains.conf text: each takes the current text and returns the new text.
/// They check what they need to find their place; the full validation is ``ConfigEditor/apply``'s.
public enum DomainsEdit {
    // MARK: - Accounts

    /// Appends an account with one destination address at the end of `Accounts` (which is added at
    /// the end of the file when missing). The account's domain is the address's domain.
    public static func addAccount(_ text: String, name: String, address: String) throws(ConfigEditError) -> String {
        try Self.checkKey(name, what: "account name")
        let (localpart, domain) = try Self.splitAddress(address)
        guard !localpart.isEmpty else {
            throw ConfigEditError("the first address of an account cannot be a catchall address")
        }
        var doc = Lines(text)
        let block =
            "\t\(name):\n\t\tDomain: \(domain)\n\t\tDestinations:\n\t\t\t\(localpart)@\(domain): nil\n"
        guard let accounts = doc.entry(named: "Accounts", in: 0..<doc.count, depth: 0) else {
            doc.append("Accounts:\n" + block)
            return doc.text
        }
        if doc.entry(named: name, in: accounts.body, depth: 1) != nil {
            throw ConfigEditError("account \"\(name)\" already exists")
        }
        doc.insert(block, at: accounts.end, makingBlockOf: accounts.keyLine)
        return doc.text
    }

    /// Removes an account's lines, comments inside its block included.
    public static func removeAccount(_ text: String, name: String) throws(ConfigEditError) -> String {
        var doc = Lines(text)
        guard let accounts = doc.entry(named: "Accounts", in: 0..<doc.count, depth: 0),
            let account = doc.entry(named: name, in: accounts.body, depth: 1)
        else {
            throw ConfigEditError("account \"\(name)\" does not exist")
        }
        doc.remove(account.keyLine..<account.end)
        return doc.text
    }

    // MARK: - Addresses

    /// Adds `address` (or `@domain`, a catchall) as a destination of `account`, after its other
    /// destinations.
    public static func addAddress(_ text: String, address: String, account: String) throws(ConfigEditError) -> String {
        let (localpart, domain) = try Self.splitAddress(address)
        let key = "\(localpart)@\(domain)"
        var doc = Lines(text)
        guard let accounts = doc.entry(named: "Accounts", in: 0..<doc.count, depth: 0),
            let acc = doc.entry(named: account, in: accounts.body, depth: 1)
        else {
            throw ConfigEditError("account \"\(account)\" does not exist")
        }
        if let dests = doc.entry(named: "Destinations", in: acc.body, depth: 2) {
            doc.insert("\t\t\t\(key): nil\n", at: dests.end, makingBlockOf: dests.keyLine)
        } else {
            doc.insert("\t\tDestinations:\n\t\t\t\(key): nil\n", at: acc.end, makingBlockOf: acc.keyLine)
        }
        return doc.text
    }

    /// Removes the destination `key` (as written in the file) of `account`. Refuses to remove an
    /// account's last destination.
    public static func removeAddress(_ text: String, key: String, account: String) throws(ConfigEditError) -> String {
        var doc = Lines(text)
        guard let accounts = doc.entry(named: "Accounts", in: 0..<doc.count, depth: 0),
            let acc = doc.entry(named: account, in: accounts.body, depth: 1),
            let dests = doc.entry(named: "Destinations", in: acc.body, depth: 2),
            let dest = doc.entry(named: key, in: dests.body, depth: 3)
        else {
            throw ConfigEditError("address \(key) is not a destination of account \"\(account)\"")
        }
        if doc.entries(in: dests.body, depth: 3).count <= 1 {
            throw ConfigEditError(
                "\(key) is the last address of account \"\(account)\"; remove the account instead"
            )
        }
        doc.remove(dest.keyLine..<dest.end)
        return doc.text
    }

    /// The destination key (as written in domains.conf) and account that `address` is configured
    /// as, compared case-insensitively; a key without `@` is a localpart at the account's domain.
    public static func findDestination(
        _ address: String,
        in config: DynamicConfig
    ) -> (account: String, key: String)? {
        let wanted = address.lowercased()
        for (name, account) in config.accounts.sorted(by: { $0.key < $1.key }) {
            for key in account.destinations.keys.sorted() {
                let full = key.contains("@") ? key : "\(key)@\(account.domain)"
                if full.lowercased() == wanted {
                    return (name, key)
                }
            }
        }
        return nil
    }

    // MARK: - Checks

    static func checkKey(_ key: String, what: String) throws(ConfigEditError) {
        let bad =
            key.isEmpty || key.hasPrefix("#") || key.hasPrefix("-") || key.hasPrefix(" ")
            || key.hasSuffix(" ") || key.contains(":") || key.contains("/")
            || key.unicodeScalars.contains { $0.value < 0x20 || $0.value == 0x7f }
        if bad {
            throw ConfigEditError("invalid \(what) \"\(key)\"")
        }
    }

    /// `localpart@domain` or `@domain`; the domain is lowercased.
    static func splitAddress(_ address: String) throws(ConfigEditError) -> (String, String) {
        guard let at = address.lastIndex(of: "@") else {
            throw ConfigEditError("invalid address \"\(address)\": no @")
        }
        let localpart = String(address[..<at])
        let domain = String(address[address.index(after: at)...]).lowercased()
        guard !domain.isEmpty else {
            throw ConfigEditError("invalid address \"\(address)\": no domain")
        }
        try Self.checkKey(address, what: "address")
        return (localpart, domain)
    }
}

/// The lines of an sconf text, each with its line ending, and the structure tabs give them.
struct Lines {
    /// A key and its nested lines: `keyLine`, then `body` (the lines up to and including the last
    /// more-indented content line); `end` is `body.upperBound`.
    struct Entry {
        var key: String
        var keyLine: Int
        var body: Range<Int>
        var end: Int { self.body.upperBound }
    }

    private(set) var lines: [String]

    init(_ text: String) {
        var lines: [String] = []
        var current = ""
        for c in text {
            current.append(c)
            if c == "\n" || c == "\r\n" {
                lines.append(current)
                current = ""
            }
        }
        if !current.isEmpty {
            lines.append(current)
        }
        self.lines = lines
    }

    var count: Int { self.lines.count }

    /// Whether a line ends with "\n" or "\r\n" (a single Character in Swift, so checked apart).
    static func hasEnding(_ line: String) -> Bool {
        line.hasSuffix("\n") || line.hasSuffix("\r\n")
    }

    /// A line without its line ending.
    static func stripEnding(_ line: Substring) -> Substring {
        var line = line
        while let last = line.last, last == "\n" || last == "\r\n" || last == "\r" {
            line = line.dropLast()
        }
        return line
    }
    var text: String { self.lines.joined() }

    /// Tabs before the content of a content line; nil for an empty or comment line.
    func depth(_ i: Int) -> Int? {
        let line = self.lines[i]
        let tabs = line.prefix(while: { $0 == "\t" }).count
        let rest = line.drop(while: { $0 == " " || $0 == "\t" })
        if rest.isEmpty || rest.first == "\n" || rest.first == "\r\n" || rest.hasPrefix("#") {
            return nil
        }
        return tabs
    }

    /// The key of a content line at `depth`: the text up to the first ":" that ends the line or is
    /// followed by a space.
    func key(_ i: Int) -> String {
        let content = Self.stripEnding(self.lines[i].drop(while: { $0 == "\t" }))
        if content.hasSuffix(":") {
            return String(content.dropLast())
        }
        if let r = content.firstRange(of: ": ") {
            return String(content[..<r.lowerBound])
        }
        return String(content)
    }

    /// The entries at `depth` among `range`.
    func entries(in range: Range<Int>, depth: Int) -> [Entry] {
        var result: [Entry] = []
        var i = range.lowerBound
        while i < range.upperBound {
            guard self.depth(i) == depth else {
                i += 1
                continue
            }
            var end = i + 1
            var j = i + 1
            while j < range.upperBound {
                if let d = self.depth(j) {
                    if d <= depth {
                        break
                    }
                    end = j + 1
                }
                j += 1
            }
            result.append(Entry(key: self.key(i), keyLine: i, body: (i + 1)..<end))
            i = end
        }
        return result
    }

    func entry(named key: String, in range: Range<Int>, depth: Int) -> Entry? {
        self.entries(in: range, depth: depth).first { $0.key == key }
    }

    /// Inserts `text` (whole lines) before line `index`; when the key line at `keyLine` has a value on
    /// its line (such as `nil`), the value is removed so the key can hold the new nested lines.
    mutating func insert(_ text: String, at index: Int, makingBlockOf keyLine: Int) {
        let line = self.lines[keyLine]
        let ending = line.hasSuffix("\r\n") ? "\r\n" : "\n"
        let content = Self.stripEnding(Substring(line))
        if !content.hasSuffix(":"), let r = content.firstRange(of: ": ") {
            self.lines[keyLine] = String(content[..<r.lowerBound]) + ":" + ending
        } else if !Self.hasEnding(line) {
            self.lines[keyLine] = line + ending
        }
        let added = Lines(ending == "\r\n" ? text.replacing("\n", with: "\r\n") : text).lines
        self.lines.insert(contentsOf: added, at: index)
    }

    mutating func append(_ text: String) {
        if let last = self.lines.last, !Self.hasEnding(last) {
            self.lines[self.lines.count - 1] = last + "\n"
        }
        self.lines += Lines(text).lines
    }

    mutating func remove(_ range: Range<Int>) {
        self.lines.removeSubrange(range)
    }
}

// MARK: - Applying an edit to the file

/// Reads domains.conf, applies an edit, validates the result and replaces the file atomically.
public enum ConfigEditor {
    /// Applies `edit` to the domains.conf beside the mox.conf at `staticPath`, holding an exclusive
    /// lock on the configuration directory so concurrent editors take turns. The edited text must
    /// parse and validate against mox.conf; otherwise the file is left alone and the problems are
    /// thrown. Returns the configuration as it is after the edit.
    @discardableResult
    public static func apply(
        staticPath: String,
        _ edit: (String, Config) throws(ConfigEditError) -> String
    ) throws(ConfigEditError) -> Config {
        let directory = ConfigLoader.directory(of: staticPath)
        let dirFD = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard dirFD >= 0 else {
            throw ConfigEditError("opening config directory \(directory): \(Self.osError())")
        }
        defer { close(dirFD) }
        while flock(dirFD, LOCK_EX) != 0 {
            if errno != EINTR {
                throw ConfigEditError("locking config directory \(directory): \(Self.osError())")
            }
        }
        defer { _ = flock(dirFD, LOCK_UN) }

        let config: Config
        do {
            config = try ConfigLoader.load(staticPath: staticPath)
        } catch {
            throw ConfigEditError("current configuration is not valid:\n\(error)")
        }
        let oldText: String
        do {
            oldText = try ConfigLoader.read(config.dynamicPath)
        } catch {
            throw ConfigEditError("\(error)")
        }
        let newText = try edit(oldText, config)
        let dynamicConfig: DynamicConfig
        do {
            (dynamicConfig, _) = try ConfigLoader.parseDynamic(
                newText,
                file: config.dynamicPath,
                staticConfig: config.staticConfig,
                staticFile: config.staticPath
            )
        } catch {
            throw ConfigEditError("the change would make domains.conf invalid, not changed:\n\(error)")
        }
        try Self.writeAtomically(config.dynamicPath, Array(newText.utf8))
        var result = config
        result.dynamicConfig = dynamicConfig
        return result
    }

    /// Replaces the file at `path` with `bytes` so that a reader sees either the old or the new
    /// contents, also after a crash: a temporary file in the same directory is written, fsynced and
    /// renamed over `path`, and the directory is fsynced. The old file's permissions are kept.
    public static func writeAtomically(_ path: String, _ bytes: [UInt8]) throws(ConfigEditError) {
        var mode: mode_t = 0o660
        var st = stat()
        if stat(path, &st) == 0 {
            mode = st.st_mode & 0o7777
        }
        let tempPath = path + ".tmp" + String(UInt32.random(in: 0...UInt32.max), radix: 36)
        let fd = open(tempPath, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)
        guard fd >= 0 else {
            throw ConfigEditError("creating \(tempPath): \(Self.osError())")
        }
        var failure: String?
        _ = fchmod(fd, mode)
        var offset = 0
        while offset < bytes.count && failure == nil {
            let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress.map { $0 + offset }, bytes.count - offset) }
            if n > 0 {
                offset += n
            } else if n < 0 && errno != EINTR {
                failure = "writing \(tempPath): \(Self.osError())"
            }
        }
        if failure == nil && fsync(fd) != 0 {
            failure = "fsync \(tempPath): \(Self.osError())"
        }
        if close(fd) != 0 && failure == nil {
            failure = "closing \(tempPath): \(Self.osError())"
        }
        if failure == nil && rename(tempPath, path) != 0 {
            failure = "renaming \(tempPath) to \(path): \(Self.osError())"
        }
        if let failure {
            unlink(tempPath)
            throw ConfigEditError(failure)
        }
        let directory = ConfigLoader.directory(of: path)
        let dirFD = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard dirFD >= 0 else {
            throw ConfigEditError("opening \(directory) for fsync: \(Self.osError())")
        }
        defer { close(dirFD) }
        if fsync(dirFD) != 0 {
            throw ConfigEditError("fsync \(directory): \(Self.osError())")
        }
    }

    static func osError() -> String {
        String(cString: strerror(errno))
    }
}
