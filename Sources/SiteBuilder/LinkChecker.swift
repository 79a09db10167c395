// The link checker: every internal href and #anchor in a built site must resolve.

import FoundationEssentials

public struct BrokenLink: Equatable, Sendable, CustomStringConvertible {
    /// The page with the link, relative to the site root (`features/index.html`).
    public var page: String
    /// The link as written.
    public var target: String
    public var reason: String

    public var description: String { "\(self.page): \(self.target): \(self.reason)" }
}

public enum LinkChecker {
    /// Checks pages (path relative to the site root -> HTML); `files` lists the other files
    /// of the site that links may point to.
    public static func check(pages: [String: String], files: Set<String> = []) -> [BrokenLink] {
        var ids: [String: Set<String>] = [:]
        for (path, html) in pages {
            ids[path] = Set(Self.attributes(html, name: "id"))
        }
        let existing = files.union(pages.keys)
        var broken: [BrokenLink] = []
        for path in pages.keys.sorted() {
            guard let html = pages[path] else { continue }
            for target in Self.attributes(html, name: "href") + Self.attributes(html, name: "src") {
                if let reason = Self.problem(target, from: path, ids: ids, files: existing) {
                    broken.append(BrokenLink(page: path, target: target, reason: reason))
                }
            }
        }
        return broken
    }

    /// Checks the HTML files under `dir`.
    public static func check(directory dir: String) throws(SiteError) -> [BrokenLink] {
        let paths: [String]
        do {
            paths = try FileManager.default.subpathsOfDirectory(atPath: dir)
        } catch {
            throw SiteError("\(dir): cannot read directory: \(error)")
        }
        var pages: [String: String] = [:]
        var files: [String] = []
        for rel in paths.sorted() {
            files.append(rel)
            if rel.hasSuffix(".html"), let data = FileManager.default.contents(atPath: dir + "/" + rel) {
                pages[rel] = String(decoding: data, as: UTF8.self)
            }
        }
        if pages.isEmpty {
            throw SiteError("\(dir): no HTML files found; build the site first")
        }
        return Self.check(pages: pages, files: Set(files))
    }

    /// Why `target`, linked from the page at `from`, doesn't resolve; nil when it does or
    /// when it points outside the site.
    static func problem(
        _ target: String,
        from: String,
        ids: [String: Set<String>],
        files: Set<String>
    ) -> String? {
        if target.isEmpty || target == "#" || target.hasPrefix("//") || Self.hasScheme(target) {
            return nil
        }
        var rest = Substring(target)
        var fragment: String?
        if let hash = rest.firstIndex(of: "#") {
            fragment = Self.percentDecoded(rest[rest.index(after: hash)...])
            rest = rest[..<hash]
        }
        if let query = rest.firstIndex(of: "?") {
            rest = rest[..<query]
        }
        let page: String
        if rest.isEmpty {
            page = from
        } else {
            guard let resolved = Self.resolve(Self.percentDecoded(rest), from: from) else {
                return "goes above the site's root"
            }
            if resolved.isEmpty || resolved.hasSuffix("/") {
                page = resolved + "index.html"
            } else if ids[resolved] != nil || files.contains(resolved) {
                page = resolved
            } else if ids[resolved + "/index.html"] != nil {
                page = resolved + "/index.html"
            } else {
                return "no such page or file"
            }
        }
        guard let pageIDs = ids[page] else {
            if files.contains(page), fragment == nil {
                return nil
            }
            return "no such page"
        }
        if let fragment, !fragment.isEmpty, !pageIDs.contains(fragment) {
            return "no element with id \"\(fragment)\" on \(page)"
        }
        return nil
    }

    static func hasScheme(_ s: String) -> Bool {
        guard let colon = s.firstIndex(of: ":") else { return false }
        let scheme = s[..<colon]
        return !scheme.isEmpty && scheme.allSatisfy { $0.isLetter || $0.isNumber || "+-.".contains($0) }
    }

    /// Resolves a relative or root-relative path against the page's path.
    static func resolve(_ path: String, from page: String) -> String? {
        var parts: [Substring] = path.hasPrefix("/") ? [] : page.split(separator: "/").dropLast()
        let trailingSlash =
            path.hasSuffix("/") || path.hasSuffix("/.") || path.hasSuffix("/..") || path == "." || path == ".."
        for component in path.split(separator: "/") {
            switch component {
            case ".": continue
            case "..":
                if parts.isEmpty { return nil }
                parts.removeLast()
            default: parts.append(component)
            }
        }
        let joined = parts.joined(separator: "/")
        return trailingSlash && !joined.isEmpty ? joined + "/" : joined
    }

    /// `%XX` escapes decoded; text that is not a valid escape, or that decodes to invalid
    /// UTF-8, stays as it is.
    public static func percentDecoded(_ s: Substring) -> String {
        guard s.contains("%") else { return String(s) }
        let bytes = Array(s.utf8)
        var out: [UInt8] = []
        var i = 0
        func hex(_ b: UInt8) -> UInt8? {
            switch b {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): return b - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): return b - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): return b - UInt8(ascii: "A") + 10
            default: return nil
            }
        }
        while i < bytes.count {
            if bytes[i] == UInt8(ascii: "%"), i + 2 < bytes.count, let hi = hex(bytes[i + 1]),
                let lo = hex(bytes[i + 2])
            {
                out.append(hi << 4 | lo)
                i += 3
            } else {
                out.append(bytes[i])
                i += 1
            }
        }
        return String(validating: out, as: UTF8.self) ?? String(s)
    }

    /// The values of every `name="..."` attribute, entities decoded. Looks only at tags, not
    /// at text, so code samples that show HTML don't count.
    static func attributes(_ html: String, name: String) -> [String] {
        var values: [String] = []
        let bytes = Array(html.utf8)
        let key = Array((" " + name + "=\"").utf8)
        let keyNewline = Array(("\n" + name + "=\"").utf8)
        var i = 0
        var inTag = false
        var inScript = false
        while i < bytes.count {
            let b = bytes[i]
            if !inTag {
                if b == UInt8(ascii: "<") {
                    if inScript {
                        if Self.hasPrefix(bytes, at: i, "</script") { inScript = false }
                    } else {
                        inTag = true
                        if Self.hasPrefix(bytes, at: i, "<script") { inScript = true }
                    }
                }
                i += 1
                continue
            }
            if b == UInt8(ascii: ">") {
                inTag = false
                i += 1
                continue
            }
            if Self.hasPrefix(bytes, at: i, key) || Self.hasPrefix(bytes, at: i, keyNewline) {
                let start = i + key.count
                var end = start
                while end < bytes.count && bytes[end] != UInt8(ascii: "\"") { end += 1 }
                values.append(Self.decodeEntities(String(decoding: bytes[start..<end], as: UTF8.self)))
                i = end + 1
                continue
            }
            if b == UInt8(ascii: "\"") {
                // Skip over other attribute values.
                var end = i + 1
                while end < bytes.count && bytes[end] != UInt8(ascii: "\"") { end += 1 }
                i = end + 1
                continue
            }
            i += 1
        }
        return values
    }

    private static func hasPrefix(_ bytes: [UInt8], at i: Int, _ prefix: String) -> Bool {
        Self.hasPrefix(bytes, at: i, Array(prefix.utf8))
    }

    private static func hasPrefix(_ bytes: [UInt8], at i: Int, _ prefix: [UInt8]) -> Bool {
        guard i + prefix.count <= bytes.count else { return false }
        for (j, p) in prefix.enumerated() where bytes[i + j] != p {
            return false
        }
        return true
    }

    static func decodeEntities(_ s: String) -> String {
        guard s.contains("&") else { return s }
        return s.replacing("&quot;", with: "\"")
            .replacing("&lt;", with: "<")
            .replacing("&gt;", with: ">")
            .replacing("&#x27;", with: "'")
            .replacing("&#39;", with: "'")
            .replacing("&amp;", with: "&")
    }
}
