// MailStore keeps an account's mail durably: one SQLite database (WAL, through GRDB) per account for
// the metadata and the full-text index, and one file per message beside it. It speaks in this
// project's own value types only, so that another backend (PostgreSQL for multi-node set-ups) can be
// written against the same API later. It must not depend on NIO, on the message parser or on any
// server module: callers hand it bytes, the text to index and values.

/// The database id of a stored message. It also names the message's file; ids are never reused.
public struct MessageID: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var rawValue: Int64
    public init(_ rawValue: Int64) { self.rawValue = rawValue }
    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.rawValue < rhs.rawValue }
    public var description: String { "message \(self.rawValue)" }
}

/// The database id of a mailbox.
public struct MailboxID: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var rawValue: Int64
    public init(_ rawValue: Int64) { self.rawValue = rawValue }
    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.rawValue < rhs.rawValue }
    public var description: String { "mailbox \(self.rawValue)" }
}

/// An IMAP UID: strictly increasing per mailbox, never reused within one UIDVALIDITY.
/// - SeeAlso: RFC 9051 2.3.1.1
public struct UID: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var rawValue: UInt32
    public init(_ rawValue: UInt32) { self.rawValue = rawValue }
    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.rawValue < rhs.rawValue }
    public var description: String { String(self.rawValue) }
}

/// A CONDSTORE modification sequence: one account-wide counter, raised by every change.
/// - SeeAlso: RFC 7162 3.1
public struct ModSeq: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var rawValue: Int64
    public init(_ rawValue: Int64) { self.rawValue = rawValue }
    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.rawValue < rhs.rawValue }
    public var description: String { String(self.rawValue) }
}
