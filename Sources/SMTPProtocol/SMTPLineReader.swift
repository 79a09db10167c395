/// Frames command lines out of arbitrary chunks of input.
///
/// Lines end in LF; a CR right before it is dropped too. Like mox, a bare LF ends a command line
/// (RFC 5321 2.3.8 only allows CRLF, but being strict here buys nothing: the smuggling problem
/// is in DATA, which `DataReceiver` handles). A line longer than `maxLineLength` (including its
/// line ending) puts the reader in a failed state: the server sends `SMTPReply.lineTooLong` and
/// closes the connection, because it cannot find the next command boundary without reading
/// unbounded data.
public struct SMTPLineReader: Sendable {
    public enum Next: Hashable, Sendable {
        /// A complete line, without CRLF or LF.
        case line([UInt8])
        /// No complete line buffered yet.
        case needMoreData
        /// The line is longer than the limit; the reader stays failed, close the connection.
        case tooLong
    }

    public let maxLineLength: Int
    private var buffer: [UInt8] = []
    /// Start of the unread part of `buffer`.
    private var start = 0
    /// Where the search for LF resumes, so every byte is scanned once.
    private var scanned = 0
    public private(set) var failed = false

    public init(maxLineLength: Int = SMTPLimits.maxLineLength) {
        self.maxLineLength = maxLineLength
    }

    /// Number of bytes buffered and not yet returned.
    public var bufferedCount: Int { self.buffer.count - self.start }

    public mutating func append<S: Sequence>(_ bytes: S) where S.Element == UInt8 {
        if self.start > 0, self.start == self.buffer.count {
            self.buffer.removeAll(keepingCapacity: true)
            self.start = 0
            self.scanned = 0
        }
        self.buffer.append(contentsOf: bytes)
    }

    /// The next complete line, if any.
    public mutating func next() -> Next {
        if self.failed { return .tooLong }
        var i = self.scanned
        while i < self.buffer.count, self.buffer[i] != UInt8(ascii: "\n") {
            i += 1
        }
        if i == self.buffer.count {
            self.scanned = i
            // Even an LF as the next byte would make the line too long.
            if self.buffer.count - self.start >= self.maxLineLength {
                self.failed = true
                return .tooLong
            }
            return .needMoreData
        }
        // RFC 5321 4.5.3.1.4 limits command lines to 512 octets; we allow up to maxLineLength.
        guard i + 1 - self.start <= self.maxLineLength else {
            self.failed = true
            return .tooLong
        }
        var end = i
        if end > self.start, self.buffer[end - 1] == UInt8(ascii: "\r") {
            end -= 1
        }
        let line = Array(self.buffer[self.start..<end])
        self.start = i + 1
        self.scanned = self.start
        self.compact()
        return .line(line)
    }

    /// Takes all buffered bytes, for example to hand pipelined data to a `DataReceiver` after
    /// DATA, or to the TLS handshake after STARTTLS.
    public mutating func takeBuffered() -> [UInt8] {
        let rest = Array(self.buffer[self.start...])
        self.buffer.removeAll(keepingCapacity: true)
        self.start = 0
        self.scanned = 0
        return rest
    }

    /// Drops consumed bytes once they are the larger part of the buffer, so appending and
    /// reading stay linear overall.
    private mutating func compact() {
        if self.start == self.buffer.count {
            self.buffer.removeAll(keepingCapacity: true)
            self.start = 0
            self.scanned = 0
        } else if self.start > 4096, self.start * 2 > self.buffer.count {
            self.buffer.removeSubrange(0..<self.start)
            self.scanned -= self.start
            self.start = 0
        }
    }
}
