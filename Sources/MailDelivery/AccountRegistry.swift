// The accounts of a running server: each opened once per process and kept open, so that
// deliveries to one account share its database connection and group commit.

import MailMessage
import MailSpool
import MailStore

/// The protocol data kept beside each stored message (IMAP's ENVELOPE and BODYSTRUCTURE, see
/// `MessageStructure`), made by the IMAP server's encoder, which this module does not depend on.
public struct StructureEncoder: Sendable {
    public var ofMessage: @Sendable (Message) -> MessageStructure
    public var ofScan: @Sendable (ScannedMessage) -> MessageStructure

    public init(
        ofMessage: @escaping @Sendable (Message) -> MessageStructure,
        ofScan: @escaping @Sendable (ScannedMessage) -> MessageStructure
    ) {
        self.ofMessage = ofMessage
        self.ofScan = ofScan
    }
}

public actor AccountRegistry {
    public let dataDir: String
    public nonisolated let structures: StructureEncoder
    private var accounts: [String: Account] = [:]
    private var opening: [String: Task<Account, any Error>] = [:]
    /// Per open account, the task that publishes other processes' changes to it (a `mox import`
    /// while the server runs), so IMAP sessions see them.
    private var watchers: [String: Task<Void, Never>] = [:]

    public init(dataDir: String, structures: StructureEncoder) {
        self.dataDir = dataDir
        self.structures = structures
    }

    /// The open account `name`, opening it on first use.
    public func account(_ name: String) async throws -> Account {
        if let account = self.accounts[name] {
            return account
        }
        if let task = self.opening[name] {
            return try await task.value
        }
        let dataDir = self.dataDir
        let task = Task { () async throws -> Account in
            try await Account.open(dataDir: dataDir, name: name)
        }
        self.opening[name] = task
        defer { self.opening[name] = nil }
        let account = try await task.value
        self.accounts[name] = account
        self.watchers[name] = account.watchOtherProcesses()
        return account
    }

    /// Stores `message` in the account's mailbox (Inbox when `mailbox` is empty; created when
    /// missing) and returns once it is durable. Runs in the caller's task (parsing the message
    /// for the search text included), so deliveries proceed in parallel.
    public nonisolated func deliver(
        _ message: [UInt8],
        account name: String,
        mailbox: String,
        received: Int64,
        metadata: DeliveryMetadata,
        quota: Int64? = nil
    ) async throws -> Delivered {
        let parsed = Message(parsing: message)
        return try await self.deliver(
            .bytes(message),
            account: name,
            mailbox: mailbox,
            received: received,
            metadata: metadata,
            searchText: SearchText.of(parsed),
            structure: self.structures.ofMessage(parsed),
            quota: quota
        )
    }

    /// Stores a received message file with `prefix` (header lines) in front of it: the search
    /// text and IMAP structure come from what the scanner found while it streamed in.
    public nonisolated func deliver(
        _ message: SpooledMessage,
        prefix: [UInt8],
        account name: String,
        mailbox: String,
        received: Int64,
        metadata: DeliveryMetadata,
        quota: Int64? = nil
    ) async throws -> Delivered {
        let scanned = message.scanned.prefixed(with: prefix)
        return try await self.deliver(
            .spooled(message, prefix: prefix),
            account: name,
            mailbox: mailbox,
            received: received,
            metadata: metadata,
            searchText: scanned.searchText,
            structure: self.structures.ofScan(scanned),
            quota: quota
        )
    }

    nonisolated func deliver(
        _ source: MessageSource,
        account name: String,
        mailbox: String,
        received: Int64,
        metadata: DeliveryMetadata,
        searchText: String,
        structure: MessageStructure,
        quota: Int64?
    ) async throws -> Delivered {
        let account = try await self.account(name)
        let mailboxName = mailbox.isEmpty ? "Inbox" : mailbox
        let target: MailboxID
        if let existing = try await account.mailbox(named: mailboxName) {
            target = existing.id
        } else {
            do {
                target = try await account.createMailbox(mailboxName).id
            } catch {
                // Another delivery may have created it meanwhile.
                guard let created = try await account.mailbox(named: mailboxName) else { throw error }
                target = created.id
            }
        }
        return try await account.deliver(
            source,
            to: target,
            received: received,
            metadata: metadata,
            searchText: searchText,
            structure: structure,
            quota: quota
        )
    }

    /// Closes the account if it is open; the next use opens it again.
    public func close(_ name: String) async {
        self.watchers.removeValue(forKey: name)?.cancel()
        if let account = self.accounts.removeValue(forKey: name) {
            await account.close()
        }
    }

    /// Closes every account; for shutdown.
    public func closeAll() async {
        for watcher in self.watchers.values {
            watcher.cancel()
        }
        self.watchers = [:]
        for account in self.accounts.values {
            await account.close()
        }
        self.accounts = [:]
    }
}

/// The text the full-text index holds for a message: its header and its decoded text parts.
public enum SearchText {
    public static func of(_ bytes: [UInt8]) -> String {
        Self.of(Message(parsing: bytes))
    }

    public static func of(_ message: Message) -> String {
        let bytes = message.bytes
        let header = message.header
        let headerText = String(decoding: bytes[header.start..<min(header.end, bytes.count)], as: UTF8.self)
        return headerText + "\n" + TextExtraction.text(of: message)
    }
}
