// Writing a built site: everything goes to a fresh directory beside the target, which then
// replaces the target in one step, so a failed or interrupted build never leaves half a site.
// Plain system calls: this is a measurable part of a whole build.

#if canImport(Glibc)
import Glibc
#endif

public enum SiteOutput {
    /// Writes `pages` (and nothing else) as the directory `outDir`, replacing what was there.
    ///
    /// The new site is written next to `outDir` and swapped in. The replaced site is kept as
    /// `.NAME-prev` beside it, and the next build writes into that directory: overwriting
    /// files in place costs far less than creating and removing directories, which a journaled
    /// file system makes slow. A lock on that directory keeps two builds from sharing it.
    public static func write(_ pages: [SitePage], to outDir: String) throws(SiteError) {
        var target = outDir
        while target.count > 1 && target.hasSuffix("/") {
            target.removeLast()
        }
        let slash = target.lastIndex(of: "/")
        let parent = slash.map { String(target[..<$0]) } ?? "."
        let name = slash.map { String(target[target.index(after: $0)...]) } ?? target
        let base = parent.isEmpty ? "" : parent
        try Self.makeDirectories(parent.isEmpty ? "/" : parent)

        let prev = base + "/.\(name)-prev"
        var work = prev
        var lockFD: Int32 = -1
        if mkdir(prev, 0o755) != 0 && errno != EEXIST {
            work = base + "/.\(name)-new-\(getpid())"
        } else {
            lockFD = open(prev, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
            if lockFD < 0 || flock(lockFD, LOCK_EX | LOCK_NB) != 0 {
                // Another build is using it: work in a directory of our own.
                work = base + "/.\(name)-new-\(getpid())"
            }
        }
        defer {
            if lockFD >= 0 {
                close(lockFD)
            }
        }
        do throws(SiteError) {
            if work != prev {
                Self.removeTree(work)
                try Self.makeDirectory(work)
            }
            var keep: Set<String> = []
            for page in pages {
                var dir = work
                var rel = ""
                for component in page.dir.split(separator: "/") {
                    dir += "/" + component
                    rel += (rel.isEmpty ? "" : "/") + component
                    keep.insert(rel)
                    try Self.makeDirectory(dir, existingOK: true)
                }
                keep.insert(page.path)
                try Self.writeFile(work + "/" + page.path, page.html)
            }
            Self.removeExcept(work, "", keep)
        } catch {
            if work != prev {
                Self.removeTree(work)
            }
            throw SiteError("writing the site to \(work): \(error)")
        }
        try Self.replace(target, with: work)
        if work != prev {
            // `work` now holds the replaced site (or nothing): keep it for the next build.
            Self.removeTree(prev)
            if rename(work, prev) != 0 {
                Self.removeTree(work)
            }
        }
    }

    /// Removes everything under `dir` whose path relative to the site root is not in `keep`.
    static func removeExcept(_ dir: String, _ rel: String, _ keep: Set<String>) {
        guard let handle = opendir(dir) else {
            return
        }
        var names: [String] = []
        while let entry = readdir(handle) {
            let name = withUnsafePointer(to: &entry.pointee.d_name) {
                String(cString: UnsafeRawPointer($0).assumingMemoryBound(to: CChar.self))
            }
            if name != "." && name != ".." {
                names.append(name)
            }
        }
        closedir(handle)
        for name in names {
            let path = rel.isEmpty ? name : rel + "/" + name
            if keep.contains(path) {
                Self.removeExcept(dir + "/" + name, path, keep)
            } else {
                Self.removeTree(dir + "/" + name)
            }
        }
    }

    /// Puts `new` in the place of `target`: an atomic exchange where the kernel offers one
    /// (renameat2 with RENAME_EXCHANGE), otherwise two renames. Afterwards `new` holds the
    /// replaced site, if there was one.
    static func replace(_ target: String, with new: String) throws(SiteError) {
        var info = stat()
        guard lstat(target, &info) == 0 else {
            if rename(new, target) != 0 {
                throw SiteError("moving \(new) to \(target): \(Self.lastError())")
            }
            return
        }
        if Self.exchange(new, target) {
            return
        }
        // No atomic exchange: move the old site aside, then the new one in.
        let old = new + "-old"
        Self.removeTree(old)
        guard rename(target, old) == 0, rename(new, target) == 0 else {
            throw SiteError("replacing \(target): \(Self.lastError())")
        }
        Self.removeTree(new)
        _ = rename(old, new)
    }

    private typealias RenameAt2 =
        @convention(c) (
            Int32, UnsafePointer<CChar>?, Int32, UnsafePointer<CChar>?, UInt32
        ) -> Int32

    /// Swaps two paths atomically; false when the system can't.
    private static func exchange(_ a: String, _ b: String) -> Bool {
        #if os(Linux)
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "renameat2") else {
            return false
        }
        let renameat2 = unsafeBitCast(symbol, to: RenameAt2.self)
        let renameExchange: UInt32 = 1 << 1
        return renameat2(AT_FDCWD, a, AT_FDCWD, b, renameExchange) == 0
        #else
        return false
        #endif
    }

    // MARK: - System calls

    static func lastError() -> String {
        String(cString: strerror(errno))
    }

    static func makeDirectory(_ path: String, existingOK: Bool = false) throws(SiteError) {
        if mkdir(path, 0o755) != 0 && !(existingOK && errno == EEXIST) {
            throw SiteError("mkdir \(path): \(Self.lastError())")
        }
    }

    /// `mkdir -p`.
    static func makeDirectories(_ path: String) throws(SiteError) {
        var info = stat()
        if stat(path, &info) == 0 {
            return
        }
        if let slash = path.lastIndex(of: "/"), slash != path.startIndex {
            try Self.makeDirectories(String(path[..<slash]))
        }
        try Self.makeDirectory(path, existingOK: true)
    }

    /// Writes the file in place and then cuts it to length: truncating first would free
    /// the old blocks and allocate new ones, which costs more than the write itself.
    static func writeFile(_ path: String, _ text: String) throws(SiteError) {
        let fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0o644)
        if fd < 0 {
            throw SiteError("create \(path): \(Self.lastError())")
        }
        defer { close(fd) }
        var text = text
        let ok = text.withUTF8 { buffer -> Bool in
            var offset = 0
            while offset < buffer.count {
                let n = Glibc.write(fd, buffer.baseAddress.map { $0 + offset }, buffer.count - offset)
                if n < 0 && errno == EINTR {
                    continue
                }
                if n <= 0 {
                    return false
                }
                offset += n
            }
            return true
        }
        if !ok || ftruncate(fd, off_t(text.utf8.count)) != 0 {
            throw SiteError("write \(path): \(Self.lastError())")
        }
    }

    /// `rm -rf`, without following symbolic links; missing paths are fine.
    static func removeTree(_ path: String) {
        var info = stat()
        guard lstat(path, &info) == 0 else {
            return
        }
        if info.st_mode & S_IFMT == S_IFDIR {
            if let dir = opendir(path) {
                while let entry = readdir(dir) {
                    let name = withUnsafePointer(to: &entry.pointee.d_name) {
                        String(cString: UnsafeRawPointer($0).assumingMemoryBound(to: CChar.self))
                    }
                    if name != "." && name != ".." {
                        Self.removeTree(path + "/" + name)
                    }
                }
                closedir(dir)
            }
            rmdir(path)
        } else {
            unlink(path)
        }
    }
}
