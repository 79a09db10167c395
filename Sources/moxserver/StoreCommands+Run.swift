import ArgumentParser
import FoundationEssentials
import MailConfig
import MailDelivery
import MailMessage
import MailStore
import MoxCommands
import MoxRuntime

#if canImport(Glibc)
import Glibc
#endif

// MARK: - mox setaccountpassword

extension SetAccountPassword: RunnableCommand {
    func execute() throws {
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

extension RecalculateMailboxCounts: RunnableCommand {
    func execute() throws {
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

extension ImportMbox: RunnableCommand {
    func execute() throws {
        let config = try loadConfig()
        guard config.dynamicConfig.accounts[self.account] != nil else {
            try fail("account \"\(self.account)\" does not exist")
        }
        // Streamed: memory use is one message, whatever the size of the file.
        let reader: MboxReader
        do {
            reader = try MboxReader(path: self.file)
        } catch {
            try fail(error.description)
        }
        try runImport(
            reader: reader,
            dataDir: config.dataDirectory,
            account: self.account,
            mailbox: self.mailbox
        )
    }
}

extension ImportMaildir: RunnableCommand {
    func execute() throws {
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
                    searchText: { message in SearchText.of(message.bytes) },
                    progress: { progress.update($0) }
                )
            )
        } catch {
            result = .failure(error)
        }
        progress.finish()
        if case .success = result {
            // The index is complete when the command ends (a running server would otherwise
            // index the imported messages later).
            try? await account.finishIndexing()
        }
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

// MARK: - mox export

extension ExportOptions {
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

extension ExportMbox: RunnableCommand {
    func execute() throws {
        try self.options.run(.mbox)
    }
}

extension ExportMaildir: RunnableCommand {
    func execute() throws {
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
