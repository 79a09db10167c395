/// MailSpool: a message being received, streamed into a temporary file as it arrives (SMTP DATA
/// and BDAT, IMAP APPEND literals) and parsed on the way with MailMessage's streaming scanner, so
/// a connection's memory does not grow with the size of the message. The finished file is handed
/// to the store, which links it into the account (once per recipient); when the last reference to
/// it goes, its temporary name is removed, so an aborted or refused transfer leaves nothing behind.
///
/// No NIO: the server glue feeds bytes; files are plain POSIX calls.

import MailMessage

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Why a spool file could not be written or read.
public struct SpoolError: Error, CustomStringConvertible, Sendable {
    public var operation: String
    public var path: String
    public var errno: Int32

    public init(operation: String, path: String, errno: Int32) {
        self.operation = operation
        self.path = path
        self.errno = errno
    }

    public var description: String {
        "\(self.operation) \(self.path): \(String(cString: strerror(self.errno)))"
    }
}

/// A message being received into a temporary file. Used by one task at a time (the connection's).
public final class MessageSpool: @unchecked Sendable {
    /// Bytes gathered before one write(2).
    static let bufferSize = 64 * 1024

    public let path: String
    private var fd: Int32
    private var buffer: [UInt8] = []
    public private(set) var size = 0
    private var scanner: MessageScanner
    /// The first write error; later writes are skipped and `finish` throws it.
    public private(set) var failure: SpoolError?
    private var handedOver = false

    /// Creates a new, empty temporary file in `directory` (created when missing).
    public init(directory: String, scannerLimits: MessageScanner.Limits = .init()) throws(SpoolError) {
        try Self.makeDirectories(directory)
        var path = ""
        var fd: Int32 = -1
        for _ in 0..<10 {
            path = directory + "/" + Self.randomName()
            fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0o640)
            if fd >= 0 || errno != EEXIST { break }
        }
        if fd < 0 {
            throw SpoolError(operation: "create", path: path, errno: errno)
        }
        self.path = path
        self.fd = fd
        self.scanner = MessageScanner(limits: scannerLimits)
        self.buffer.reserveCapacity(Self.bufferSize)
    }

    deinit {
        if !self.handedOver {
            if self.fd >= 0 { close(self.fd) }
            unlink(self.path)
        }
    }

    static func makeDirectories(_ path: String) throws(SpoolError) {
        if mkdir(path, 0o750) == 0 || errno == EEXIST { return }
        guard errno == ENOENT, let slash = path.lastIndex(of: "/"), slash != path.startIndex else {
            throw SpoolError(operation: "mkdir", path: path, errno: errno)
        }
        try Self.makeDirectories(String(path[..<slash]))
        if mkdir(path, 0o750) != 0 && errno != EEXIST {
            throw SpoolError(operation: "mkdir", path: path, errno: errno)
        }
    }

    static func randomName() -> String {
        let alphabet = Array("abcdefghijklmnopqrstuvwxyz234567".utf8)
        var rng = SystemRandomNumberGenerator()
        return "spool-" + String(decoding: (0..<20).map { _ in alphabet[Int(rng.next() % 32)] }, as: UTF8.self)
    }

    public func append(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { self.append($0) }
    }

    public func append(_ bytes: ArraySlice<UInt8>) {
        bytes.withUnsafeBytes { self.append($0) }
    }

    /// Adds message bytes: scanned now, written when the buffer is full. A write error is kept
    /// and reported by `finish`, so the sender's data can still be read to its end.
    public func append(_ bytes: UnsafeRawBufferPointer) {
        guard bytes.count > 0 else { return }
        self.size += bytes.count
        self.scanner.feed(bytes)
        guard self.failure == nil else { return }
        if self.buffer.count + bytes.count > Self.bufferSize {
            self.flush()
        }
        if bytes.count >= Self.bufferSize {
            self.write(bytes)
        } else {
            self.buffer.append(contentsOf: bytes)
        }
    }

    private func flush() {
        guard !self.buffer.isEmpty else { return }
        let pending = self.buffer
        self.buffer.removeAll(keepingCapacity: true)
        pending.withUnsafeBytes { self.write($0) }
    }

    private func write(_ bytes: UnsafeRawBufferPointer) {
        guard self.failure == nil, let base = bytes.baseAddress else { return }
        var offset = 0
        while offset < bytes.count {
            let n = posixWrite(self.fd, base + offset, bytes.count - offset)
            if n < 0 {
                if errno == EINTR { continue }
                self.failure = SpoolError(operation: "write", path: self.path, errno: errno)
                return
            }
            offset += n
        }
    }

    /// Writes what is buffered and returns the complete message. The file is not fsynced: the
    /// store makes it durable together with the rest of its delivery (see `SpooledMessage.sync`).
    public func finish() throws(SpoolError) -> SpooledMessage {
        self.flush()
        if let failure = self.failure {
            throw failure
        }
        self.handedOver = true
        let scanned = self.scanner.finish()
        let message = SpooledMessage(path: self.path, fd: self.fd, size: self.size, scanned: scanned)
        self.fd = -1
        return message
    }
}

/// A received message in its temporary file, with what the scanner found in it. Its temporary
/// name is removed when the last reference goes (or by `remove`); links the store made to it stay.
public final class SpooledMessage: Sendable {
    public let path: String
    public let size: Int
    public let scanned: ScannedMessage
    private let fd: Int32

    init(path: String, fd: Int32, size: Int, scanned: ScannedMessage) {
        self.path = path
        self.fd = fd
        self.size = size
        self.scanned = scanned
    }

    deinit {
        close(self.fd)
        unlink(self.path)
    }

    /// fsync(2) of the file, for systems where the store cannot sync the filesystem at once.
    public func sync() throws(SpoolError) {
        if fsync(self.fd) != 0 {
            throw SpoolError(operation: "fsync", path: self.path, errno: errno)
        }
    }

    /// Up to `count` bytes from `offset`.
    public func read(offset: Int, count: Int) throws(SpoolError) -> [UInt8] {
        let want = max(0, min(count, self.size - offset))
        var out = [UInt8](repeating: 0, count: want)
        var done = 0
        while done < want {
            let n = out.withUnsafeMutableBytes { raw in
                pread(self.fd, raw.baseAddress! + done, want - done, off_t(offset + done))
            }
            if n < 0 {
                if errno == EINTR { continue }
                throw SpoolError(operation: "read", path: self.path, errno: errno)
            }
            if n == 0 { break }
            done += n
        }
        out.removeSubrange(done...)
        return out
    }

    /// The whole message in memory: only for callers that need all of it (and accept its size).
    public func readAll() throws(SpoolError) -> [UInt8] {
        try self.read(offset: 0, count: self.size)
    }

    /// Calls `body` with consecutive pieces of the message, at most `chunkSize` bytes each.
    public func forEachChunk(chunkSize: Int = 256 * 1024, _ body: ([UInt8]) throws -> Void) throws {
        var offset = 0
        while offset < self.size {
            let chunk = try self.read(offset: offset, count: chunkSize)
            if chunk.isEmpty { break }
            try body(chunk)
            offset += chunk.count
        }
    }
}

#if canImport(Glibc)
private let posixWrite = Glibc.write
#elseif canImport(Darwin)
private let posixWrite = Darwin.write
#endif
