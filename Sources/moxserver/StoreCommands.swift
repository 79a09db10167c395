import ArgumentParser
import FoundationEssentials
import MailConfig
import MailMessage
import MailStore

#if canImport(Glibc)
import Glibc
#endif

// MARK: - mox setaccountpassword

struct SetAccountPassword: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "setaccountpassword",
        abstract: "Set a new password for an account.",
        discussion: """
            On a terminal the password is asked for twice, without echo; otherwise the first line of \
            standard input is the password (`echo secret | mox setaccountpassword mjl`). The password \
            itself is not stored: the secrets derived from it are kept in the account's database, for \
            SCRAM-SHA-256 and SCRAM-SHA-1 authentication and a slow salted hash for plain-text logins. \
            The account is the account's name as under Accounts in domains.conf, not one of its email \
            addresses. Safe to run while the server has the account open.
            """
    )

    @Argument(help: ArgumentHelp("The account name, as under Accounts in domains.conf.", valueName: "account"))
    var account: String

    func run() throws {
        let config = try loadConfig()
        guard config.dynamicConfig.accounts[self.account] != nil else {
            try fail("account \"\(self.account)\" does not exist")
        }
        let password: String
        if isatty(0) != 0 {
            let first = try readPasswordFromTerminal(prompt: "password: ")
            let second = try readPasswordFromTerminal(prompt: "repeat password: ")
            guard first == second else {
                try fail("passwords do not match")
            }
            password = first
        } else {
            password = readLine(strippingNewline: true) ?? ""
        }
        guard !password.isEmpty else {
            try fail("empty password")
        }
        let (dataDir, name) = (config.dataDirectory, self.account)
        try runAsync { () async throws in
            let account = try await Account.open(dataDir: dataDir, name: name)
            do {
                try await account.setPassword(password)
            } catch {
                await account.close()
                throw error
            }
            await account.close()
        }
        print("password set")
    }
}

/// Reads one line from the terminal on standard input with echo turned off, restoring the terminal's
/// settings afterwards.
func readPasswordFromTerminal(prompt: String) throws -> String {
    writeStderr(prompt)
    var saved = termios()
    guard tcgetattr(0, &saved) == 0 else {
        try fail("reading terminal settings: \(String(cString: strerror(errno)))")
    }
    var quiet = saved
    quiet.c_lflag &= ~tcflag_t(ECHO)
    guard tcsetattr(0, TCSAFLUSH, &quiet) == 0 else {
        try fail("turning off echo: \(String(cString: strerror(errno)))")
    }
    let line = readLine(strippingNewline: true)
    _ = tcsetattr(0, TCSAFLUSH, &saved)
    writeStderr("\n")
    return line ?? ""
}

// MARK: - mox recalculatemailboxcounts

struct RecalculateMailboxCounts: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "recalculatemailboxcounts",
        abstract: "Recalculate the message counts and sizes of all mailboxes of an account.",
        discussion: """
            Each mailbox keeps its number of messages, unread, unseen and deleted messages, and their \
            total size, updated with every change. Should a bug ever make them wrong, this command counts \
            again from the messages, stores the right numbers and prints each mailbox it corrected, with \
            the old and new counts. Safe to run while the server has the account open.
            """
    )

    @Argument(help: ArgumentHelp("The account name, as under Accounts in domains.conf.", valueName: "account"))
    var account: String

    func run() throws {
        let config = try loadConfig()
        guard config.dynamicConfig.accounts[self.account] != nil else {
            try fail("account \"\(self.account)\" does not exist")
        }
        let (dataDir, name) = (config.dataDirectory, self.account)
        let lines: [String] = try runAsync { () async throws in
            let account = try await Account.open(dataDir: dataDir, name: name)
            let fixed: [(Mailbox, was: MailboxCounts)]
            do {
                fixed = try await account.recalculateMailboxCounts()
            } catch {
                await account.close()
                throw error
            }
            await account.close()
            return fixed.map { mailbox, was in
                "\(mailbox.name): was \(describe(was)), now \(describe(mailbox.counts))"
            }
        }
        for line in lines {
            print(line)
        }
        print(lines.isEmpty ? "all counts were correct" : "\(lines.count) mailboxes corrected")
    }
}

private func describe(_ c: MailboxCounts) -> String {
    "total \(c.total), deleted \(c.deleted), unread \(c.unread), unseen \(c.unseen), size \(c.size)"
}

// MARK: - mox import

struct ImportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Import an mbox file or a Maildir into a mailbox of an account.",
        subcommands: [ImportMbox.self, ImportMaildir.self]
    )
}

private let importDiscussion = """
    The mailbox is created when it does not exist. The messages are delivered one by one, each stored \
    durably before the next, so an import that stops (an error, or an interruption) leaves only whole \
    messages behind; the error says at which message or file it stopped, and how many came before it. \
    Messages are imported even when they are present already: importing twice gives duplicates. Line \
    endings are stored as CRLF. Safe to run while the server has the account open. On a terminal a \
    progress line shows the count, the rate and (when known) the time left; otherwise a line is \
    printed every 1,000 messages. At the end the number of imported messages is printed.
    """

struct ImportMbox: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mbox",
        abstract: "Import an mbox file into a mailbox of an account.",
        discussion: """
            The file is read as mboxrd: each message starts with a "From " line (whose date, when \
            present, becomes the message's received date), lines starting with ">From ", ">>From ", ... \
            lose one ">", and the flags in "Status", "X-Status" and "X-Keywords" header fields (as mail \
            programs and `mox export mbox` write them) are kept as flags and keywords. Maildir is the \
            better defined format, when there is a choice.
            """ + "\n\n" + importDiscussion
    )

    @Argument(help: ArgumentHelp("The account name, as under Accounts in domains.conf.", valueName: "account"))
    var account: String

    @Argument(help: ArgumentHelp("The mailbox to import into, e.g. Inbox or Archive/2024.", valueName: "mailbox"))
    var mailbox: String

    @Argument(help: ArgumentHelp("The mbox file.", valueName: "file"))
    var file: String

    func run() throws {
        let config = try loadConfig()
        guard config.dynamicConfig.accounts[self.account] != nil else {
            try fail("account \"\(self.account)\" does not exist")
        }
        let bytes: [UInt8]
        do {
            bytes = try readWholeFile(self.file)
        } catch {
            try fail("reading \(self.file): \(error)")
        }
        try runImport(
            reader: MboxReader(bytes: bytes, name: self.file),
            dataDir: config.dataDirectory,
            account: self.account,
            mailbox: self.mailbox
        )
    }
}

struct ImportMaildir: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "maildir",
        abstract: "Import a Maildir into a mailbox of an account.",
        discussion: """
            The messages in the Maildir's new/ and cur/ directories are imported, in file name order. \
            Flags come from the ":2," suffix of each file name: S seen, R answered, F flagged, T deleted, \
            D draft; the letters a to z are keywords, named in the Maildir's dovecot-keywords file. The \
            received date is the number a file name starts with (seconds since 1970, as Maildir programs \
            name files), or else the file's modification time.
            """ + "\n\n" + importDiscussion
    )

    @Argument(help: ArgumentHelp("The account name, as under Accounts in domains.conf.", valueName: "account"))
    var account: String

    @Argument(help: ArgumentHelp("The mailbox to import into, e.g. Inbox or Archive/2024.", valueName: "mailbox"))
    var mailbox: String

    @Argument(help: ArgumentHelp("The Maildir, the directory holding cur/ and new/.", valueName: "dir"))
    var dir: String

    func run() throws {
        let config = try loadConfig()
        guard config.dynamicConfig.accounts[self.account] != nil else {
            try fail("account \"\(self.account)\" does not exist")
        }
        let reader: MaildirReader
        do {
            reader = try MaildirReader(directory: self.dir)
        } catch {
            try fail(error.description)
        }
        try runImport(reader: reader, dataDir: config.dataDirectory, account: self.account, mailbox: self.mailbox)
    }
}

/// Imports all messages of `reader`, showing progress, and prints the result.
func runImport<Reader: MessageArchiveReader & Sendable>(
    reader: Reader,
    dataDir: String,
    account name: String,
    mailbox: String
) throws {
    let result: Result<ImportSummary, ImportError> = try runAsync { () async throws in
        var reader = reader
        let progress = ProgressReporter(what: "messages imported", total: reader.total)
        let account = try await Account.open(dataDir: dataDir, name: name)
        let result: Result<ImportSummary, ImportError>
        do throws(ImportError) {
            result = .success(
                try await account.importMessages(
                    from: &reader,
                    into: mailbox,
                    searchText: { message in searchText(message.bytes) },
                    progress: { progress.update($0) }
                )
            )
        } catch {
            result = .failure(error)
        }
        progress.finish()
        await account.close()
        return result
    }
    switch result {
    case .success(let summary):
        let created = summary.mailboxCreated ? " (mailbox created)" : ""
        print("\(summary.imported) messages imported into \(summary.mailbox)\(created)")
    case .failure(let error):
        try fail(error.description)
    }
}

/// The text to index for a message: its header and its decoded text parts.
func searchText(_ bytes: [UInt8]) -> String {
    let message = Message(parsing: bytes)
    let header = message.header
    let headerText = String(decoding: bytes[header.start..<min(header.end, bytes.count)], as: UTF8.self)
    return headerText + "\n" + TextExtraction.text(of: message)
}

struct FileError: Error, CustomStringConvertible {
    var description: String
}

/// Reads a whole file into memory.
func readWholeFile(_ path: String) throws -> [UInt8] {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else {
        throw FileError(description: String(cString: strerror(errno)))
    }
    defer { close(fd) }
    var data: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 1 << 16)
    while true {
        let n = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
        if n > 0 {
            data.append(contentsOf: buffer[0..<n])
        } else if n == 0 {
            return data
        } else if errno != EINTR {
            throw FileError(description: String(cString: strerror(errno)))
        }
    }
}

// MARK: - mox export

struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Export mailboxes of an account as mbox files or Maildirs.",
        subcommands: [ExportMbox.self, ExportMaildir.self]
    )
}

private let exportDiscussion = """
    Export works on the account's data directory directly, e.g. data/accounts/mjl, and needs no \
    configuration file, so it also works on a copy of the data directory. It is safe while the server \
    has the account open. Without MAILBOX all mailboxes are exported; with MAILBOX that mailbox and the \
    mailboxes below it (e.g. Archive and Archive/2024), or only that mailbox with -single. Files that \
    exist already in DSTDIR are not overwritten: the export stops with an error instead. Messages are \
    written with LF line endings.
    """

struct ExportOptions: ParsableArguments {
    @Flag(
        name: .customLong("single", withSingleDash: true),
        help: "Export only the named mailbox, not the mailboxes below it; has no effect without a mailbox."
    )
    var single = false

    @Argument(help: ArgumentHelp("The directory to write to, created when missing.", valueName: "dstdir"))
    var dstDir: String

    @Argument(help: ArgumentHelp("The account's data directory, e.g. data/accounts/mjl.", valueName: "accountpath"))
    var accountPath: String

    @Argument(help: ArgumentHelp("The mailbox to export; all mailboxes when left out.", valueName: "mailbox"))
    var mailbox: String?

    func run(_ format: ExportFormat) throws {
        let (dstDir, accountPath, mailbox, single) = (self.dstDir, self.accountPath, self.mailbox, self.single)
        let summary = try runAsync { () async throws in
            let progress = ProgressReporter(what: "messages exported", total: nil)
            let account = try await Account.open(accountPath: accountPath)
            let summary: ExportSummary
            do {
                summary = try await account.export(
                    to: dstDir,
                    format: format,
                    mailbox: mailbox,
                    single: single,
                    progress: { progress.update($0) }
                )
            } catch {
                progress.finish()
                await account.close()
                throw error
            }
            progress.finish()
            await account.close()
            return summary
        }
        print("\(summary.messages) messages in \(summary.mailboxes) mailboxes exported")
    }
}

struct ExportMbox: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mbox",
        abstract: "Export mailboxes of an account as mbox files.",
        discussion: """
            Each mailbox becomes DSTDIR/<mailbox>.mbox, in "mboxrd" form: a "From " line with the \
            message's received date starts each message, and message lines that start with "From " after \
            any number of ">" get one more ">", so that `mox import mbox` gives back the original lines. \
            Flags are written as "Status", "X-Status" and "X-Keywords" header fields. Maildir is the \
            better defined format, when there is a choice.
            """ + "\n\n" + exportDiscussion
    )

    @OptionGroup var options: ExportOptions

    func run() throws {
        try self.options.run(.mbox)
    }
}

struct ExportMaildir: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "maildir",
        abstract: "Export mailboxes of an account as Maildirs.",
        discussion: """
            Each mailbox becomes the Maildir DSTDIR/<mailbox>/ with new/, cur/ and tmp/. Messages are \
            in cur/, named <received>.<id>.mox:2,<flags> with the flag letters D draft, F flagged, \
            R answered, S seen, T deleted, and a to z for keywords, listed in the Maildir's \
            dovecot-keywords file (the first 26 keywords of a mailbox; others are left out).
            """ + "\n\n" + exportDiscussion
    )

    @OptionGroup var options: ExportOptions

    func run() throws {
        try self.options.run(.maildir)
    }
}

// MARK: - Progress

/// Progress of a long-running command: on a terminal one line, redrawn at most ten times a second, with
/// the count, the rate and, when the total is known, the time left; otherwise a plain line every 1,000.
final class ProgressReporter: @unchecked Sendable {
    let what: String
    let total: Int?
    let terminal = isatty(1) != 0
    let start = ContinuousClock.now
    var lastDraw = ContinuousClock.now
    var drawn = false
    var count = 0

    init(what: String, total: Int?) {
        self.what = what
        self.total = total
    }

    func update(_ count: Int) {
        self.count = count
        if !self.terminal {
            if count % 1000 == 0 {
                print("\(count) \(self.what)")
            }
            return
        }
        let now = ContinuousClock.now
        guard now - self.lastDraw >= .milliseconds(100) else { return }
        self.lastDraw = now
        self.draw(now)
    }

    func draw(_ now: ContinuousClock.Instant) {
        let elapsed = now - self.start
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        let rate = seconds > 0 ? Double(self.count) / seconds : 0
        var line = "\(self.count)"
        if let total = self.total {
            line += "/\(total)"
        }
        line += " \(self.what), \(Int(rate))/s"
        if let total = self.total, rate > 0 {
            line += ", \(Int((Double(total - self.count) / rate).rounded(.up)))s left"
        }
        var text = "\r\u{1B}[K" + line
        text.withUTF8 { _ = write(1, $0.baseAddress, $0.count) }
        self.drawn = true
    }

    /// Clears the progress line.
    func finish() {
        if self.terminal && self.drawn {
            var text = "\r\u{1B}[K"
            text.withUTF8 { _ = write(1, $0.baseAddress, $0.count) }
        }
    }
}
