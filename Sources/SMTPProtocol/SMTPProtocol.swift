/// SMTPProtocol: the SMTP wire protocol as values. Command parsing, replies with enhanced status
/// codes, framing of command lines, DATA and BDAT receivers, and the session state machine that
/// tells the network glue what to do next.
///
/// Pure: imports only the standard library and `MailAddress`. No NIO, no Foundation, no I/O; the
/// server modules convert their buffers to `[UInt8]` at the edge and carry out the returned actions.
///
/// The glue's loop, in short: send `session.greeting()`; append input to an `SMTPLineReader`; for
/// each `.line`, call `session.receive(line:)` and carry out the `SMTPSessionAction` (on
/// `.tooLong`, `session.lineTooLong()`). For `.receiveData`, send the 354, move
/// `reader.takeBuffered()` and further input into `session.makeDataReceiver()` until it is
/// complete, append its `leftover` back to the line reader, and call `session.dataReceived`.
/// BDAT chunks go through a `BDATReceiver` the same way. Replies may be buffered while the reader
/// holds more complete lines (RFC 2920 PIPELINING) and flushed when it needs more data.

/// Sizes the protocol layer enforces, in one place.
public enum SMTPLimits {
    /// RFC 5321 4.5.3.1.4: at most 512 octets per command line, including the CRLF.
    /// Extensions raise it (RFC 1870 adds 26, RFC 4954 adds 500, RFC 6531 adds 10); like mox we do
    /// not enforce it per command, only `maxLineLength` below.
    public static let rfcCommandLineLength = 512
    /// Longest line the line reader buffers, including its line ending. Beyond it the reader
    /// gives up and the connection must be closed, as mox does with its 2048-byte line buffer.
    public static let maxLineLength = 2048
    /// RFC 5321 4.5.3.1.3: at most 256 octets in a path, including the angle brackets.
    public static let maxPathLength = 256
    /// RFC 5321 4.5.3.1.1: 64 octets per local-part. mox accepts up to 128 unless pedantic,
    /// because some services generate longer bounce addresses.
    public static let maxLocalpartLength = 64
    public static let maxLocalpartLengthLenient = 128
    /// RFC 5321 4.5.3.1.2: at most 255 octets in a domain.
    public static let maxDomainLength = 255
    /// RFC 3461 4.4: ENVID is at most 100 characters.
    public static let maxEnvidLength = 100
    /// RFC 3461 4.2: ORCPT is at most 500 characters.
    public static let maxOrcptLength = 500
    /// RFC 1870 4: the SIZE value has at most 20 digits.
    public static let maxSizeDigits = 20
    /// RFC 4422 3.1: a SASL mechanism name is 1 to 20 characters.
    public static let maxSASLMechanismLength = 20
    /// Default maximum number of RCPT commands per transaction; RFC 5321 4.5.3.1.8 requires at
    /// least 100; mox uses 1000 and announces it with LIMITS RCPTMAX.
    public static let defaultMaxRecipients = 1000
}
