/// The system flags and mox's well-known keywords that the store keeps as bits.
/// - SeeAlso: RFC 9051 2.3.2
public struct MessageFlags: OptionSet, Hashable, Sendable {
    public var rawValue: Int64
    public init(rawValue: Int64) { self.rawValue = rawValue }

    public static let seen = MessageFlags(rawValue: 1 << 0)
    public static let answered = MessageFlags(rawValue: 1 << 1)
    public static let flagged = MessageFlags(rawValue: 1 << 2)
    public static let deleted = MessageFlags(rawValue: 1 << 3)
    public static let draft = MessageFlags(rawValue: 1 << 4)
    /// `$Junk` and `$NotJunk`, RFC 5788 keywords used by the junk filter.
    public static let junk = MessageFlags(rawValue: 1 << 5)
    public static let notJunk = MessageFlags(rawValue: 1 << 6)
    /// `$Forwarded`, `$Phishing`, `$MDNSent`: RFC 5788 registered keywords.
    public static let forwarded = MessageFlags(rawValue: 1 << 7)
    public static let phishing = MessageFlags(rawValue: 1 << 8)
    public static let mdnSent = MessageFlags(rawValue: 1 << 9)
}

/// The special use of a mailbox.
/// - SeeAlso: RFC 6154 2
public struct SpecialUse: OptionSet, Hashable, Sendable {
    public var rawValue: Int64
    public init(rawValue: Int64) { self.rawValue = rawValue }

    public static let archive = SpecialUse(rawValue: 1 << 0)
    public static let drafts = SpecialUse(rawValue: 1 << 1)
    public static let junk = SpecialUse(rawValue: 1 << 2)
    public static let sent = SpecialUse(rawValue: 1 << 3)
    public static let trash = SpecialUse(rawValue: 1 << 4)
}

/// Exact per-mailbox counts, kept by the same transactions that change messages.
/// The meaning of each follows mox: `total` and `unread` leave out messages marked `\Deleted`,
/// `unseen` counts them (it answers IMAP STATUS UNSEEN).
public struct MailboxCounts: Hashable, Sendable {
    public var total: Int64 = 0
    public var deleted: Int64 = 0
    public var unread: Int64 = 0
    public var unseen: Int64 = 0
    public var size: Int64 = 0

    public init(total: Int64 = 0, deleted: Int64 = 0, unread: Int64 = 0, unseen: Int64 = 0, size: Int64 = 0) {
        self.total = total
        self.deleted = deleted
        self.unread = unread
        self.unseen = unseen
        self.size = size
    }

    /// What one message with `flags` and `size` adds to the counts.
    static func of(flags: MessageFlags, size: Int64) -> MailboxCounts {
        let isDeleted = flags.contains(.deleted)
        let isSeen = flags.contains(.seen)
        return MailboxCounts(
            total: isDeleted ? 0 : 1,
            deleted: isDeleted ? 1 : 0,
            unread: !isDeleted && !isSeen ? 1 : 0,
            unseen: isSeen ? 0 : 1,
            size: size
        )
    }

    mutating func add(_ other: MailboxCounts) {
        self.total += other.total
        self.deleted += other.deleted
        self.unread += other.unread
        self.unseen += other.unseen
        self.size += other.size
    }

    mutating func subtract(_ other: MailboxCounts) {
        self.total -= other.total
        self.deleted -= other.deleted
        self.unread -= other.unread
        self.unseen -= other.unseen
        self.size -= other.size
    }
}

/// A mailbox as callers see it.
public struct Mailbox: Hashable, Sendable {
    public var id: MailboxID
    /// The full name with `/` as hierarchy separator, e.g. `Archive/2024`.
    public var name: String
    public var specialUse: SpecialUse
    public var uidValidity: UInt32
    public var uidNext: UID
    public var counts: MailboxCounts
    /// The MODSEQ of the transaction that created the mailbox.
    public var createSeq: ModSeq
    public var modSeq: ModSeq
}

/// How a message arrived, kept beside it for the UI and for junk filtering.
public struct DeliveryMetadata: Hashable, Sendable {
    public var remoteIP: String?
    public var ehloDomain: String?
    public var mailFrom: String?
    /// The Authentication-Results the server computed (RFC 8601), as one header value.
    public var authResults: String?

    public init(remoteIP: String? = nil, ehloDomain: String? = nil, mailFrom: String? = nil, authResults: String? = nil)
    {
        self.remoteIP = remoteIP
        self.ehloDomain = ehloDomain
        self.mailFrom = mailFrom
        self.authResults = authResults
    }
}

/// A stored message's metadata.
public struct StoredMessage: Hashable, Sendable {
    public var id: MessageID
    public var mailboxID: MailboxID
    public var uid: UID
    public var modSeq: ModSeq
    public var createSeq: ModSeq
    public var flags: MessageFlags
    /// Other keywords, lower-cased, sorted and unique.
    public var keywords: [String]
    /// The IMAP internal date, seconds since 1970.
    public var received: Int64
    public var size: Int64
    public var metadata: DeliveryMetadata
    /// When it was saved in its mailbox, seconds since 1970; nil when not known (IMAP SAVEDATE).
    public var saveDate: Int64?

    public init(
        id: MessageID,
        mailboxID: MailboxID,
        uid: UID,
        modSeq: ModSeq = ModSeq(0),
        createSeq: ModSeq = ModSeq(0),
        flags: MessageFlags = [],
        keywords: [String] = [],
        received: Int64 = 0,
        size: Int64 = 0,
        metadata: DeliveryMetadata = DeliveryMetadata(),
        saveDate: Int64? = nil
    ) {
        self.id = id
        self.mailboxID = mailboxID
        self.uid = uid
        self.modSeq = modSeq
        self.createSeq = createSeq
        self.flags = flags
        self.keywords = keywords
        self.received = received
        self.size = size
        self.metadata = metadata
        self.saveDate = saveDate
    }
}

/// The header lines that rows keep in front of their messages' files (local delivery's
/// Return-Path, Delivered-To and Received), by message id, for the rows that have them: read
/// with the rows, so reading the files needs no second query.
public struct MessagePrefixes: Sendable {
    public var byID: [Int64: [UInt8]] = [:]

    public init() {}
}

/// The UID and flags of one message, as IMAP SELECT and FETCH FLAGS need them.
public struct MessageFlagsEntry: Hashable, Sendable {
    public var uid: UID
    public var id: MessageID
    public var flags: MessageFlags
    public var keywords: [String]
    public var modSeq: ModSeq
}

/// Protocol data of a message computed once when it is stored and kept beside it, so that reading
/// it needs no parsing of the message file: the IMAP server keeps its ENVELOPE and BODYSTRUCTURE
/// responses here. The store treats them as opaque bytes.
public struct MessageStructure: Hashable, Sendable {
    public var envelope: [UInt8]
    public var bodyStructure: [UInt8]

    public init(envelope: [UInt8], bodyStructure: [UInt8]) {
        self.envelope = envelope
        self.bodyStructure = bodyStructure
    }
}

/// What `deliver` returns once the message is durable.
public struct Delivered: Hashable, Sendable {
    public var id: MessageID
    public var mailboxID: MailboxID
    public var uid: UID
    public var modSeq: ModSeq
}

/// How to change flags on messages.
public enum FlagChange: Hashable, Sendable {
    /// Set these flags and keywords, leaving others alone.
    case add(MessageFlags, keywords: [String] = [])
    /// Clear these flags and keywords.
    case remove(MessageFlags, keywords: [String] = [])
    /// Replace all flags and keywords.
    case replace(MessageFlags, keywords: [String] = [])
}

/// One message of a flag change's set, after the change.
public struct FlagStoreEntry: Hashable, Sendable {
    public var uid: UID
    public var id: MessageID
    public var flags: MessageFlags
    public var keywords: [String]
    public var modSeq: ModSeq
    /// Whether this change altered the message (and gave it the new MODSEQ).
    public var changed: Bool
}

/// What ``Account/storeFlags(in:uidRanges:_:unchangedSince:)`` did.
public struct FlagStoreResult: Sendable {
    /// The live messages of the set that passed the UNCHANGEDSINCE test, in UID order.
    public var entries: [FlagStoreEntry] = []
    /// Messages left alone because their MODSEQ was above UNCHANGEDSINCE (RFC 7162 3.1.3).
    public var modified: [UID] = []
    /// The MODSEQ the changed messages got; nil when nothing changed.
    public var modSeq: ModSeq?
}

/// One change in an account, published in commit order to every subscriber.
public enum ChangeEvent: Hashable, Sendable {
    case mailboxAdded(Mailbox)
    case mailboxRemoved(MailboxID, name: String)
    case mailboxRenamed(MailboxID, oldName: String, newName: String)
    case mailboxCounts(MailboxID, MailboxCounts)
    case subscriptionChanged(name: String, subscribed: Bool)
    case messageAdded(
        mailboxID: MailboxID,
        uid: UID,
        id: MessageID,
        flags: MessageFlags,
        keywords: [String],
        modSeq: ModSeq
    )
    /// Messages expunged from a mailbox (or moved out of it); `modSeq` is the expunge's.
    case messagesRemoved(mailboxID: MailboxID, uids: [UID], modSeq: ModSeq)
    case flagsChanged(mailboxID: MailboxID, uid: UID, flags: MessageFlags, keywords: [String], modSeq: ModSeq)
    /// Metadata entries (RFC 5464) set or removed, of a mailbox or, with no mailbox, the account's.
    case metadataChanged(mailboxID: MailboxID?, entries: [String])
}

/// Errors from the store, with the account and object they concern.
public struct StoreError: Error, CustomStringConvertible, Sendable {
    public enum Kind: Hashable, Sendable {
        case notFound
        case alreadyExists
        case invalidName
        case io
        case database
        case notAllowed
        /// The account's messages would exceed its size limit (quota).
        case quotaExceeded
    }

    public var kind: Kind
    public var account: String
    public var message: String

    public init(_ kind: Kind, account: String, _ message: String) {
        self.kind = kind
        self.account = account
        self.message = message
    }

    public var description: String { "account \(self.account): \(self.message)" }
}
