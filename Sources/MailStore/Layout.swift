import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Where an account keeps its files, under the server's data directory:
///
/// ```
/// accounts/<name>/index.db          SQLite database (WAL mode: also index.db-wal, index.db-shm)
/// accounts/<name>/lock              held with flock(2) while the account is open (see AccountLock)
/// accounts/<name>/msg/<bucket>/<id> one file per message, the exact bytes delivered
/// accounts/<name>/tmp/              scratch space; anything left here is removed on open
/// ```
///
/// A delivery writes its file straight to `msg/` under an id reserved before its row exists (see
/// `MessageIDReserver`); until the row is committed the file is an orphan, removed on open if a
/// crash comes first.
///
/// `<id>` is the message's database id in decimal, and `<bucket>` is `id / 4096` as four or more
/// lower-case hexadecimal digits (`msg/0000/1`, `msg/0000/4095`, `msg/0001/4096`, ...), so no
/// directory holds more than 4,096 message files and a path follows from the id alone. A file is
/// never changed after it is written; flags and other metadata live in the database only.
struct AccountLayout: Sendable {
    static let filesPerBucket: Int64 = 4096

    var root: String

    init(dataDir: String, name: String) {
        self.root = dataDir + "/accounts/" + name
    }

    var databasePath: String { self.root + "/index.db" }
    var lockPath: String { self.root + "/lock" }
    var messageRoot: String { self.root + "/msg" }
    var tempDir: String { self.root + "/tmp" }

    static func bucketName(_ id: MessageID) -> String {
        let bucket = String(id.rawValue / Self.filesPerBucket, radix: 16)
        return String(repeating: "0", count: max(0, 4 - bucket.count)) + bucket
    }

    func bucketDir(_ id: MessageID) -> String {
        self.messageRoot + "/" + Self.bucketName(id)
    }

    func messagePath(_ id: MessageID) -> String {
        self.bucketDir(id) + "/" + String(id.rawValue)
    }

    /// `<bucket>/<id>`, the message's path relative to `messageRoot`, as a NUL-terminated C
    /// string for openat(2), made without Strings: FETCH of a large mailbox opens one per
    /// message. `body` gets a pointer valid only during the call.
    static func withRelativeMessagePath<T>(_ id: MessageID, _ body: (UnsafePointer<CChar>) -> T) -> T {
        withUnsafeTemporaryAllocation(of: CChar.self, capacity: 48) { buffer in
            var n = 0
            func put(_ c: UInt8) {
                buffer[n] = CChar(bitPattern: c)
                n += 1
            }
            // The bucket: hexadecimal, at least four digits.
            let bucket = UInt64(id.rawValue / Self.filesPerBucket)
            var width = 4
            while width < 16 && bucket >> (4 * UInt64(width)) != 0 { width += 1 }
            for shift in stride(from: width - 1, through: 0, by: -1) {
                let d = UInt8((bucket >> (4 * UInt64(shift))) & 0xF)
                put(d < 10 ? UInt8(ascii: "0") + d : UInt8(ascii: "a") + d - 10)
            }
            put(UInt8(ascii: "/"))
            // The id: decimal.
            var v = UInt64(id.rawValue)
            if v == 0 { put(UInt8(ascii: "0")) }
            let start = n
            while v > 0 {
                put(UInt8(ascii: "0") + UInt8(v % 10))
                v /= 10
            }
            var (i, j) = (start, n - 1)
            while i < j {
                buffer.swapAt(i, j)
                i += 1
                j -= 1
            }
            put(0)
            return body(UnsafePointer(buffer.baseAddress!))
        }
    }
}

/// Thin, throwing wrappers over the POSIX calls the store needs for durable files.
enum FileIO {
    struct Failure: Error, CustomStringConvertible {
        var operation: String
        var path: String
        var errno: Int32
        var description: String {
            "\(self.operation) \(self.path): \(String(cString: strerror(self.errno)))"
        }
    }

    static func makeDirectories(_ path: String) throws(Failure) {
        var current = path.hasPrefix("/") ? "" : "."
        for part in path.split(separator: "/") {
            current += "/" + part
            if mkdir(current, 0o750) != 0 && errno != EEXIST {
                throw Failure(operation: "mkdir", path: current, errno: errno)
            }
        }
    }

    /// Writes `bytes` to a new file at `path` and fsyncs it before returning.
    static func writeSynced(_ path: String, _ bytes: [UInt8]) throws(Failure) {
        try self.write(path, bytes, sync: true)
    }

    /// Writes `bytes` to a new file at `path`, fsynced before returning when `sync` is set.
    static func write(_ path: String, _ bytes: [UInt8], sync: Bool) throws(Failure) {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o640)
        if fd < 0 {
            throw Failure(operation: "create", path: path, errno: errno)
        }
        defer { close(fd) }
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { buffer in
                posixWrite(fd, buffer.baseAddress.map { $0 + offset }, buffer.count - offset)
            }
            if n < 0 {
                if errno == EINTR { continue }
                throw Failure(operation: "write", path: path, errno: errno)
            }
            offset += n
        }
        if sync && fsync(fd) != 0 {
            throw Failure(operation: "fsync", path: path, errno: errno)
        }
    }

    /// Whether ``syncFilesystem(_:)`` is available: then one call makes every file written and
    /// renamed before it durable, and files need not be fsynced one by one.
    #if os(Linux)
    static let canSyncFilesystem = true
    #else
    static let canSyncFilesystem = false
    #endif

    /// Makes all data and metadata of the filesystem holding `path` durable (Linux syncfs(2)):
    /// file contents, new names and renames, in one journal commit however many files there are.
    static func syncFilesystem(_ path: String) throws(Failure) {
        #if os(Linux)
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if fd < 0 {
            throw Failure(operation: "open directory", path: path, errno: errno)
        }
        defer { close(fd) }
        if linuxSyncfs(fd) != 0 {
            throw Failure(operation: "syncfs", path: path, errno: errno)
        }
        #else
        try self.syncDirectory(path)
        #endif
    }

    static func syncDirectory(_ path: String) throws(Failure) {
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if fd < 0 {
            throw Failure(operation: "open directory", path: path, errno: errno)
        }
        defer { close(fd) }
        if fsync(fd) != 0 {
            throw Failure(operation: "fsync directory", path: path, errno: errno)
        }
    }

    static func rename(_ from: String, _ to: String) throws(Failure) {
        if posixRename(from, to) != 0 {
            throw Failure(operation: "rename to \(to)", path: from, errno: errno)
        }
    }

    /// Makes `to` a second name for `from`, or a copy (fsynced, copied in pieces so memory stays
    /// small) where hard links are not possible.
    static func linkOrCopy(_ from: String, _ to: String) throws(Failure) {
        if link(from, to) == 0 { return }
        let input = open(from, O_RDONLY | O_CLOEXEC)
        if input < 0 {
            throw Failure(operation: "open", path: from, errno: errno)
        }
        defer { close(input) }
        let output = open(to, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o640)
        if output < 0 {
            throw Failure(operation: "create", path: to, errno: errno)
        }
        defer { close(output) }
        var buffer = [UInt8](repeating: 0, count: 256 * 1024)
        while true {
            let n = buffer.withUnsafeMutableBytes { posixRead(input, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw Failure(operation: "read", path: from, errno: errno)
            }
            if n == 0 { break }
            var done = 0
            while done < n {
                let w = buffer.withUnsafeBytes { posixWrite(output, $0.baseAddress! + done, n - done) }
                if w < 0 {
                    if errno == EINTR { continue }
                    throw Failure(operation: "write", path: to, errno: errno)
                }
                done += w
            }
        }
        if fsync(output) != 0 {
            throw Failure(operation: "fsync", path: to, errno: errno)
        }
    }

    static func remove(_ path: String) {
        _ = unlink(path)
    }

    /// Seconds since 1970.
    static func now() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Int64(ts.tv_sec)
    }

    static func exists(_ path: String) -> Bool {
        access(path, F_OK) == 0
    }

    /// The whole file. `sizeHint`, when known (the stored size), lets it be read with one call
    /// into a buffer of the right size; the file is still read to its end whatever its size.
    static func readAll(_ path: String, sizeHint: Int = 0) throws(Failure) -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 {
            throw Failure(operation: "open", path: path, errno: errno)
        }
        defer { close(fd) }
        return try self.readAll(fd: fd, path, sizeHint: sizeHint)
    }

    /// A message file, opened relative to the open directory `messageRoot` (openat(2), so the
    /// kernel walks two path components instead of the whole path).
    static func readMessage(_ id: MessageID, in messageRoot: Int32, sizeHint: Int) throws(Failure) -> [UInt8] {
        let fd = AccountLayout.withRelativeMessagePath(id) { openat(messageRoot, $0, O_RDONLY | O_CLOEXEC) }
        if fd < 0 {
            throw Failure(operation: "open", path: "message \(id.rawValue)", errno: errno)
        }
        defer { close(fd) }
        return try self.readAll(fd: fd, "message \(id.rawValue)", sizeHint: sizeHint)
    }

    /// A directory opened for openat(2); -1 when it cannot be opened.
    static func openDirectory(_ path: String) -> Int32 {
        open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
    }

    static func closeDirectory(_ fd: Int32) {
        if fd >= 0 { close(fd) }
    }

    private static func readAll(fd: Int32, _ path: @autoclosure () -> String, sizeHint: Int) throws(Failure) -> [UInt8] {
        var capacity = max(sizeHint + 1, 4096)
        var result: [UInt8] = []
        var count = 0
        var failure: Int32 = 0
        while true {
            if result.count - count < 1 || result.isEmpty {
                let grown = result.isEmpty ? capacity : capacity * 2
                capacity = grown
                var bigger = [UInt8](unsafeUninitializedCapacity: grown) { _, n in n = grown }
                if count > 0 {
                    bigger.withUnsafeMutableBufferPointer { dst in
                        result.withUnsafeBufferPointer { src in
                            dst.baseAddress?.update(from: src.baseAddress!, count: count)
                        }
                    }
                }
                result = bigger
            }
            let n = result.withUnsafeMutableBytes { raw in
                posixRead(fd, raw.baseAddress! + count, raw.count - count)
            }
            if n < 0 {
                if errno == EINTR { continue }
                failure = errno
                break
            }
            if n == 0 { break }
            let asked = result.count - count
            count += n
            // A regular file read short ends there: with the file exactly the stored size, the
            // second read that would return 0 is skipped (files never change once written).
            if n < asked && sizeHint > 0 && count == sizeHint { break }
        }
        if failure != 0 {
            throw Failure(operation: "read", path: path(), errno: failure)
        }
        result.removeSubrange(count...)
        return result
    }

    /// The names in a directory, without `.` and `..`; empty when it does not exist.
    static func list(_ path: String) -> [String] {
        guard let dir = opendir(path) else { return [] }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            if name != "." && name != ".." {
                names.append(name)
            }
        }
        return names
    }
}

/// The account's `lock` file, held with flock(2) for as long as the account is open, by every
/// process and every `Account` value. Each holds it shared; the one that opens it while nobody else
/// holds it gets it exclusively first, and only then may it remove temporary and orphaned files,
/// because another holder could be between writing a file and committing its row.
final class AccountLock: Sendable {
    private let descriptor: Mutex<Int32>
    /// Whether nobody else had the account open when this lock was taken.
    let wasExclusive: Bool

    init(path: String) throws(FileIO.Failure) {
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o640)
        if fd < 0 {
            throw FileIO.Failure(operation: "open lock", path: path, errno: errno)
        }
        self.wasExclusive = flock(fd, LOCK_EX | LOCK_NB) == 0
        self.descriptor = Mutex(fd)
    }

    /// Turns the lock into a shared one (waiting while another opener holds it exclusively).
    func downgrade() throws(FileIO.Failure) {
        let fd = self.descriptor.withLock { $0 }
        if fd >= 0 && flock(fd, LOCK_SH) != 0 {
            throw FileIO.Failure(operation: "flock", path: "lock", errno: errno)
        }
    }

    func release() {
        self.descriptor.withLock { fd in
            if fd >= 0 {
                close(fd)
                fd = -1
            }
        }
    }

    deinit {
        self.release()
    }
}

#if os(Linux)
/// syncfs(2): glibc declares it only with _GNU_SOURCE, which the Glibc module is not built with, so
/// it is looked up once at run time (glibc has had it since 2.14).
private let linuxSyncfs: @convention(c) (Int32) -> Int32 = {
    guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "syncfs") else {
        // Not reached with glibc; sync(2) is the portable superset.
        return { _ in
            sync()
            return 0
        }
    }
    return unsafeBitCast(symbol, to: (@convention(c) (Int32) -> Int32).self)
}()
#endif

// The module-qualified names differ between Glibc and Darwin; these keep call sites free of the
// clash with `FileIO`'s own method names.
#if canImport(Glibc)
private let posixRead = Glibc.read
private let posixWrite = Glibc.write
private let posixRename = Glibc.rename
#elseif canImport(Darwin)
private let posixRead = Darwin.read
private let posixWrite = Darwin.write
private let posixRename = Darwin.rename
#endif
