/// IMAPProtocol: the IMAP4rev2 (RFC 9051, with RFC 3501 compatibility) wire protocol as values.
/// Modified UTF-7 mailbox names, sequence sets, framing of command lines with their literals,
/// the command parser, an encoder for the strings, flag lists and dates of responses, and the
/// wire form of commands (for clients, and for the parser's round-trip tests).
///
/// Pure: imports only the standard library. No NIO, no Foundation, no I/O. The server glue feeds
/// received bytes into an `IMAPFrameReader`, carries out its actions (sending "+ " continuations
/// for synchronizing literals, answering BAD or closing on limit errors), and hands each complete
/// `IMAPFrame` to `IMAPCommandParser.parse`. Parsing never reads from the connection.

/// Sizes the protocol layer enforces, in one place.
public struct IMAPLimits: Hashable, Sendable {
    /// Longest command line (one line, between literals), including its line ending. RFC 9051 4
    /// sets no limit; RFC 7162 4 asks servers to accept at least 8192 octets.
    public var maxLineLength: Int
    /// Largest literal in a command other than APPEND data; larger ones are refused.
    public var maxLiteralSize: Int
    /// Largest literal overall (APPEND message data); the server's APPENDLIMIT.
    public var maxAppendLiteralSize: Int
    /// Message literals (APPEND, REPLACE) larger than this are handed out as they arrive
    /// instead of being kept in the frame, so a connection's memory does not follow their size.
    public var maxInMemoryLiteral: Int
    /// Most literals in one command (MULTIAPPEND sends several).
    public var maxLiteralsPerCommand: Int
    /// Deepest nesting of parenthesized search keys and lists.
    public var maxNesting: Int

    public init(
        maxLineLength: Int = 64 * 1024,
        maxLiteralSize: Int = 64 * 1024,
        maxAppendLiteralSize: Int = 100 * 1024 * 1024,
        maxInMemoryLiteral: Int = 256 * 1024,
        maxLiteralsPerCommand: Int = 1000,
        maxNesting: Int = 100
    ) {
        self.maxLineLength = maxLineLength
        self.maxLiteralSize = maxLiteralSize
        self.maxAppendLiteralSize = maxAppendLiteralSize
        self.maxInMemoryLiteral = maxInMemoryLiteral
        self.maxLiteralsPerCommand = maxLiteralsPerCommand
        self.maxNesting = maxNesting
    }
}
