// The footer's commit (date and short hash of HEAD), read from the repository's own files.
// Starting `git log` for it took a quarter of a whole site build on a 2-core machine; reading
// a ref, one pack index and one compressed object is far less. The reader knows only the
// plain layout a clone has: for anything else (a worktree's .git file, alternates, a
// multi-pack index, replace refs, a configured abbreviation, GIT_DIR and its kin set, a
// commit stored as a delta, SHA-256 object names) it answers nil and the caller runs git,
// so the footer is always what `git log -1 --date=short --format='%cd %h'` prints.

import CZlib
import FoundationEssentials

#if canImport(Glibc)
import Glibc
#endif

public enum GitHead {
    /// HEAD's commit date (`%cd` with `--date=short`: the committer date in the committer's
    /// own time zone) and abbreviated hash (`%h`), or nil when git itself must be asked.
    public static func read(root: String) -> (date: String, hash: String)? {
        let env = ProcessInfo.processInfo.environment
        // Variables that move the repository or its objects, or set configuration.
        let moving = ["GIT_DIR", "GIT_COMMON_DIR", "GIT_OBJECT_DIRECTORY", "GIT_ALTERNATE_OBJECT_DIRECTORIES", "GIT_REPLACE_REF_BASE"]
        if env.keys.contains(where: { moving.contains($0) || $0.hasPrefix("GIT_CONFIG") }) {
            return nil
        }
        let git = root + "/.git"
        guard isDirectory(git), !exists(git + "/objects/info/alternates"),
            !exists(git + "/objects/pack/multi-pack-index"), !exists(git + "/refs/replace")
        else { return nil }
        // core.abbrev (or an include that might set it) changes %h: leave that to git.
        let home = env["HOME"] ?? ""
        let configs = [
            git + "/config", "/etc/gitconfig", home + "/.gitconfig",
            (env["XDG_CONFIG_HOME"] ?? home + "/.config") + "/git/config",
        ]
        for path in configs {
            if let text = readFile(path).map({ String(decoding: $0, as: UTF8.self).lowercased() }),
                text.contains("abbrev") || text.contains("include")
            {
                return nil
            }
        }
        guard let id = Self.headID(git) else { return nil }
        let packs = Self.packs(git)
        guard let commit = Self.commitObject(id, git: git, packs: packs),
            let date = Self.committerDate(commit),
            let hash = Self.abbreviate(id, git: git, packs: packs)
        else { return nil }
        return (date, hash)
    }

    // MARK: - Refs

    /// The 40-hex object name HEAD resolves to, through one symbolic ref.
    static func headID(_ git: String) -> [UInt8]? {
        guard let head = readFile(git + "/HEAD").map(trimmedLine) else { return nil }
        if isObjectName(head) {
            return head
        }
        let prefix = Array("ref: ".utf8)
        guard head.starts(with: prefix) else { return nil }
        let name = String(decoding: head.dropFirst(prefix.count), as: UTF8.self)
        guard name.hasPrefix("refs/"), !name.contains("..") else { return nil }
        if let loose = readFile(git + "/" + name).map(trimmedLine) {
            return isObjectName(loose) ? loose : nil
        }
        // packed-refs: "<id> <name>" lines, with "#" header and "^" peeled lines between.
        guard let packed = readFile(git + "/packed-refs") else { return nil }
        for line in packed.split(separator: UInt8(ascii: "\n")) {
            guard line.first != UInt8(ascii: "#"), line.first != UInt8(ascii: "^"), line.count > 41 else { continue }
            if line[line.startIndex + 40] == UInt8(ascii: " "),
                String(decoding: line.dropFirst(41), as: UTF8.self) == name
            {
                let id = Array(line.prefix(40))
                return isObjectName(id) ? id : nil
            }
        }
        return nil
    }

    // MARK: - Objects

    struct PackIndex {
        var path: String
        /// The idx file: 8-byte header, 256 fanout counts, then the sorted 20-byte names,
        /// their CRCs, their 4-byte offsets and the 8-byte offsets the large ones point to.
        var data: [UInt8]
        var count: Int

        func name(_ i: Int) -> ArraySlice<UInt8> {
            let at = 8 + 256 * 4 + i * 20
            return self.data[at..<at + 20]
        }

        /// Where `id` (20 bytes) is in the sorted names, or where it would go.
        func position(_ id: [UInt8]) -> (index: Int, found: Bool) {
            var lo = 0
            var hi = self.count
            while lo < hi {
                let mid = (lo + hi) / 2
                if self.name(mid).lexicographicallyPrecedes(id) {
                    lo = mid + 1
                } else {
                    hi = mid
                }
            }
            return (lo, lo < self.count && self.name(lo).elementsEqual(id))
        }

        func offset(_ i: Int) -> Int? {
            let table = 8 + 256 * 4 + self.count * 24
            let small = Int(be32(self.data, table + i * 4))
            guard small & 0x8000_0000 != 0 else { return small }
            let at = table + self.count * 4 + (small & 0x7FFF_FFFF) * 8
            guard at + 8 <= self.data.count else { return nil }
            return Int(be32(self.data, at)) << 32 | Int(be32(self.data, at + 4))
        }
    }

    /// The version 2 pack indexes under objects/pack; nil if one is of another version.
    static func packs(_ git: String) -> [PackIndex]? {
        let dir = git + "/objects/pack"
        let names = (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []
        var out: [PackIndex] = []
        for name in names.sorted() where name.hasSuffix(".idx") {
            guard let data = readFile(dir + "/" + name), data.count >= 8 + 256 * 4,
                data.starts(with: [0xFF, 0x74, 0x4F, 0x63, 0, 0, 0, 2])
            else { return nil }
            let count = Int(be32(data, 8 + 255 * 4))
            guard data.count >= 8 + 256 * 4 + count * 28 + 40 else { return nil }
            out.append(PackIndex(path: dir + "/" + String(name.dropLast(4)) + ".pack", data: data, count: count))
        }
        return out
    }

    /// The commit's text (after the "commit <size>\0" header of a loose object), from a loose
    /// object or a pack. Nil for a commit stored as a delta, or any damage.
    static func commitObject(_ hex: [UInt8], git: String, packs: [PackIndex]?) -> [UInt8]? {
        let name = String(decoding: hex, as: UTF8.self)
        let loose = git + "/objects/" + name.prefix(2) + "/" + name.dropFirst(2)
        if let compressed = readFile(loose) {
            guard let raw = inflate(compressed[...], limit: 1 << 24), let nul = raw.firstIndex(of: 0),
                raw.starts(with: Array("commit ".utf8))
            else { return nil }
            return Array(raw[(nul + 1)...])
        }
        guard let packs, let id = binaryID(hex) else { return nil }
        for pack in packs {
            let (i, found) = pack.position(id)
            guard found else { continue }
            guard let offset = pack.offset(i) else { return nil }
            return Self.packedCommit(pack.path, offset: offset)
        }
        return nil
    }

    static func packedCommit(_ path: String, offset: Int) -> [UInt8]? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        // The object's header: type in bits 4-6 of the first byte, then its size as a
        // little-endian base-128 number (4 bits in the first byte, 7 in each next one).
        var header = [UInt8](repeating: 0, count: 16)
        guard pread(fd, &header, 16, off_t(offset)) == 16 else { return nil }
        guard (header[0] >> 4) & 7 == 1 else { return nil }  // 1: commit; 6 and 7 are deltas
        var size = Int(header[0] & 0x0F)
        var shift = 4
        var used = 1
        while header[used - 1] & 0x80 != 0 {
            guard used < header.count, shift < 60 else { return nil }
            size |= Int(header[used] & 0x7F) << shift
            shift += 7
            used += 1
        }
        guard size < 1 << 24 else { return nil }
        // Deflate can grow incompressible data a little; this is more than enough.
        let room = size + size / 100 + 64
        var compressed = [UInt8](repeating: 0, count: room)
        let got = pread(fd, &compressed, room, off_t(offset + used))
        guard got > 0 else { return nil }
        guard let raw = inflate(compressed[..<got], limit: size), raw.count == size else { return nil }
        return raw
    }

    // MARK: - The date and the abbreviation

    /// `committer Name <mail> 1764633600 +0100` → the date in that zone, `2025-12-02`.
    static func committerDate(_ commit: [UInt8]) -> String? {
        for line in commit.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false) {
            if line.isEmpty { break }  // the end of the headers
            guard line.starts(with: Array("committer ".utf8)) else { continue }
            let fields = line.split(separator: UInt8(ascii: " "))
            guard fields.count >= 3, let seconds = Int(String(decoding: fields[fields.count - 2], as: UTF8.self)) else {
                return nil
            }
            let zone = Array(fields[fields.count - 1])
            guard zone.count == 5, zone[0] == UInt8(ascii: "+") || zone[0] == UInt8(ascii: "-"),
                let hours = Int(String(decoding: zone[1..<3], as: UTF8.self)),
                let minutes = Int(String(decoding: zone[3..<5], as: UTF8.self))
            else { return nil }
            let sign = zone[0] == UInt8(ascii: "-") ? -1 : 1
            return civilDate(seconds + sign * (hours * 3600 + minutes * 60))
        }
        return nil
    }

    /// The date of a count of seconds since 1970-01-01, YYYY-MM-DD.
    static func civilDate(_ seconds: Int) -> String {
        var style = Date.ISO8601FormatStyle(timeZone: TimeZone(secondsFromGMT: 0)!)
        style = style.year().month().day()
        return Date(timeIntervalSince1970: TimeInterval(seconds)).formatted(style)
    }

    /// `%h`: git's automatic abbreviation, as long as the packed object count calls for (at
    /// least 7 hex digits), then longer while another object, packed or loose, shares it.
    static func abbreviate(_ hex: [UInt8], git: String, packs: [PackIndex]?) -> String? {
        guard let packs, let id = binaryID(hex) else { return nil }
        let count = packs.reduce(0) { $0 + $1.count }
        // Bits in the count, halved and rounded up: the hex digits that keep collisions unlikely.
        let bits = count == 0 ? 0 : Int.bitWidth - count.leadingZeroBitCount
        var length = max(7, (bits + 1) / 2)
        func shared(_ a: some Collection<UInt8>, _ b: some Collection<UInt8>) -> Int {
            var n = 0
            for (x, y) in zip(a, b) {
                if x == y {
                    n += 2
                    continue
                }
                if x >> 4 == y >> 4 { n += 1 }
                break
            }
            return n
        }
        for pack in packs {
            let (i, found) = pack.position(id)
            for j in [i - 1, found ? i + 1 : i] where j >= 0 && j < pack.count {
                length = max(length, shared(pack.name(j), id) + 1)
            }
        }
        let name = String(decoding: hex, as: UTF8.self)
        let dir = git + "/objects/" + name.prefix(2)
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? [] {
            let other = Array((name.prefix(2) + entry).utf8)
            guard other.count == 40, other != hex else { continue }
            let same = zip(other, hex).prefix { $0 == $1 }.count
            length = max(length, same + 1)
        }
        return String(name.prefix(min(40, length)))
    }
}

// MARK: - Helpers

private func exists(_ path: String) -> Bool {
    access(path, F_OK) == 0
}

private func isDirectory(_ path: String) -> Bool {
    var st = stat()
    return stat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR
}

/// A whole small file, or nil if it cannot be read.
private func readFile(_ path: String) -> [UInt8]? {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { return nil }
    defer { close(fd) }
    var out: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 65536)
    while true {
        let n = Glibc.read(fd, &chunk, chunk.count)
        if n < 0 {
            if errno == EINTR { continue }
            return nil
        }
        if n == 0 { return out }
        out += chunk[..<n]
    }
}

private func trimmedLine(_ bytes: [UInt8]) -> [UInt8] {
    var b = bytes[...]
    while let last = b.last, last == UInt8(ascii: "\n") || last == UInt8(ascii: "\r") || last == UInt8(ascii: " ") {
        b = b.dropLast()
    }
    return Array(b)
}

private func isObjectName(_ bytes: [UInt8]) -> Bool {
    bytes.count == 40
        && bytes.allSatisfy { (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }
}

private func binaryID(_ hex: [UInt8]) -> [UInt8]? {
    guard isObjectName(hex) else { return nil }
    func nibble(_ c: UInt8) -> UInt8 { c <= 0x39 ? c - 0x30 : c - 0x61 + 10 }
    return stride(from: 0, to: 40, by: 2).map { nibble(hex[$0]) << 4 | nibble(hex[$0 + 1]) }
}

private func be32(_ data: [UInt8], _ at: Int) -> UInt32 {
    UInt32(data[at]) << 24 | UInt32(data[at + 1]) << 16 | UInt32(data[at + 2]) << 8 | UInt32(data[at + 3])
}

/// Inflates one zlib stream, refusing to produce more than `limit` bytes.
private func inflate(_ input: ArraySlice<UInt8>, limit: Int) -> [UInt8]? {
    var stream = z_stream()
    guard czlib_inflate_init_zlib(&stream) == Z_OK else { return nil }
    defer { inflateEnd(&stream) }
    var out = [UInt8](repeating: 0, count: max(64, min(limit, 1 << 16)))
    var produced = 0
    return input.withUnsafeBufferPointer { inBuf -> [UInt8]? in
        stream.next_in = UnsafeMutablePointer(mutating: inBuf.baseAddress)
        stream.avail_in = UInt32(inBuf.count)
        while true {
            if produced == out.count {
                guard out.count < limit + 1 else { return nil }
                out += [UInt8](repeating: 0, count: min(out.count, limit + 1 - out.count))
            }
            let rc = out.withUnsafeMutableBufferPointer { o -> Int32 in
                stream.next_out = o.baseAddress! + produced
                stream.avail_out = UInt32(o.count - produced)
                let rc = CZlib.inflate(&stream, Z_NO_FLUSH)
                produced = o.count - Int(stream.avail_out)
                return rc
            }
            if rc == Z_STREAM_END {
                return produced <= limit ? Array(out[..<produced]) : nil
            }
            guard rc == Z_OK else { return nil }
            if stream.avail_in == 0 && produced < out.count { return nil }  // truncated input
        }
    }
}
