// Writing a built site: everything goes to a fresh directory beside the target, which then
// replaces the target in one step, so a failed or interrupted build never leaves half a site.

import Foundation

#if canImport(Glibc)
import Glibc
#endif

public enum SiteOutput {
    /// Writes `pages` (and nothing else) as the directory `outDir`, replacing what was there.
    public static func write(_ pages: [SitePage], to outDir: String) throws(SiteError) {
        let fm = FileManager.default
        let out = URL(fileURLWithPath: outDir).standardizedFileURL
        let parent = out.deletingLastPathComponent()
        let name = out.lastPathComponent
        let temp = parent.appendingPathComponent(".\(name)-new-\(getpid())")
        do {
            try fm.createDirectory(at: parent, withIntermediateDirectories: true)
            if fm.fileExists(atPath: temp.path) {
                try fm.removeItem(at: temp)
            }
            try fm.createDirectory(at: temp, withIntermediateDirectories: true)
            for page in pages {
                let file = temp.appendingPathComponent(page.path)
                try fm.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
                try Data(page.html.utf8).write(to: file)
            }
        } catch {
            try? fm.removeItem(at: temp)
            throw SiteError("writing the site to \(temp.path): \(error.localizedDescription)")
        }
        try Self.replace(out, with: temp)
    }

    /// Puts `new` in the place of `target`: an atomic exchange where the kernel offers one
    /// (renameat2 with RENAME_EXCHANGE), otherwise two renames.
    static func replace(_ target: URL, with new: URL) throws(SiteError) {
        let fm = FileManager.default
        guard fm.fileExists(atPath: target.path) else {
            if rename(new.path, target.path) != 0 {
                throw SiteError("moving \(new.path) to \(target.path): \(String(cString: strerror(errno)))")
            }
            return
        }
        if Self.exchange(new.path, target.path) {
            try? fm.removeItem(at: new)
            return
        }
        let old = target.deletingLastPathComponent().appendingPathComponent(".\(target.lastPathComponent)-old-\(getpid())")
        try? fm.removeItem(at: old)
        guard rename(target.path, old.path) == 0, rename(new.path, target.path) == 0 else {
            throw SiteError("replacing \(target.path): \(String(cString: strerror(errno)))")
        }
        try? fm.removeItem(at: old)
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
}
