// Markdown to HTML: libcmark parses, and this file renders the tree itself so that headings
// get ids and self-links and config code blocks get one addressable line per field.

import CCMark
import FoundationEssentials

#if canImport(Glibc)
import Glibc
#endif

/// A heading found while rendering, for tables of contents.
public struct Heading: Equatable, Sendable {
    public var level: Int
    public var text: String
    public var id: String
}

/// How code blocks are rendered.
public enum CodeBlockStyle: Sendable {
    /// `<pre><code>`.
    case plain
    /// Config files: each non-comment line gets an id `cfg-<h2 anchor>-<field path>` and a
    /// `#` link to itself.
    case config
}

/// The result of rendering one Markdown document.
public struct RenderedMarkdown: Sendable {
    public var html: String
    public var headings: [Heading]
}

public enum Markdown {
    /// Renders CommonMark to HTML. Raw HTML is passed through (the sources are our own).
    /// `ids` is shared across documents rendered into one page so ids stay unique.
    public static func render(
        _ markdown: String,
        codeBlocks: CodeBlockStyle = .plain,
        ids: inout AnchorSet
    ) -> RenderedMarkdown {
        let options = CMARK_OPT_UNSAFE | CMARK_OPT_VALIDATE_UTF8
        let maybeRoot = markdown.withCString { p in
            cmark_parse_document(p, strlen(p), options)
        }
        guard let root = maybeRoot else {
            return RenderedMarkdown(html: "", headings: [])
        }
        defer { cmark_node_free(root) }
        var renderer = HTMLRenderer(codeBlocks: codeBlocks, ids: ids)
        renderer.render(root)
        ids = renderer.ids
        return RenderedMarkdown(html: renderer.out, headings: renderer.headings)
    }

    /// The plain text of the top-level `#` heading lines of a document, in order, with the
    /// level of each. Used to find a page's title.
    public static func firstHeading(_ markdown: String, level: Int) -> String? {
        for line in markdown.split(separator: "\n", omittingEmptySubsequences: false) {
            let marker = String(repeating: "#", count: level) + " "
            if line.hasPrefix(marker) {
                return String(line.dropFirst(marker.count)).trimming(" \t#")
            }
        }
        return nil
    }
}

extension StringProtocol {
    /// Drops leading and trailing characters found in `set`, which must be ASCII.
    func trimming(_ set: String) -> String {
        let chars = Array(set.utf8)
        let bytes = Array(self.utf8)
        var start = 0
        var end = bytes.count
        while start < end && chars.contains(bytes[start]) { start += 1 }
        while end > start && chars.contains(bytes[end - 1]) { end -= 1 }
        return String(decoding: bytes[start..<end], as: UTF8.self)
    }
}

private func string(_ p: UnsafePointer<CChar>?) -> String {
    guard let p else { return "" }
    return String(cString: p)
}

struct HTMLRenderer {
    let codeBlocks: CodeBlockStyle
    var ids: AnchorSet
    var out = ""
    var headings: [Heading] = []
    /// The anchor of the last h2, for config line ids.
    var currentH2 = ""

    init(codeBlocks: CodeBlockStyle, ids: AnchorSet) {
        self.codeBlocks = codeBlocks
        self.ids = ids
    }

    mutating func renderChildren(_ node: OpaquePointer) {
        var child = cmark_node_first_child(node)
        while let c = child {
            self.render(c)
            child = cmark_node_next(c)
        }
    }

    /// Whether a paragraph is inside a tight list item, where it is rendered without `<p>`.
    func inTightList(_ node: OpaquePointer) -> Bool {
        guard let item = cmark_node_parent(node), let list = cmark_node_parent(item),
            cmark_node_get_type(list) == CMARK_NODE_LIST
        else {
            return false
        }
        return cmark_node_get_list_tight(list) != 0
    }

    /// The plain text of a node's inline content.
    static func plainText(_ node: OpaquePointer) -> String {
        var s = ""
        var child = cmark_node_first_child(node)
        while let c = child {
            let type = cmark_node_get_type(c)
            if type == CMARK_NODE_TEXT || type == CMARK_NODE_CODE {
                s += string(cmark_node_get_literal(c))
            } else if type == CMARK_NODE_SOFTBREAK || type == CMARK_NODE_LINEBREAK {
                s += " "
            } else if type != CMARK_NODE_HTML_INLINE {
                s += Self.plainText(c)
            }
            child = cmark_node_next(c)
        }
        return s
    }

    mutating func render(_ node: OpaquePointer) {
        let type = cmark_node_get_type(node)
        switch type {
        case CMARK_NODE_DOCUMENT:
            self.renderChildren(node)
        case CMARK_NODE_BLOCK_QUOTE:
            self.out += "<blockquote>\n"
            self.renderChildren(node)
            self.out += "</blockquote>\n"
        case CMARK_NODE_LIST:
            let ordered = cmark_node_get_list_type(node) == CMARK_ORDERED_LIST
            let start = cmark_node_get_list_start(node)
            if ordered {
                self.out += start == 1 ? "<ol>\n" : "<ol start=\"\(start)\">\n"
            } else {
                self.out += "<ul>\n"
            }
            self.renderChildren(node)
            self.out += ordered ? "</ol>\n" : "</ul>\n"
        case CMARK_NODE_ITEM:
            self.out += "<li>"
            self.renderChildren(node)
            self.out += "</li>\n"
        case CMARK_NODE_CODE_BLOCK:
            let literal = string(cmark_node_get_literal(node))
            if self.codeBlocks == .config {
                self.renderConfig(literal)
            } else {
                let info = string(cmark_node_get_fence_info(node)).split(separator: " ").first.map(String.init) ?? ""
                self.out += info.isEmpty ? "<pre><code>" : "<pre><code class=\"language-\(escapeHTML(info))\">"
                self.out += escapeHTML(literal)
                self.out += "</code></pre>\n"
            }
        case CMARK_NODE_HTML_BLOCK:
            self.out += string(cmark_node_get_literal(node))
        case CMARK_NODE_PARAGRAPH:
            let tight = self.inTightList(node)
            if !tight {
                self.out += "<p>"
            }
            self.renderChildren(node)
            self.out += tight ? "\n" : "</p>\n"
        case CMARK_NODE_HEADING:
            self.renderHeading(node)
        case CMARK_NODE_THEMATIC_BREAK:
            self.out += "<hr />\n"
        case CMARK_NODE_TEXT:
            self.out += escapeHTML(string(cmark_node_get_literal(node)))
        case CMARK_NODE_SOFTBREAK:
            self.out += "\n"
        case CMARK_NODE_LINEBREAK:
            self.out += "<br />\n"
        case CMARK_NODE_CODE:
            self.out += "<code>" + escapeHTML(string(cmark_node_get_literal(node))) + "</code>"
        case CMARK_NODE_HTML_INLINE:
            self.out += string(cmark_node_get_literal(node))
        case CMARK_NODE_EMPH:
            self.out += "<em>"
            self.renderChildren(node)
            self.out += "</em>"
        case CMARK_NODE_STRONG:
            self.out += "<strong>"
            self.renderChildren(node)
            self.out += "</strong>"
        case CMARK_NODE_LINK:
            self.out += "<a href=\"" + escapeHref(string(cmark_node_get_url(node))) + "\""
            let title = string(cmark_node_get_title(node))
            if !title.isEmpty {
                self.out += " title=\"" + escapeHTML(title) + "\""
            }
            self.out += ">"
            self.renderChildren(node)
            self.out += "</a>"
        case CMARK_NODE_IMAGE:
            self.out += "<img src=\"" + escapeHref(string(cmark_node_get_url(node))) + "\" alt=\""
            self.out += escapeHTML(Self.plainText(node)) + "\""
            let title = string(cmark_node_get_title(node))
            if !title.isEmpty {
                self.out += " title=\"" + escapeHTML(title) + "\""
            }
            self.out += " />"
        default:
            self.renderChildren(node)
        }
    }

    mutating func renderHeading(_ node: OpaquePointer) {
        let level = Int(cmark_node_get_heading_level(node))
        let text = Self.plainText(node)
        let anchor = Anchor.name(text)
        let id = self.ids.unique("hdr-" + anchor)
        self.headings.append(Heading(level: level, text: text, id: id))
        if level == 2 {
            self.currentH2 = anchor
        }
        self.out += "<h\(level) id=\"\(escapeHTML(id))\">"
        self.renderChildren(node)
        if level == 2 {
            // Every h2 links to itself, so readers can copy a link to a section.
            self.out += " <a class=\"self\" href=\"#\(escapeHTML(id))\">#</a>"
        }
        self.out += "</h\(level)>\n"
    }

    /// A config file: one `<div>` per line; comment lines get a class, field lines an id made
    /// of the h2 anchor and the path of nested field names (`-` items are named `dash`).
    mutating func renderConfig(_ text: String) {
        // Thousands of lines: built as bytes over the text's contiguous UTF-8, appended once.
        var out: [UInt8] = []
        out.reserveCapacity(text.utf8.count * 3)
        out += "<div class=\"config\">\n".utf8
        var fields: [String] = []
        let prefix = "cfg-\(self.currentH2)-"
        var text = text
        text.withUTF8 { buf in
            var start = 0
            while start < buf.count {
                var end = start
                while end < buf.count && buf[end] != UInt8(ascii: "\n") { end += 1 }
                let line = UnsafeBufferPointer(rebasing: buf[start..<end])
                start = end + 1
                var depth = 0
                while depth < line.count && line[depth] == UInt8(ascii: "\t") { depth += 1 }
                let body = UnsafeBufferPointer(rebasing: line[depth...])
                if body.first == UInt8(ascii: "#") {
                    out += "<div class=\"comment\">".utf8
                    appendEscaped(&out, line)
                    out += "</div>\n".utf8
                    continue
                }
                if body.isEmpty {
                    out += "<div>\n</div>\n".utf8
                    continue
                }
                if depth < fields.count {
                    fields.removeLast(fields.count - depth)
                }
                while fields.count < depth {
                    // A line indented more than one level deeper than its parent: keep going
                    // with an empty component rather than failing the whole page.
                    fields.append("")
                }
                let isItem = body[0] == UInt8(ascii: "-") && (body.count == 1 || body[1] == UInt8(ascii: " "))
                let word =
                    isItem
                    ? "dash" : String(decoding: body.prefix(while: { $0 != UInt8(ascii: ":") }), as: UTF8.self)
                fields.append(word)
                let id = self.ids.unique(prefix + fields.joined(separator: "-"))
                out += "<div id=\"".utf8
                appendEscaped(&out, id.utf8)
                out += "\">".utf8
                appendEscaped(&out, line)
                out += " <a href=\"#".utf8
                appendEscaped(&out, id.utf8)
                out += "\">#</a></div>\n".utf8
            }
        }
        out += "</div>\n".utf8
        self.out += String(decoding: out, as: UTF8.self)
    }
}

/// Appends `bytes` to `out`, HTML-escaped.
func appendEscaped<C: Collection>(_ out: inout [UInt8], _ bytes: C) where C.Element == UInt8 {
    for b in bytes {
        switch b {
        case 0x26: out += "&amp;".utf8
        case 0x3C: out += "&lt;".utf8
        case 0x3E: out += "&gt;".utf8
        case 0x22: out += "&quot;".utf8
        default: out.append(b)
        }
    }
}

// MARK: - Escaping

/// `&`, `<`, `>` and `"` as HTML entities.
public func escapeHTML<S: StringProtocol>(_ s: S) -> String {
    // Most text needs no escaping: check first, then copy bytes.
    if !s.utf8.contains(where: { $0 == 0x26 || $0 == 0x3C || $0 == 0x3E || $0 == 0x22 }) {
        return String(s)
    }
    var out: [UInt8] = []
    out.reserveCapacity(s.utf8.count + 32)
    for b in s.utf8 {
        switch b {
        case 0x26: out.append(contentsOf: "&amp;".utf8)
        case 0x3C: out.append(contentsOf: "&lt;".utf8)
        case 0x3E: out.append(contentsOf: "&gt;".utf8)
        case 0x22: out.append(contentsOf: "&quot;".utf8)
        default: out.append(b)
        }
    }
    return String(decoding: out, as: UTF8.self)
}

/// Escapes a URL for an attribute the way cmark does: characters that are safe in URLs stay,
/// everything else is percent-encoded, `&` and `'` become entities.
func escapeHref(_ s: String) -> String {
    var out = ""
    for byte in s.utf8 {
        switch byte {
        case UInt8(ascii: "&"):
            out += "&amp;"
        case UInt8(ascii: "'"):
            out += "&#x27;"
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"):
            out.unicodeScalars.append(Unicode.Scalar(byte))
        default:
            if "-_.+!*(),%#@?=;:/$~".utf8.contains(byte) {
                out.unicodeScalars.append(Unicode.Scalar(byte))
            } else {
                let hex = Array("0123456789ABCDEF".utf8)
                out += "%" + String(decoding: [hex[Int(byte >> 4)], hex[Int(byte & 15)]], as: UTF8.self)
            }
        }
    }
    return out
}
