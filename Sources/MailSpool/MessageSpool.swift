/// MailSpool: a message being received (SMTP DATA and BDAT, IMAP APPEND literals), parsed on the
/// way with MailMessage's streaming scanner and, past a small size, streamed into a temporary
/// file as it arrives, so a connection's memory does not grow with the size of the message. A
/// finished file is handed to the store, which links it into the account (once per recipient);
/// when the last reference to it goes, its temporary name is removed, so an aborted or refused
/// transfer leaves nothing behind.
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

/// A message being received. Up to `memoryLimit` bytes it is kept in memory (most messages are
/// small, and a file costs a create and an unlink on top of the store's own); past that it goes
/// into a temporary file in `directory`, created then, so memory stays bounded whatever the size.
/// Used by one task at a time (the connection's).
public final class MessageSpool: @unchecked Sendable {
    /// Bytes gathered before one write(2).
    static let bufferSize = 64 * 1024

    public let directory: String
    public let memoryLimit: Int
    /// The temporary file's path once the message outgrew memory; nil before.
    public private(set) var path: String?
    private var fd: Int32 = -1
    private var buffer: [UInt8] = []
    public private(set) var size = 0
    private var scanner: MessageScanner
    /// The first write error; later writes are skipped and `finish` throws it.
    public private(set) var failure: SpoolError?
    private var handedOver = false

    /// A new, empty message. `directory` (created when missing) holds its file if it gets one;
    /// it is checked now, so a problem shows before the client sends its data.
    public init(
        directory: String,
        memoryLimit: Int = 128 * 1024,
        scannerLimits: MessageScanner.Limits = .init()
    ) throws(SpoolError) {
        try Self.makeDirectories(directory)
        self.directory = directory
        self.memoryLimit = max(0, memoryLimit)
        self.scanner = MessageScanner(limits: scannerLimits)
    }

    deinit {
        if !self.handedOver, let path = self.path {
            if self.fd >= 0 { close(self.fd) }
            unlink(path)
        }
    }

    /// Creates the temporary file and writes what was kept in memory.
    private func spill() {
        var path = ""
        var fd: Int32 = -1
        for _ in 0..<10 {
            path = self.directory + "/" + Self.randomName()
            fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0o640)
            if fd >= 0 || errno != EEXIST { break }
        }
        if fd < 0 {
            self.failure = SpoolError(operation: "create", path: path, errno: errno)
            self.buffer = []
            return
        }
        self.path = path
        self.fd = fd
        let kept = self.buffer
        self.buffer = []
        self.buffer.reserveCapacity(Self.bufferSize)
        kept.withUnsafeBytes { self.write($0) }
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

    /// Adds message bytes: scanned now, kept or written. A write error is kept and reported by
    /// `finish`, so the sender's data can still be read to its end.
    public func append(_ bytes: UnsafeRawBufferPointer) {
        guard bytes.count > 0 else { return }
        self.size += bytes.count
        self.scanner.feed(bytes)
        guard self.failure == nil else { return }
        if self.path == nil {
            if self.size <= self.memoryLimit {
                self.buffer.append(contentsOf: bytes)
                return
            }
            self.spill()
            guard self.failure == nil else { return }
        }
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
        guard !self.buffer.isEmpty, self.path != nil else { return }
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
                self.failure = SpoolError(operation: "write", path: self.path ?? self.directory, errno: errno)
                return
            }
            offset += n
        }
    }

    /// The complete message. A file is not fsynced: the store makes it durable together with the
    /// rest of its delivery (see `SpooledMessage.sync`).
    public func finish() throws(SpoolError) -> SpooledMessage {
        self.flush()
        if let failure = self.failure {
            throw failure
        }
        self.handedOver = true
        let scanned = self.scanner.finish()
        if let path = self.path {
            let message = SpooledMessage(storage: .file(path: path, fd: self.fd), size: self.size, scanned: scanned)
            self.fd = -1
            return message
        }
        return SpooledMessage(storage: .memory(self.buffer), size: self.size, scanned: scanned)
    }
}

/// A received message, in memory or in its temporary file, with what the scanner found in it. A
/// file's temporary name is removed when the last reference goes (or by `remove`); links the store
/// made to it stay.
public final class SpooledMessage: Sendable {
    public enum Storage: Sendable {
        case memory([UInt8])
        case file(path: String, fd: Int32)
    }

    public let storage: Storage
    public let size: Int
    public let scanned: ScannedMessage

    init(storage: Storage, size: Int, scanned: ScannedMessage) {
        self.storage = storage
        self.size = size
        self.scanned = scanned
    }

    deinit {
        if case .file(let path, let fd) = self.storage {
            close(fd)
            unlink(path)
        }
    }

    /// The temporary file, when the message has one.
    public var path: String? {
        if case .file(let path, _) = self.storage { return path }
        return nil
    }

    /// fsync(2) of the file, for systems where the store cannot sync the filesystem at once.
    public func sync() throws(SpoolError) {
        guard case .file(let path, let fd) = self.storage else { return }
        if fsync(fd) != 0 {
            throw SpoolError(operation: "fsync", path: path, errno: errno)
        }
    }

    /// Up to `count` bytes from `offset`.
    public func read(offset: Int, count: Int) throws(SpoolError) -> [UInt8] {
        let want = max(0, min(count, self.size - offset))
        switch self.storage {
        case .memory(let bytes):
            return Array(bytes[offset..<(offset + want)])
        case .file(let path, let fd):
            var out = [UInt8](repeating: 0, count: want)
            var done = 0
            while done < want {
                let n = out.withUnsafeMutableBytes { raw in
                    pread(fd, raw.baseAddress! + done, want - done, off_t(offset + done))
                }
                if n < 0 {
                    if errno == EINTR { continue }
                    throw SpoolError(operation: "read", path: path, errno: errno)
                }
                if n == 0 { break }
                done += n
            }
            out.removeSubrange(done...)
            return out
        }
    }

    /// The whole message in memory: only for callers that need all of it (and accept its size).
    public func readAll() throws(SpoolError) -> [UInt8] {
        if case .memory(let bytes) = self.storage { return bytes }
        return try self.read(offset: 0, count: self.size)
    }
}

#if canImport(Glibc)
private let posixWrite = Glibc.write
#elseif canImport(Darwin)
private let posixWrite = Darwin.write
#endif
