/// MailMessage: RFC 5322 and MIME parsing of messages held in memory as bytes: header fields,
/// addresses, dates, encoded words, parameters, charsets, the part tree with byte offsets, IMAP
/// envelope and body structure values, and decoded text for search.
/// Pure: no NIO, no file I/O; only Glibc's iconv for charsets beyond the built-in ones.

/// Bounds on the work done for one message; hostile input is cut off at these, never trapped on.
public struct MessageLimits: Sendable, Equatable {
    /// Deepest nesting of multipart and message/rfc822 parts that is parsed into subparts;
    /// deeper parts are kept as leaves.
    public var maxDepth: Int = 50
    /// Total number of parts in one message; parts beyond this are not split out.
    public var maxParts: Int = 10_000
    /// Header fields kept per header section; further fields are skipped.
    public var maxHeaderFields: Int = 10_000

    public init() {}

    public static let `default` = MessageLimits()
}
