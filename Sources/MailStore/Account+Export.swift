// Exporting mailboxes as mbox files or Maildir directories (`mox export mbox|maildir`). Messages are
// written with LF line endings, as both formats expect; flags and keywords go into Maildir file names
// and `dovecot-keywords`, or into `Status`, `X-Status` and `X-Keywords` fields in mbox files.
#if canImport(Glibc)
import Glibc
#endif

/// The archive format of an export.
public enum ExportFormat: Sendable {
    /// One `<mailbox>.mbox` file per mailbox, mboxrd-quoted.
    case mbox
    /// One `<mailbox>/` Maildir per mailbox, with `new/`, `cur/` and `tmp/`.
    case maildir
}

/// What an export did.
public struct ExportSummary: Sendable, Equatable {
    public var mailboxes = 0
    public var messages = 0
}

extension Account {
    /// Opens the account whose data directory is `path` (`<datadir>/accounts/<name>`), which must
    /// exist: exporting never creates an account.
    public static func open(accountPath path: String) async throws(StoreError) -> Account {
        var trimmed = path
        while trimmed.count > 1 && trimmed.hasSuffix("/") { trimmed.removeLast() }
        let parts = trimmed.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count >= 2, parts[parts.count - 2] == "accounts", let name = parts.last, !name.isEmpty else {
            throw StoreError(
                .invalidName,
                account: path,
                "not an account directory: expected a path ending in accounts/<name>, e.g. data/accounts/mjl"
            )
        }
        var dataDir = parts.dropLast(2).joined(separator: "/")
        if dataDir.isEmpty { dataDir = trimmed.hasPrefix("/") ? "/" : "." }
        guard FileIO.exists(AccountLayout(dataDir: dataDir, name: String(name)).databasePath) else {
            throw StoreError(.notFound, account: String(name), "no account database in \(path)")
        }
        return try await Account.open(dataDir: dataDir, name: String(name))
    }

    /// Writes the mailboxes to `directory` (created when missing): all mailboxes when `mailbox` is
    /// nil, otherwise the named one and, unless `single`, the mailboxes below it. Existing files are
    /// never overwritten. `progress` is called after each message with the count so far.
    public func export(
        to directory: String,
        format: ExportFormat,
        mailbox: String? = nil,
        single: Bool = false,
        progress: (Int) -> Void = { _ in }
    ) async throws(StoreError) -> ExportSummary {
        let all = try await self.mailboxes()
        let selected: [Mailbox]
        if let mailbox {
            guard all.contains(where: { $0.name == mailbox }) else {
                throw StoreError(.notFound, account: self.name, "no mailbox \"\(mailbox)\"")
            }
            selected = all.filter { $0.name == mailbox || (!single && $0.name.hasPrefix(mailbox + "/")) }
        } else {
            selected = all
        }
        var summary = ExportSummary()
        for box in selected {
            let entries = try await self.messageFlags(in: box.id)
            var writer: any ArchiveWriter
            do throws(FileIO.Failure) {
                switch format {
                case .mbox: writer = try MboxWriter(path: directory + "/" + box.name + ".mbox")
                case .maildir: writer = try MaildirWriter(directory: directory + "/" + box.name)
                }
            } catch {
                throw StoreError(.io, account: self.name, "exporting mailbox \"\(box.name)\": \(error)")
            }
            for entry in entries {
                let message = try await self.message(entry.id)
                let bytes = try await self.messageBytes(entry.id)
                do throws(FileIO.Failure) {
                    try writer.add(bytes, flags: entry.flags, keywords: entry.keywords, message: message)
                } catch {
                    throw StoreError(.io, account: self.name, "exporting \(entry.id) of \"\(box.name)\": \(error)")
                }
                summary.messages += 1
                progress(summary.messages)
            }
            do throws(FileIO.Failure) {
                try writer.finish()
            } catch {
                throw StoreError(.io, account: self.name, "exporting mailbox \"\(box.name)\": \(error)")
            }
            summary.mailboxes += 1
        }
        return summary
    }
}

protocol ArchiveWriter {
    mutating func add(
        _ bytes: [UInt8],
        flags: MessageFlags,
        keywords: [String],
        message: StoredMessage
    )
        throws(FileIO.Failure)
    mutating func finish() throws(FileIO.Failure)
}

/// A file written sequentially, created new (never overwriting).
struct OutputFile {
    let path: String
    let fd: Int32
    var buffer: [UInt8] = []

    init(path: String) throws(FileIO.Failure) {
        if let slash = path.lastIndex(of: "/") {
            try FileIO.makeDirectories(String(path[..<slash]))
        }
        self.path = path
        self.fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o640)
        if self.fd < 0 {
            throw FileIO.Failure(operation: "create", path: path, errno: errno)
        }
    }

    mutating func write(_ bytes: some Sequence<UInt8>) throws(FileIO.Failure) {
        self.buffer.append(contentsOf: bytes)
        if self.buffer.count >= 1 << 16 {
            try self.flush()
        }
    }

    mutating func flush() throws(FileIO.Failure) {
        var offset = 0
        while offset < self.buffer.count {
            let n = self.buffer.withUnsafeBytes {
                Glibc.write(self.fd, $0.baseAddress.map { $0 + offset }, $0.count - offset)
            }
            if n < 0 {
                if errno == EINTR { continue }
                throw FileIO.Failure(operation: "write", path: self.path, errno: errno)
            }
            offset += n
        }
        self.buffer.removeAll(keepingCapacity: true)
    }

    mutating func close() throws(FileIO.Failure) {
        try self.flush()
        if Glibc.close(self.fd) != 0 {
            throw FileIO.Failure(operation: "close", path: self.path, errno: errno)
        }
    }
}

/// Lines of a message without their "\r\n" or "\n".
func messageLines(_ bytes: [UInt8]) -> [ArraySlice<UInt8>] {
    var lines: [ArraySlice<UInt8>] = []
    var start = 0
    for i in bytes.indices where bytes[i] == UInt8(ascii: "\n") {
        var end = i
        if end > start && bytes[end - 1] == UInt8(ascii: "\r") { end -= 1 }
        lines.append(bytes[start..<end])
        start = i + 1
    }
    if start < bytes.count {
        lines.append(bytes[start...])
    }
    return lines
}

/// Writes an mboxrd file: a `From ` line with the internal date, the flag fields, the message with
/// `>`-quoting of lines that start with `From ` after any number of `>`, and an empty line.
struct MboxWriter: ArchiveWriter {
    var file: OutputFile

    init(path: String) throws(FileIO.Failure) {
        self.file = try OutputFile(path: path)
    }

    static func asctime(_ seconds: Int64) -> String {
        var t = time_t(seconds)
        var tm = tm()
        gmtime_r(&t, &tm)
        let days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
        func two(_ v: Int32) -> String { v < 10 ? "0\(v)" : "\(v)" }
        let day = tm.tm_mday < 10 ? " \(tm.tm_mday)" : "\(tm.tm_mday)"
        return "\(days[Int(tm.tm_wday)]) \(MboxReader.months[Int(tm.tm_mon)]) \(day) "
            + "\(two(tm.tm_hour)):\(two(tm.tm_min)):\(two(tm.tm_sec)) \(Int(tm.tm_year) + 1900)"
    }

    mutating func add(
        _ bytes: [UInt8],
        flags: MessageFlags,
        keywords: [String],
        message: StoredMessage
    ) throws(FileIO.Failure) {
        let sender = message.metadata.mailFrom.flatMap { $0.isEmpty ? nil : $0 } ?? "MAILER-DAEMON"
        try self.file.write("From \(sender) \(Self.asctime(message.received))\n".utf8)
        if flags.contains(.seen) {
            try self.file.write("Status: R\n".utf8)
        }
        var xstatus = ""
        if flags.contains(.answered) { xstatus += "A" }
        if flags.contains(.deleted) { xstatus += "D" }
        if flags.contains(.flagged) { xstatus += "F" }
        if flags.contains(.draft) { xstatus += "T" }
        if !xstatus.isEmpty {
            try self.file.write("X-Status: \(xstatus)\n".utf8)
        }
        if !keywords.isEmpty {
            try self.file.write("X-Keywords: \(keywords.joined(separator: ","))\n".utf8)
        }
        for line in messageLines(bytes) {
            let quoted = line.prefix(while: { $0 == UInt8(ascii: ">") })
            if line[quoted.endIndex...].starts(with: "From ".utf8) {
                try self.file.write(CollectionOfOne(UInt8(ascii: ">")))
            }
            try self.file.write(line)
            try self.file.write(CollectionOfOne(UInt8(ascii: "\n")))
        }
        try self.file.write(CollectionOfOne(UInt8(ascii: "\n")))
    }

    mutating func finish() throws(FileIO.Failure) {
        try self.file.close()
    }
}

/// Writes a Maildir: messages in `cur/` named `<received>.<id>.mox:2,<flags>`, keyword letters as
/// listed in `dovecot-keywords` (only the first 26 keywords fit in file names).
struct MaildirWriter: ArchiveWriter {
    let directory: String
    var keywordLetters: [String: Character] = [:]
    var keywordOrder: [String] = []

    init(directory: String) throws(FileIO.Failure) {
        self.directory = directory
        for sub in ["new", "cur", "tmp"] {
            try FileIO.makeDirectories(directory + "/" + sub)
        }
    }

    static func letters(_ flags: MessageFlags) -> String {
        // Maildir wants the flag letters in ASCII order.
        var s = ""
        if flags.contains(.draft) { s += "D" }
        if flags.contains(.flagged) { s += "F" }
        if flags.contains(.answered) { s += "R" }
        if flags.contains(.seen) { s += "S" }
        if flags.contains(.deleted) { s += "T" }
        return s
    }

    mutating func add(
        _ bytes: [UInt8],
        flags: MessageFlags,
        keywords: [String],
        message: StoredMessage
    ) throws(FileIO.Failure) {
        var keywordChars: [Character] = []
        for k in keywords {
            if let c = self.keywordLetters[k] {
                keywordChars.append(c)
            } else if self.keywordOrder.count < 26 {
                let c = Character(Unicode.Scalar(UInt8(97 + self.keywordOrder.count)))
                self.keywordLetters[k] = c
                self.keywordOrder.append(k)
                keywordChars.append(c)
            }
        }
        let name =
            "\(message.received).\(message.id.rawValue).mox:2,\(Self.letters(flags))"
            + String(keywordChars.sorted())
        var file = try OutputFile(path: self.directory + "/cur/" + name)
        for line in messageLines(bytes) {
            try file.write(line)
            try file.write(CollectionOfOne(UInt8(ascii: "\n")))
        }
        try file.close()
    }

    mutating func finish() throws(FileIO.Failure) {
        guard !self.keywordOrder.isEmpty else { return }
        var file = try OutputFile(path: self.directory + "/dovecot-keywords")
        for (i, k) in self.keywordOrder.enumerated() {
            try file.write("\(i) \(k)\n".utf8)
        }
        try file.close()
    }
}
