// Idle memory. After start-up, most of a server's resident memory is its executable's code:
// the kernel maps file pages in blocks around each one touched (fault-around), so start-up
// leaves tens of megabytes of code mapped of which little runs again. Telling the kernel those
// mappings are not needed now drops them from the process's resident set; the pages stay in the
// page cache and are mapped again, without I/O, when code runs again.

#if canImport(Glibc)
import Glibc
#endif

enum StartupMemory {
    /// Drops the process's mappings of executable file pages (r-xp: code never written, so the
    /// file's contents are exactly what was mapped) with madvise(MADV_DONTNEED). Writable and
    /// read-only data mappings are left alone: those can hold relocated or modified pages.
    /// Returns the number of bytes advised.
    @discardableResult
    static func releaseCodePages() -> Int {
        #if os(Linux)
        guard let file = fopen("/proc/self/maps", "r") else { return 0 }
        defer { fclose(file) }
        var total = 0
        var line = [CChar](repeating: 0, count: 4096)
        while fgets(&line, Int32(line.count), file) != nil {
            let text = String(cString: line)
            let fields = text.split(separator: " ", omittingEmptySubsequences: true)
            // address perms offset dev inode path
            guard fields.count >= 6, fields[1] == "r-xp", fields[5].hasPrefix("/") else { continue }
            let range = fields[0].split(separator: "-")
            guard range.count == 2, let start = UInt(range[0], radix: 16), let end = UInt(range[1], radix: 16),
                end > start, let pointer = UnsafeMutableRawPointer(bitPattern: start)
            else { continue }
            if madvise(pointer, Int(end - start), MADV_DONTNEED) == 0 {
                total += Int(end - start)
            }
        }
        return total
        #else
        return 0
        #endif
    }
}

extension StartupMemory {
    /// glibc's allocator, set for a long-running server: large buffers (received messages, TLS
    /// records, FETCH results) are mapped separately at a fixed size from 128 KiB and returned to
    /// the system when freed (by default the threshold rises after the first large free, and
    /// later large buffers come from the heap and stay), freed memory at the top of the heap is
    /// given back from 256 KiB, and threads share at most 4 arenas. Each heap keeps 4 MiB of room
    /// when it grows or is trimmed (M_TOP_PAD): a FETCH reads its messages' files in batches of
    /// about a megabyte, and without the room every batch grew the heap and the next trim gave it
    /// back, each page faulted in anew (FETCH BODY[] of 5,000 messages took 1.15 times as long).
    static func configureAllocator() {
        #if os(Linux)
        // mallopt(3) and its parameters are in <malloc.h>, which the Glibc module leaves out;
        // the values are glibc's (M_TRIM_THRESHOLD -1, M_TOP_PAD -2, M_MMAP_THRESHOLD -3,
        // M_ARENA_MAX -8).
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "mallopt") else { return }
        let mallopt = unsafeBitCast(symbol, to: (@convention(c) (Int32, Int32) -> Int32).self)
        _ = mallopt(-3, 128 * 1024)
        _ = mallopt(-1, 256 * 1024)
        _ = mallopt(-8, 4)
        _ = mallopt(-2, 4 * 1024 * 1024)
        #endif
    }
}
