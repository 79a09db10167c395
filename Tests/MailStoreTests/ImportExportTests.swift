import Glibc
import Testing

@testable import MailStore

private func bytes(_ s: String) -> [UInt8] { Array(s.utf8) }

private func readAll<R: MessageArchiveReader>(_ reader: inout R) throws -> [ImportedMessage] {
    var messages: [ImportedMessage] = []
    while let m = try reader.next() {
        messages.append(m)
    }
    return messages
}

private func writeFile(_ path: String, _ text: String) throws {
    let dir = String(path[..<(path.lastIndex(of: "/") ?? path.endIndex)])
    try FileIO.makeDirectories(dir)
    try FileIO.writeSynced(path, bytes(text))
}

@Suite struct MboxReaderTests {
    @Test func splitsUnquotesAndReadsFlags() throws {
        let mbox = """
            From alice@example.org Wed Nov 25 07:45:23 2026
            Status: RO
            X-Status: AFT
            X-Keywords: work, $Label1
            Subject: one

            hello
            >From quoted
            >>From twice
            >not from
            From inside, no empty line before

            From bob@example.org Thu Jan  1 00:00:00 2015
            Subject: two

            body


            """
        var reader = MboxReader(bytes: bytes(mbox), name: "in.mbox")
        #expect(reader.total == 2)
        let messages = try readAll(&reader)
        try #require(messages.count == 2)
        #expect(
            messages[0].bytes
                == bytes(
                    "Subject: one\r\n\r\nhello\r\nFrom quoted\r\n>From twice\r\n>not from\r\n"
                        + "From inside, no empty line before\r\n"
                )
        )
        #expect(messages[0].flags == [.seen, .answered, .flagged, .draft])
        #expect(messages[0].keywords == ["work", "$Label1"])
        #expect(messages[0].received == 1_795_592_723)
        // The empty line at the end is the separator, not part of the message.
        #expect(messages[1].bytes == bytes("Subject: two\r\n\r\nbody\r\n"))
        #expect(messages[1].flags == [])
        #expect(messages[1].received == 1_420_070_400)
        #expect(messages[1].source == "in.mbox message 2 (line 13)")
    }

    @Test func notAnMbox() {
        var reader = MboxReader(bytes: bytes("Subject: x\n\nbody\n"), name: "x")
        #expect {
            try reader.next()
        } throws: { error in
            (error as? ImportError)?.source == "x message 1 (line 1)"
        }
    }

    @Test(arguments: [
        ("From a Wed Nov 25 07:45:23 2026", Int64?.some(1_795_592_723)),
        ("From a Thu Jan  1 00:00:00 1970", Int64?.some(0)),
        ("From a", nil),
        ("From a Wed Foo 25 07:45:23 2026", nil),
    ])
    func fromLineDates(line: String, expected: Int64?) {
        #expect(MboxReader.parseFromLineDate(ArraySlice(bytes(line))) == expected)
    }
}

@Suite struct MaildirReaderTests {
    static let flagCases: [(String, MessageFlags, [String])] = [
        ("1.2.host:2,S", .seen, []),
        ("1.2.host:2,DFRST", [.draft, .flagged, .answered, .seen, .deleted], []),
        ("1.2.host:2,Sac", .seen, ["work", "home"]),
        ("1.2.host:2,z", [], []),
        ("1.2.host", [], []),
    ]

    @Test(arguments: Self.flagCases)
    func flagsFromFileName(name: String, flags: MessageFlags, keywords: [String]) {
        let names = MaildirReader.parseDovecotKeywords("0 work\n1 other\n2 home\nbad line\n30 toolarge\n")
        let (f, k) = MaildirReader.flags(fileName: name, keywordNames: names)
        #expect(f == flags)
        #expect(k == keywords)
    }

    @Test func readsCurAndNew() throws {
        let dir = try TemporaryDirectory()
        try writeFile(dir.path + "/cur/1700000000.1.host:2,RSa", "Subject: a\n\nA\n")
        try writeFile(dir.path + "/new/1700000001.2.host", "Subject: b\r\n\r\nB\r\n")
        try writeFile(dir.path + "/dovecot-keywords", "0 work\n")
        var reader = try MaildirReader(directory: dir.path)
        #expect(reader.total == 2)
        let messages = try readAll(&reader)
        try #require(messages.count == 2)
        #expect(messages[0].bytes == bytes("Subject: b\r\n\r\nB\r\n"))
        #expect(messages[0].received == 1_700_000_001)
        #expect(messages[1].bytes == bytes("Subject: a\r\n\r\nA\r\n"))
        #expect(messages[1].flags == [.answered, .seen])
        #expect(messages[1].keywords == ["work"])
    }

    @Test func notAMaildir() throws {
        let dir = try TemporaryDirectory()
        #expect(throws: ImportError.self) { try MaildirReader(directory: dir.path + "/missing") }
    }
}

@Suite struct ImportExportTests {
    static let mbox = """
        From alice@example.org Wed Nov 25 07:45:23 2026
        Status: R
        X-Status: AF
        X-Keywords: work
        Subject: one

        hello
        >From quoted

        From bob@example.org Thu Jan  1 00:00:00 2015
        Subject: two

        >>From x
        bye

        """

    @Test func importCreatesMailboxAndKeepsFlags() async throws {
        let dir = try TemporaryDirectory()
        let account = try await makeAccount(dir)
        var reader = MboxReader(bytes: bytes(Self.mbox), name: "in")
        var seen: [Int] = []
        let summary = try await account.importMessages(
            from: &reader,
            into: "Archive/Old",
            searchText: { _ in "" },
            progress: { seen.append($0) }
        )
        #expect(summary == ImportSummary(imported: 2, mailbox: "Archive/Old", mailboxCreated: true))
        #expect(seen == [1, 2])
        let box = try #require(try await account.mailbox(named: "Archive/Old"))
        let entries = try await account.messageFlags(in: box.id)
        #expect(entries.map(\.flags) == [[.seen, .answered, .flagged], []])
        #expect(entries[0].keywords == ["work"])
        #expect(try await account.message(entries[1].id).received == 1_420_070_400)
        #expect(try await account.messageBytes(entries[1].id) == bytes("Subject: two\r\n\r\n>From x\r\nbye\r\n"))
        await account.close()
    }

    @Test func failedImportKeepsEarlierMessagesAndSaysWhere() async throws {
        let dir = try TemporaryDirectory()
        let account = try await makeAccount(dir)
        var reader = FailingReader(inner: MboxReader(bytes: bytes(Self.mbox), name: "in"), failAt: 2)
        do {
            _ = try await account.importMessages(from: &reader, into: "Inbox", searchText: { _ in "" })
            Issue.record("import did not fail")
        } catch {
            #expect(error.imported == 1)
            #expect(error.source == "message 2")
            #expect(error.description.contains("1 messages imported"))
        }
        let box = try #require(try await account.mailbox(named: "Inbox"))
        #expect(try await account.messageFlags(in: box.id).count == 1)
        await account.close()
    }

    /// mbox → store → Maildir and mbox → store: the bytes and flags come back.
    @Test func roundTrip() async throws {
        let dir = try TemporaryDirectory()
        let account = try await makeAccount(dir)
        var reader = MboxReader(bytes: bytes(Self.mbox), name: "in")
        _ = try await account.importMessages(from: &reader, into: "Imported", searchText: { _ in "" })
        _ = try await account.createMailbox("Imported/Child")

        let maildirOut = dir.path + "/out-maildir"
        let summary = try await account.export(to: maildirOut, format: .maildir, mailbox: "Imported")
        #expect(summary == ExportSummary(mailboxes: 2, messages: 2))
        let single = try await account.export(
            to: dir.path + "/single",
            format: .maildir,
            mailbox: "Imported",
            single: true
        )
        #expect(single == ExportSummary(mailboxes: 1, messages: 2))
        #expect(
            FileIO.list(maildirOut + "/Imported/cur").sorted() == ["1420070400.2.mox:2,", "1795592723.1.mox:2,FRSa"]
        )
        #expect(
            try FileIO.readAll(maildirOut + "/Imported/cur/1795592723.1.mox:2,FRSa")
                == bytes("Subject: one\n\nhello\nFrom quoted\n")
        )
        #expect(try FileIO.readAll(maildirOut + "/Imported/dovecot-keywords") == bytes("0 work\n"))

        // The exported Maildir imports as the same messages.
        var maildir = try MaildirReader(directory: maildirOut + "/Imported")
        _ = try await account.importMessages(from: &maildir, into: "Again", searchText: { _ in "" })
        let original = try await account.messageFlags(in: try #require(try await account.mailbox(named: "Imported")).id)
        let again = try await account.messageFlags(in: try #require(try await account.mailbox(named: "Again")).id)
        try #require(again.count == 2)
        for (a, b) in zip(original, again.reversed()) {
            #expect(try await account.messageBytes(a.id) == account.messageBytes(b.id))
            #expect(a.flags == b.flags)
            #expect(a.keywords == b.keywords)
        }

        // mbox export gives back the input file.
        let mboxOut = dir.path + "/out-mbox"
        _ = try await account.export(to: mboxOut, format: .mbox, mailbox: "Imported", single: true)
        let exported = try FileIO.readAll(mboxOut + "/Imported.mbox")
        // Each message is followed by an empty line, also the last.
        let expected = (Self.mbox + "\n").replacing("alice@example.org", with: "MAILER-DAEMON")
            .replacing("bob@example.org", with: "MAILER-DAEMON")
        #expect(String(decoding: exported, as: UTF8.self) == expected)

        // Existing files are not overwritten.
        await #expect(throws: StoreError.self) {
            try await account.export(to: mboxOut, format: .mbox, mailbox: "Imported", single: true)
        }
        await account.close()
    }

    @Test func openByAccountPath() async throws {
        let dir = try TemporaryDirectory()
        let account = try await makeAccount(dir, name: "mjl")
        await account.close()
        let reopened = try await Account.open(accountPath: dir.path + "/accounts/mjl/")
        #expect(reopened.name == "mjl")
        await reopened.close()
        await #expect(throws: StoreError.self) { try await Account.open(accountPath: dir.path + "/accounts/none") }
        await #expect(throws: StoreError.self) { try await Account.open(accountPath: dir.path) }
    }

    @Test func removeDataRefusedWhileOpen() async throws {
        let dir = try TemporaryDirectory()
        let account = try await makeAccount(dir, name: "mjl")
        #expect {
            try Account.removeData(dataDir: dir.path, name: "mjl") {}
        } throws: { error in
            (error as? StoreError)?.kind == .notAllowed
        }
        #expect(FileIO.exists(dir.path + "/accounts/mjl/index.db"))
        await account.close()
        var ran = false
        try Account.removeData(dataDir: dir.path, name: "mjl") { ran = true }
        #expect(ran)
        #expect(FileIO.list(dir.path + "/accounts") == [])
    }
}

/// Gives the messages of another reader and fails at message `failAt` (1-based).
struct FailingReader<Inner: MessageArchiveReader>: MessageArchiveReader {
    var inner: Inner
    let failAt: Int
    var count = 0

    var total: Int? { nil }

    mutating func next() throws(ImportError) -> ImportedMessage? {
        self.count += 1
        if self.count == self.failAt {
            throw ImportError(imported: 0, source: "message \(self.count)", reason: "read error")
        }
        return try self.inner.next()
    }
}

@Suite struct MboxStreamingTests {
    /// A file larger than the reader's 64 KB blocks, with lines of varied lengths (some longer
    /// than a block) and CRLF and LF endings, read from disk and from memory: the same messages.
    @Test func fileAndMemoryReadersAgree() throws {
        var text = ""
        for n in 0..<300 {
            text += "From sender\(n)@example.org Thu Jan  1 00:00:00 2015\n"
            text += "Subject: message \(n)\r\n\n"
            text += String(repeating: "x", count: (n * 997) % 5000) + "\n"
            if n % 50 == 0 {
                text += String(repeating: "long line ", count: 9000) + "\n"
            }
            text += ">From quoted \(n)\n\n"
        }
        let dir = try TemporaryDirectory()
        let path = dir.path + "/big.mbox"
        try FileIO.write(path, Array(text.utf8), sync: false)
        var fromFile = try MboxReader(path: path)
        var fromMemory = MboxReader(bytes: Array(text.utf8), name: path)
        #expect(fromFile.total == 300)
        #expect(fromMemory.total == 300)
        let a = try readAll(&fromFile)
        let b = try readAll(&fromMemory)
        #expect(a.count == 300)
        #expect(a.map(\.bytes) == b.map(\.bytes))
        #expect(a.map(\.received) == b.map(\.received))
    }

    @Test func missingFileIsAnError() {
        #expect(throws: ImportError.self) { try MboxReader(path: "/nonexistent/in.mbox") }
    }
}
