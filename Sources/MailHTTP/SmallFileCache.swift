// Small static files kept in memory, so that serving one costs a stat instead of an open, a read
// (two when its type has to be sniffed) and a close. An entry is used only while the file's stat
// still matches (inode, device, nanosecond modification and change times, size): any write,
// rename over it or touch makes the next request read the file again.

import NIOCore
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

final class SmallFileCache: Sendable {
    /// Files up to this size are cached.
    static let maxFileSize = 64 * 1024
    /// All entries together; when a new one does not fit, the cache starts over.
    static let maxTotal = 16 * 1024 * 1024

    struct Entry: Sendable {
        var version: [Int]
        var size: Int
        var contents: ByteBuffer
        /// The sniffed Content-Type, for names without a known extension.
        var sniffed: String
    }

    struct State {
        var entries: [String: Entry] = [:]
        var total = 0
    }

    let state = Mutex(State())

    /// The file's contents and sniffed type, from the cache when the file is unchanged, else
    /// read now; nil when the file is too large or cannot be read whole.
    func contents(_ path: String, _ info: FileInfo) -> Entry? {
        guard info.size <= Self.maxFileSize, !info.version.isEmpty else { return nil }
        if let entry = self.state.withLock({ $0.entries[path] }), entry.version == info.version, entry.size == info.size {
            return entry
        }
        guard let contents = Self.read(path, size: info.size) else { return nil }
        let sniffed = StaticFiles.sniff(ArraySlice(contents.getBytes(at: contents.readerIndex, length: min(512, contents.readableBytes)) ?? []))
        let entry = Entry(version: info.version, size: info.size, contents: contents, sniffed: sniffed)
        self.state.withLock { state in
            if let old = state.entries[path] { state.total -= old.size }
            if state.total + info.size > Self.maxTotal {
                state.entries.removeAll()
                state.total = 0
            }
            state.entries[path] = entry
            state.total += info.size
        }
        return entry
    }

    /// The whole file, if it still has `size` bytes.
    static func read(_ path: String, size: Int) -> ByteBuffer? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var buffer = ByteBufferAllocator().buffer(capacity: size + 1)
        var total = 0
        while true {
            let n = buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: 1) { ptr in
                let r = Glibc.read(fd, ptr.baseAddress, ptr.count)
                return max(r, 0)
            }
            if n == 0 { break }
            total += n
            if total > size { return nil }
        }
        return total == size ? buffer : nil
    }
}
