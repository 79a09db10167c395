import Glibc
import Testing

@testable import MailStore

/// A fresh directory under /tmp, removed with everything in it when the test ends.
final class TemporaryDirectory {
    let path: String

    init() throws {
        var template = Array("/tmp/mailstore-test-XXXXXX".utf8CString)
        let made = template.withUnsafeMutableBufferPointer { buffer -> Bool in
            guard let base = buffer.baseAddress else { return false }
            return mkdtemp(base) != nil
        }
        guard made else {
            throw TestFailure("mkdtemp failed")
        }
        self.path = String(cString: template)
    }

    deinit {
        Self.removeTree(self.path)
    }

    static func removeTree(_ path: String) {
        if unlink(path) == 0 { return }
        for name in FileIO.list(path) {
            self.removeTree(path + "/" + name)
        }
        rmdir(path)
    }
}

struct TestFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// Opens a fresh account in a temporary directory.
func makeAccount(_ dir: TemporaryDirectory, name: String = "test") async throws -> Account {
    try await Account.open(dataDir: dir.path, name: name)
}

func inbox(_ account: Account) async throws -> MailboxID {
    guard let mailbox = try await account.mailbox(named: "Inbox") else {
        throw TestFailure("no Inbox")
    }
    return mailbox.id
}

func sampleMessage(_ n: Int, size: Int = 0) -> [UInt8] {
    var text = "From: a@example.org\r\nTo: b@example.org\r\nSubject: message \(n)\r\n\r\nBody of message \(n).\r\n"
    if size > text.utf8.count {
        text += String(repeating: "x", count: size - text.utf8.count)
    }
    return Array(text.utf8)
}

/// Recomputes a mailbox's counts from its messages, to compare with the stored ones.
func recount(_ account: Account, _ mailbox: MailboxID) async throws -> MailboxCounts {
    var counts = MailboxCounts()
    for entry in try await account.messageFlags(in: mailbox) {
        let message = try await account.message(entry.id)
        counts.add(.of(flags: message.flags, size: message.size))
    }
    return counts
}
