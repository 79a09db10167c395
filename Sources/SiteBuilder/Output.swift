// Writing a built site: everything goes to a fresh directory beside the target, which then
// replaces the target in one step, so a failed or interrupted build never leaves half a site.
// Plain system calls: this is a measurable part of a whole build.

#if canImport(Glibc)
import Glibc
#endif

public enum SiteOutput {
    /// Writes `pages` (and nothing else) as the directory `outDir`, replacing what was there.
    public static func write(_ pages: [SitePage], to outDir: String) throws(SiteError) {
        var target = outDir
        while target.count > 1 && target.hasSuffix("/") {
            target.removeLast()
        }
        let slash = target.lastIndex(of: "/")
        let parent = slash.map { String(target[..<$0]) } ?? "."
        let name = slash.map { String(target[target.index(after: $0)...]) } ?? target
        let temp = (parent.isEmpty ? "" : parent) + "/.\(name)-new-\(getpid())"
        do throws(SiteError) {
            try Self.makeDirectories(parent.isEmpty ? "/" : parent)
            Self.removeTree(temp)
            try Self.makeDirectory(temp)
            for page in pages {
                var dir = temp
                for component in page.dir.split(separator: "/") {
                    dir += "/" + component
                    try Self.makeDirectory(dir, existingOK: true)
                }
                try Self.writeFile(temp + "/" + page.path, page.html)
            }
        } catch {
            Self.removeTree(temp)
            throw SiteError("writing the site to \(temp): \(error)")
        }
        try Self.replace(target, with: temp)
    }

    /// Puts `new` in the place of `target`: an atomic exchange where the kernel offers one
    /// (renameat2 with RENAME_EXCHANGE), otherwise two renames.
    static func replace(_ target: String, with new: String) throws(SiteError) {
        var info = stat()
        guard lstat(target, &info) == 0 else {
            if rename(new, target) != 0 {
                throw SiteError("moving \(new) to \(target): \(Self.lastError())")
            }
            return
        }
        if Self.exchange(new, target) {
            Self.removeTree(new)
            return
        }
        let old = new + "-old"
        Self.removeTree(old)
        guard rename(target, old) == 0, rename(new, target) == 0 else {
            throw SiteError("replacing \(target): \(Self.lastError())")
        }
        Self.removeTree(old)
    }

    private typealias RenameAt2 = @convention(c) (
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

    static func writeFile(_ path: String, _ text: String) throws(SiteError) {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
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
        if !ok {
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
