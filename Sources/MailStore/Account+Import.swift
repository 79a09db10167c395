// Importing mbox files and Maildir directories into a mailbox (`mox import mbox|maildir`). The readers
// turn the archive into messages with CRLF line endings, flags, keywords and an internal date; the
// account delivers them one by one, so each imported message is complete and durable on its own.
#if canImport(Glibc)
import Glibc
#endif

/// A message read from an archive, ready to deliver.
public struct ImportedMessage: Sendable {
    /// The message with CRLF line endings.
    public var bytes: [UInt8]
    public var flags: MessageFlags
    /// Keywords other than the system flags.
    public var keywords: [String]
    /// The internal date in seconds since 1970, when the archive gives one.
    public var received: Int64?
    /// Where the message came from, for messages: `message 3 (line 120)` or a file path.
    public var source: String

    public init(bytes: [UInt8], flags: MessageFlags, keywords: [String], received: Int64?, source: String) {
        self.bytes = bytes
        self.flags = flags
        self.keywords = keywords
        self.received = received
        self.source = source
    }
}

/// An import that stopped: the messages before `source` were imported, that one and later were not.
public struct ImportError: Error, CustomStringConvertible, Sendable {
    /// Messages imported before the failure.
    public var imported: Int
    /// The message (or file) the import stopped at; empty when it stopped before the first.
    public var source: String
    public var reason: String

    public init(imported: Int, source: String, reason: String) {
        self.imported = imported
        self.source = source
        self.reason = reason
    }

    public var description: String {
        let at = self.source.isEmpty ? "" : " at \(self.source)"
        return "import stopped\(at): \(self.reason) (\(self.imported) messages imported before it)"
    }
}

/// Messages one at a time from an archive.
public protocol MessageArchiveReader {
    /// The number of messages, when known before reading them.
    var total: Int? { get }
    /// The next message, or nil at the end. The error's `reason` says what is wrong.
    mutating func next() throws(ImportError) -> ImportedMessage?
}

// MARK: - mbox

/// Reads an mbox file as mboxrd: a message starts at a `From ` line that is the first line or follows
/// an empty line; that empty line belongs to the separator; `>From `, `>>From `, ... lose one `>`.
/// `Status`, `X-Status` and `X-Keywords` header fields, as mail programs and mox's export write them,
/// become flags and keywords and are left out of the message.
/// - SeeAlso: RFC 4155
public struct MboxReader: MessageArchiveReader, Sendable {
    let source: LineSource
    let name: String
    var lineNumber = 0
    var messageNumber = 0

    /// Reads an mbox held in memory.
    public init(bytes: [UInt8], name: String) {
        self.source = LineSource(bytes: bytes)
        self.name = name
        self.total = Self.countMessages(LineSource(bytes: bytes))
    }

    /// Reads the mbox file at `path` as a stream: memory use is one message, not the file. The
    /// file is read twice, first to count the messages for progress.
    public init(path: String) throws(ImportError) {
        do {
            let counter = try LineSource(path: path)
            self.total = Self.countMessages(counter)
            self.source = try LineSource(path: path)
        } catch {
            throw ImportError(imported: 0, source: path, reason: error.description)
        }
        self.name = path
    }

    /// The number of messages, counted up front by the same rule that splits them, for progress.
    public let total: Int?

    static func countMessages(_ source: LineSource) -> Int {
        var count = 0
        var previousEmpty = true
        while let raw = source.line() {
            let line = Self.content(raw)
            if previousEmpty && line.starts(with: "From ".utf8) {
                count += 1
            }
            previousEmpty = line.isEmpty
        }
        return count
    }

    /// The next line including its "\n" (absent on a last line without one).
    mutating func line() -> ArraySlice<UInt8>? {
        guard let line = self.source.line() else { return nil }
        self.lineNumber += 1
        return line
    }

    func peekIsFromLine() -> Bool {
        self.source.peek(5).elementsEqual("From ".utf8)
    }

    var atEnd: Bool { self.source.atEnd }

    static func hasPrefix(_ s: ArraySlice<UInt8>, _ prefix: String) -> Bool {
        s.starts(with: prefix.utf8)
    }

    /// Content of a line without "\n" or "\r\n".
    static func content(_ line: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
        var line = line
        if line.last == UInt8(ascii: "\n") { line = line.dropLast() }
        if line.last == UInt8(ascii: "\r") { line = line.dropLast() }
        return line
    }

    public mutating func next() throws(ImportError) -> ImportedMessage? {
        // Empty lines before a From line are skipped.
        while !self.atEnd && self.source.peekLineIsEmpty() {
            _ = self.line()
        }
        guard let fromLine = self.line() else { return nil }
        self.messageNumber += 1
        let source = "\(self.name) message \(self.messageNumber) (line \(self.lineNumber))"
        guard Self.hasPrefix(fromLine, "From ") else {
            throw ImportError(
                imported: self.messageNumber - 1,
                source: source,
                reason: "line does not start with \"From \", not an mbox file?"
            )
        }
        let received = Self.parseFromLineDate(Self.content(fromLine))
        var message: [UInt8] = []
        var flags: MessageFlags = []
        var keywords: [String] = []
        var inHeader = true
        var pendingEmpty = false
        while !self.atEnd {
            if pendingEmpty && self.peekIsFromLine() {
                pendingEmpty = false
                break
            }
            guard let raw = self.line() else { break }
            var line = Self.content(raw)
            if pendingEmpty {
                message += [13, 10]
                pendingEmpty = false
            }
            if line.isEmpty {
                inHeader = false
                pendingEmpty = true
                continue
            }
            if inHeader, let field = Self.mboxStatusField(line) {
                switch field {
                case .status(let value):
                    if value.contains("R") { flags.insert(.seen) }
                case .xStatus(let value):
                    if value.contains("A") { flags.insert(.answered) }
                    if value.contains("F") { flags.insert(.flagged) }
                    if value.contains("T") { flags.insert(.draft) }
                    if value.contains("D") { flags.insert(.deleted) }
                case .xKeywords(let value):
                    for k in value.split(separator: ",") {
                        let k = k.trimmingSpaces()
                        if !k.isEmpty { keywords.append(k) }
                    }
                }
                continue
            }
            let quoted = line.prefix(while: { $0 == UInt8(ascii: ">") })
            if !quoted.isEmpty && Self.hasPrefix(line[quoted.endIndex...], "From ") {
                line = line.dropFirst()
            }
            message += line
            message += [13, 10]
        }
        // An empty line at the end of the file is the separator after the last message.
        return ImportedMessage(bytes: message, flags: flags, keywords: keywords, received: received, source: source)
    }

    enum StatusField {
        case status(String)
        case xStatus(String)
        case xKeywords(String)
    }

    static func mboxStatusField(_ line: ArraySlice<UInt8>) -> StatusField? {
        guard let colon = line.firstIndex(of: UInt8(ascii: ":")) else { return nil }
        let name = String(decoding: line[line.startIndex..<colon], as: UTF8.self).lowercased()
        let value = String(decoding: line[(colon + 1)...], as: UTF8.self).trimmingSpaces()
        switch name {
        case "status": return .status(value)
        case "x-status": return .xStatus(value)
        case "x-keywords": return .xKeywords(value)
        default: return nil
        }
    }

    static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    /// The date at the end of a From line, in asctime form (`Wed Nov 25 07:45:23 2026`), read as UTC.
    static func parseFromLineDate(_ line: ArraySlice<UInt8>) -> Int64? {
        let words = String(decoding: line, as: UTF8.self).split(separator: " ", omittingEmptySubsequences: true)
        guard words.count >= 6 else { return nil }
        let tail = Array(words.suffix(4))
        guard let month = Self.months.firstIndex(of: String(tail[0])), let day = Int(tail[1]),
            let year = Int(tail[3])
        else {
            return nil
        }
        let hms = tail[2].split(separator: ":").compactMap { Int($0) }
        guard hms.count == 3, (1...31).contains(day), (1970...9999).contains(year) else { return nil }
        var tm = tm()
        tm.tm_year = Int32(year - 1900)
        tm.tm_mon = Int32(month)
        tm.tm_mday = Int32(day)
        tm.tm_hour = Int32(hms[0])
        tm.tm_min = Int32(hms[1])
        tm.tm_sec = Int32(hms[2])
        return Int64(timegm(&tm))
    }
}

// MARK: - Maildir

/// Reads a Maildir: the files in `new/` and `cur/`, in name order. Flags come from the `:2,` suffix
/// of a file name (`S` seen, `R` answered, `F` flagged, `T` deleted, `D` draft), and the letters `a`
/// to `z` name keywords through the directory's `dovecot-keywords` file (`0 keyword` lines). The
/// internal date is the number a file name starts with (seconds since 1970), or the file's mtime.
public struct MaildirReader: MessageArchiveReader, Sendable {
    let files: [String]
    let keywordNames: [Int: String]
    var index = 0

    public init(directory: String) throws(ImportError) {
        var files: [String] = []
        for sub in ["new", "cur"] {
            let dir = directory + "/" + sub
            guard FileIO.exists(dir) else { continue }
            files += FileIO.list(dir).filter { !$0.hasPrefix(".") }.sorted().map { dir + "/" + $0 }
        }
        if files.isEmpty && !FileIO.exists(directory + "/cur") && !FileIO.exists(directory + "/new") {
            throw ImportError(imported: 0, source: directory, reason: "no cur/ or new/ directory, not a maildir?")
        }
        self.files = files
        var names: [Int: String] = [:]
        if let data = try? FileIO.readAll(directory + "/dovecot-keywords") {
            names = Self.parseDovecotKeywords(String(decoding: data, as: UTF8.self))
        }
        self.keywordNames = names
    }

    public var total: Int? { self.files.count }

    /// `index keyword` lines; lines that do not fit are skipped.
    static func parseDovecotKeywords(_ text: String) -> [Int: String] {
        var names: [Int: String] = [:]
        for line in text.split(whereSeparator: { $0 == "\n" || $0 == "\r\n" }) {
            let parts = line.split(separator: " ", maxSplits: 1)
            guard parts.count == 2, let i = Int(parts[0]), (0..<26).contains(i) else { continue }
            let name = parts[1].trimmingSpaces()
            if !name.isEmpty { names[i] = name }
        }
        return names
    }

    /// Flags and keywords from a maildir file name.
    static func flags(fileName: String, keywordNames: [Int: String]) -> (MessageFlags, [String]) {
        guard let r = fileName.ranges(of: ":2,").last else { return ([], []) }
        var flags: MessageFlags = []
        var keywords: [String] = []
        for c in fileName[r.upperBound...].unicodeScalars {
            switch c {
            case "S": flags.insert(.seen)
            case "R": flags.insert(.answered)
            case "F": flags.insert(.flagged)
            case "T": flags.insert(.deleted)
            case "D": flags.insert(.draft)
            case "a"..."z":
                if let name = keywordNames[Int(c.value - 97)] { keywords.append(name) }
            default: break
            }
        }
        return (flags, keywords)
    }

    public mutating func next() throws(ImportError) -> ImportedMessage? {
        guard self.index < self.files.count else { return nil }
        let path = self.files[self.index]
        self.index += 1
        let data: [UInt8]
        do {
            data = try FileIO.readAll(path)
        } catch {
            throw ImportError(imported: self.index - 1, source: path, reason: "\(error)")
        }
        let name = String(path[path.index(after: path.lastIndex(of: "/") ?? path.startIndex)...])
        let (flags, keywords) = Self.flags(fileName: name, keywordNames: self.keywordNames)
        var received = Int64(name.prefix(while: { $0.isASCII && $0.isNumber }))
        if received == nil {
            var st = stat()
            if stat(path, &st) == 0 { received = Int64(st.st_mtim.tv_sec) }
        }
        return ImportedMessage(
            bytes: Self.crlf(data),
            flags: flags,
            keywords: keywords,
            received: received,
            source: path
        )
    }

    /// Bare "\n" line endings turned into "\r\n".
    static func crlf(_ data: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(data.count + data.count / 40)
        var previous: UInt8 = 0
        for b in data {
            if b == UInt8(ascii: "\n") && previous != UInt8(ascii: "\r") {
                out.append(UInt8(ascii: "\r"))
            }
            out.append(b)
            previous = b
        }
        return out
    }
}

// MARK: - Importing

/// What an import did.
public struct ImportSummary: Sendable, Equatable {
    public var imported = 0
    public var mailbox = ""
    public var mailboxCreated = false
}

extension Account {
    /// Delivers every message of `reader` to the mailbox `mailboxName`, created when missing. A
    /// message without a date from the archive gets the current time. `searchText` gives the text to
    /// index for a message; `progress` is called after each message with the count so far. A failure
    /// stops the import at that message; the messages before it stay imported, each one complete.
    public func importMessages<Reader: MessageArchiveReader>(
        from reader: inout Reader,
        into mailboxName: String,
        searchText: (ImportedMessage) -> String,
        progress: (Int) -> Void = { _ in }
    ) async throws(ImportError) -> ImportSummary {
        var summary = ImportSummary(mailbox: mailboxName)
        let mailbox: Mailbox
        do {
            if let existing = try await self.mailbox(named: mailboxName) {
                mailbox = existing
            } else {
                mailbox = try await self.createMailbox(mailboxName)
                summary.mailboxCreated = true
            }
        } catch {
            throw ImportError(imported: 0, source: "", reason: "mailbox \(mailboxName): \(error.message)")
        }
        while true {
            let message: ImportedMessage?
            do {
                message = try reader.next()
            } catch {
                var error = error
                error.imported = summary.imported
                throw error
            }
            guard let message else { break }
            do {
                _ = try await self.deliver(
                    message.bytes,
                    to: mailbox.id,
                    flags: message.flags,
                    keywords: message.keywords,
                    received: message.received ?? Int64(time(nil)),
                    searchText: searchText(message)
                )
            } catch {
                throw ImportError(imported: summary.imported, source: message.source, reason: error.message)
            }
            summary.imported += 1
            progress(summary.imported)
        }
        return summary
    }
}

extension StringProtocol {
    /// Without leading and trailing spaces and tabs.
    func trimmingSpaces() -> String {
        let s = self.drop(while: { $0 == " " || $0 == "\t" })
        var end = s.endIndex
        while end > s.startIndex {
            let before = s.index(before: end)
            guard s[before] == " " || s[before] == "\t" else { break }
            end = before
        }
        return String(s[s.startIndex..<end])
    }
}

/// Lines of a byte stream, from memory or read from a file in blocks: the mbox reader's input.
/// Used by one task at a time (the reader that owns it).
final class LineSource: @unchecked Sendable {
    private var buffer: [UInt8]
    private var start = 0
    private let fd: Int32?
    private var eof: Bool

    init(bytes: [UInt8]) {
        self.buffer = bytes
        self.fd = nil
        self.eof = true
    }

    init(path: String) throws(FileIO.Failure) {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            throw FileIO.Failure(operation: "open", path: path, errno: errno)
        }
        self.fd = fd
        self.buffer = []
        self.eof = false
    }

    deinit {
        if let fd = self.fd {
            close(fd)
        }
    }

    var atEnd: Bool {
        if self.start < self.buffer.count { return false }
        self.fill()
        return self.start >= self.buffer.count
    }

    /// Reads another block, keeping the unconsumed bytes; false at the end of the file.
    @discardableResult
    private func fill() -> Bool {
        guard let fd = self.fd, !self.eof else { return false }
        if self.start > 0 {
            self.buffer.removeSubrange(0..<self.start)
            self.start = 0
        }
        var block = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = block.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n > 0 {
                self.buffer.append(contentsOf: block[0..<n])
                return true
            }
            if n < 0 && errno == EINTR { continue }
            // End of file, or a read error: the stream ends here.
            self.eof = true
            return false
        }
    }

    /// The next line including its "\n" (absent on a last line without one); nil at the end.
    func line() -> ArraySlice<UInt8>? {
        var scanned = self.start
        while true {
            if let newline = self.buffer[scanned...].firstIndex(of: UInt8(ascii: "\n")) {
                let line = self.buffer[self.start...newline]
                self.start = newline + 1
                return line
            }
            scanned = self.buffer.count
            let consumed = self.start
            if !self.fill() {
                guard self.start < self.buffer.count else { return nil }
                let line = self.buffer[self.start...]
                self.start = self.buffer.count
                return line
            }
            // fill() moved the unconsumed bytes to the front.
            scanned -= consumed
        }
    }

    /// Up to `count` bytes at the current position, without consuming them.
    func peek(_ count: Int) -> ArraySlice<UInt8> {
        while self.buffer.count - self.start < count && self.fill() {}
        return self.buffer[self.start..<min(self.buffer.count, self.start + count)]
    }

    /// Whether the next line is empty ("\n" or "\r\n").
    func peekLineIsEmpty() -> Bool {
        let next = self.peek(2)
        return next.first == UInt8(ascii: "\n") || next.elementsEqual([13, 10])
    }
}
