// Serving files for WebStatic: content types, HTTP dates, conditional requests (RFC 9110 13),
// byte ranges (RFC 9110 14) and the directory listing mox shows.

#if canImport(Glibc)
import Glibc
#endif

/// A file or directory on disk, as stat(2) sees it.
public struct FileInfo: Sendable, Equatable {
    public var size: Int
    /// Seconds since 1970.
    public var modified: Int
    public var isDirectory: Bool
    /// Changes whenever the file does (inode, nanosecond modification and change times):
    /// what a cached copy is checked against.
    public var version: [Int] = []
}

public enum StatResult: Sendable, Equatable {
    case found(FileInfo)
    case notFound
    case permissionDenied
    case failed(Int32)
}

public enum StaticFiles {
    public static func stat(_ path: String) -> StatResult {
        var st = emptyStat()
        guard systemStat(path, &st) == 0 else {
            switch errno {
            case ENOENT, ENOTDIR, EINVAL, ENAMETOOLONG: return .notFound
            case EACCES, EPERM: return .permissionDenied
            default: return .failed(errno)
            }
        }
        return .found(
            FileInfo(
                size: Int(st.st_size),
                modified: Int(st.st_mtim.tv_sec),
                isDirectory: (st.st_mode & S_IFMT) == S_IFDIR,
                version: [
                    Int(bitPattern: UInt(st.st_ino)), Int(st.st_dev), Int(st.st_mtim.tv_sec), Int(st.st_mtim.tv_nsec),
                    Int(st.st_ctim.tv_sec), Int(st.st_ctim.tv_nsec),
                ]
            )
        )
    }

    /// Joins a root and a cleaned request path (which has no ".." left) into a file system path.
    public static func join(_ root: String, _ path: String) -> String {
        var base = root.isEmpty ? "." : root
        while base.count > 1 && base.hasSuffix("/") { base.removeLast() }
        let rest = path.drop(while: { $0 == "/" })
        if rest.isEmpty { return base }
        return base == "/" ? "/" + rest : base + "/" + rest
    }

    /// The Content-Type for a file name's extension; nil when unknown (the caller sniffs).
    public static func contentType(forName name: String) -> String? {
        guard let dot = name.lastIndex(of: "."), !name[dot...].contains("/") else { return nil }
        return Self.types[name[name.index(after: dot)...].lowercased()]
    }

    static let types: [String: String] = [
        "html": "text/html; charset=utf-8", "htm": "text/html; charset=utf-8", "css": "text/css; charset=utf-8",
        "js": "text/javascript; charset=utf-8", "mjs": "text/javascript; charset=utf-8",
        "json": "application/json", "txt": "text/plain; charset=utf-8", "xml": "text/xml; charset=utf-8",
        "csv": "text/csv; charset=utf-8", "md": "text/markdown; charset=utf-8", "svg": "image/svg+xml",
        "png": "image/png", "jpg": "image/jpeg", "jpeg": "image/jpeg", "gif": "image/gif", "webp": "image/webp",
        "avif": "image/avif", "ico": "image/vnd.microsoft.icon", "pdf": "application/pdf", "wasm": "application/wasm",
        "woff": "font/woff", "woff2": "font/woff2", "ttf": "font/ttf", "otf": "font/otf", "zip": "application/zip",
        "gz": "application/gzip", "tar": "application/x-tar", "mp4": "video/mp4", "webm": "video/webm",
        "mp3": "audio/mpeg", "ogg": "audio/ogg", "wav": "audio/wav", "eml": "message/rfc822",
        "asc": "text/plain; charset=utf-8", "sig": "application/pgp-signature", "conf": "text/plain; charset=utf-8",
    ]

    /// A Content-Type from the first bytes when the name does not tell (a small part of the
    /// WHATWG sniffing rules: markup, common images, PDF, else text or binary).
    public static func sniff(_ prefix: ArraySlice<UInt8>) -> String {
        let head = Array(prefix.prefix(512))
        func starts(_ s: String) -> Bool { head.starts(with: Array(s.utf8)) }
        let trimmed = Array(head.drop(while: { $0 == 0x20 || $0 == 0x09 || $0 == 0x0a || $0 == 0x0d }))
        let lowerStart = String(decoding: trimmed.prefix(14), as: UTF8.self).lowercased()
        if lowerStart.hasPrefix("<!doctype html") || lowerStart.hasPrefix("<html") { return "text/html; charset=utf-8" }
        if lowerStart.hasPrefix("<?xml") { return "text/xml; charset=utf-8" }
        if starts("%PDF-") { return "application/pdf" }
        if head.starts(with: [0x89, 0x50, 0x4e, 0x47]) { return "image/png" }
        if head.starts(with: [0xff, 0xd8, 0xff]) { return "image/jpeg" }
        if starts("GIF8") { return "image/gif" }
        if head.contains(where: { $0 < 0x09 || ($0 > 0x0d && $0 < 0x20 && $0 != 0x1b) }) {
            return "application/octet-stream"
        }
        return "text/plain; charset=utf-8"
    }

    // MARK: - Dates (RFC 9110 5.6.7)

    static let days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
    static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    /// IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT".
    public static func httpDate(_ seconds: Int) -> String {
        var t = time_t(seconds)
        var tm = Glibc.tm()
        gmtime_r(&t, &tm)
        func two(_ v: Int32) -> String { v < 10 ? "0\(v)" : "\(v)" }
        return "\(days[Int(tm.tm_wday)]), \(two(tm.tm_mday)) \(months[Int(tm.tm_mon)]) \(tm.tm_year + 1900) "
            + "\(two(tm.tm_hour)):\(two(tm.tm_min)):\(two(tm.tm_sec)) GMT"
    }

    /// Parses an IMF-fixdate (the form senders must use; the obsolete forms are not accepted).
    public static func parseHTTPDate(_ s: String) -> Int? {
        let parts = s.split(separator: " ")
        guard parts.count == 6, parts[5] == "GMT", let day = Int(parts[1]),
            let month = Self.months.firstIndex(of: String(parts[2])), let year = Int(parts[3])
        else { return nil }
        let hms = parts[4].split(separator: ":")
        guard hms.count == 3, let h = Int(hms[0]), let m = Int(hms[1]), let sec = Int(hms[2]) else { return nil }
        var tm = Glibc.tm()
        tm.tm_year = Int32(year - 1900)
        tm.tm_mon = Int32(month)
        tm.tm_mday = Int32(day)
        tm.tm_hour = Int32(h)
        tm.tm_min = Int32(m)
        tm.tm_sec = Int32(sec)
        return Int(timegm(&tm))
    }

    // MARK: - Ranges (RFC 9110 14.1.2)

    public enum RangeResult: Equatable, Sendable {
        /// No Range header, or one to ignore (another unit, bad syntax): the whole file.
        case whole
        /// Satisfiable ranges, in request order, each `start..<end`.
        case ranges([Range<Int>])
        /// Nothing in the set overlaps the file: 416.
        case unsatisfiable
    }

    public static func ranges(_ header: String?, size: Int) -> RangeResult {
        guard let header, header.hasPrefix("bytes=") else { return .whole }
        var result: [Range<Int>] = []
        for spec in header.dropFirst("bytes=".count).split(separator: ",") {
            let part = spec.trimmingCharacters(" \t")
            guard let dash = part.firstIndex(of: "-") else { return .whole }
            let first = part[..<dash]
            let last = part[part.index(after: dash)...]
            if first.isEmpty {
                // Suffix range: the last N bytes.
                guard let n = Int(last), n >= 0 else { return .whole }
                if n == 0 { continue }
                result.append(max(0, size - n)..<size)
            } else {
                guard let start = Int(first), start >= 0 else { return .whole }
                var end = size
                if !last.isEmpty {
                    guard let e = Int(last), e >= start else { return .whole }
                    end = min(size, e + 1)
                }
                if start >= size { continue }
                result.append(start..<end)
            }
        }
        return result.isEmpty ? .unsatisfiable : .ranges(result)
    }

    // MARK: - Directory listings

    public struct ListingEntry: Sendable {
        public var name: String
        public var isDirectory: Bool
        public var size: Int
        public var modified: Int
    }

    /// The entries of a directory, "." and ".." left out; nil when it cannot be read.
    public static func readDirectory(_ path: String) -> [ListingEntry]? {
        guard let dir = opendir(path) else { return nil }
        defer { closedir(dir) }
        var entries: [ListingEntry] = []
        while let entry = readdir(dir) {
            let name = withUnsafePointer(to: entry.pointee.d_name) {
                $0.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) }
            }
            if name == "." || name == ".." { continue }
            guard case .found(let info) = Self.stat(Self.join(path, name)) else { continue }
            entries.append(ListingEntry(name: name, isDirectory: info.isDirectory, size: info.size, modified: info.modified))
        }
        return entries
    }

    /// mox's listing page: a table of size in MB, modification time (UTC) and name, sorted by
    /// name, with a ".." row except at the root.
    public static func listingHTML(entries: [ListingEntry], atRoot: Bool) -> String {
        struct Row {
            var name: String
            var title: String
            var size: String
            var modified: String
        }
        var rows: [Row] = []
        if !atRoot {
            rows.append(Row(name: "..", title: "0 bytes", size: "", modified: ""))
        }
        for e in entries {
            var size = ""
            if !e.isDirectory {
                let mb = Double(e.size) / (1024 * 1024)
                if mb >= 10 {
                    size = "\(Int(mb))<span style=\"visibility:hidden\">.  </span>"
                } else {
                    let hundredths = Int((mb * 100).rounded())
                    size = "\(hundredths / 100).\(hundredths % 100 < 10 ? "0" : "")\(hundredths % 100)"
                }
            }
            rows.append(
                Row(
                    name: e.name + (e.isDirectory ? "/" : ""),
                    title: "\(e.size) bytes",
                    size: size,
                    modified: Self.listingTime(e.modified)
                )
            )
        }
        rows.sort { Array($0.name.utf8).lexicographicallyPrecedes(Array($1.name.utf8)) }
        var html = """
            <!doctype html>
            <html>
            \t<head>
            \t\t<meta charset="utf-8" />
            \t\t<meta name="viewport" content="width=device-width, initial-scale=1" />
            \t\t<title>ls</title>
            \t\t<style>
            body, html { padding: 1em; font-size: 16px; }
            * { font-size: inherit; font-family: ubuntu, lato, sans-serif; margin: 0; padding: 0; box-sizing: border-box; }
            h1 { margin-bottom: 1ex; font-size: 1.2rem; }
            table td, table th { padding: .2em .5em; }
            table > tbody > tr:nth-child(odd) { background-color: #f8f8f8; }
            \t\t</style>
            \t</head>
            \t<body>
            \t\t<h1>ls</h1>
            \t\t<table>
            \t\t\t<thead>
            \t\t\t\t<tr>
            \t\t\t\t\t<th>Size in MB</th>
            \t\t\t\t\t<th>Modified (UTC)</th>
            \t\t\t\t\t<th>Name</th>
            \t\t\t\t</tr>
            \t\t\t</thead>
            \t\t\t<tbody>

            """
        if rows.isEmpty {
            html += "\t\t\t\t<tr><td colspan=\"3\">No files.</td></tr>\n"
        }
        for row in rows {
            html += """
                \t\t\t\t<tr>
                \t\t\t\t\t<td title="\(markupEscape(row.title))" style="text-align: right">\(row.size)</td>
                \t\t\t\t\t<td>\(markupEscape(row.modified))</td>
                \t\t\t\t\t<td><a style="display: block" href="\(markupEscape(hrefEscape(row.name)))">\(markupEscape(row.name))</a></td>
                \t\t\t\t</tr>

                """
        }
        html += "\t\t\t</tbody>\n\t\t</table>\n\t</body>\n</html>\n"
        return html
    }

    /// "2006-01-02 15:04:05" in UTC.
    static func listingTime(_ seconds: Int) -> String {
        var t = time_t(seconds)
        var tm = Glibc.tm()
        gmtime_r(&t, &tm)
        func two(_ v: Int32) -> String { v < 10 ? "0\(v)" : "\(v)" }
        return "\(tm.tm_year + 1900)-\(two(tm.tm_mon + 1))-\(two(tm.tm_mday)) \(two(tm.tm_hour)):\(two(tm.tm_min)):\(two(tm.tm_sec))"
    }
}

private func emptyStat() -> stat { stat() }
private func systemStat(_ path: String, _ st: inout stat) -> Int32 { stat(path, &st) }

/// Percent-encodes what a relative link to a file name may not hold as is.
func hrefEscape(_ name: String) -> String {
    var out = ""
    for b in name.utf8 {
        switch b {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"),
            UInt8(ascii: "~"), UInt8(ascii: "/"):
            out.unicodeScalars.append(Unicode.Scalar(b))
        default:
            let hex = Array("0123456789ABCDEF")
            out += "%\(hex[Int(b >> 4)])\(hex[Int(b & 15)])"
        }
    }
    return out
}

extension Substring {
    func trimmingCharacters(_ set: String) -> Substring {
        var s = self
        while let f = s.first, set.contains(f) { s.removeFirst() }
        while let l = s.last, set.contains(l) { s.removeLast() }
        return s
    }
}
