/// SiteBuilder turns the project's Markdown, README sections, rfc/index.txt, the annotated
/// config files and the command tree into the pages of the website, checks the links of a
/// built site, and writes a site to disk atomically.
///
/// Depends on libcmark (through CCMark) and Foundation only: never on NIO or on the server's
/// modules. The config and command references arrive as values from the caller.

import FoundationEssentials
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// A build or check problem, with the file it concerns in the message.
public struct SiteError: Error, CustomStringConvertible, Equatable, Sendable {
    public var message: String

    public init(_ message: String) {
        self.message = message
    }

    public var description: String { self.message }
}

/// Everything a site is made from, already read from disk.
public struct SiteSources: Sendable {
    /// website/index.md
    public var index: String
    /// website/features/index.md
    public var features: String
    /// website/screenshots/index.md
    public var screenshots: String
    /// website/install/index.md
    public var install: String
    /// website/protocols/summary.md
    public var protocolsSummary: String
    /// README.md, for the Roadmap/Not planned sections and the FAQ.
    public var readme: String
    /// rfc/index.txt
    public var rfcIndex: String
    /// The annotated mox.conf and domains.conf, computed while other pages render.
    public var staticConfigExample: @Sendable () -> String
    public var dynamicConfigExample: @Sendable () -> String
    /// `mox config example`'s snippets, as (name, text), for the config reference.
    public var configExamples: @Sendable () -> [(String, String)]
    /// The command tree of the mox binary. Called while other pages render, so a helper
    /// process can finish in the meantime.
    public var commands: @Sendable () throws -> CommandTree
    /// The commit for the footer; may wait for a helper process, so it is asked for late.
    public var commit: @Sendable () -> CommitInfo

    public init(
        index: String,
        features: String,
        screenshots: String,
        install: String,
        protocolsSummary: String,
        readme: String,
        rfcIndex: String,
        staticConfigExample: @escaping @Sendable () -> String,
        dynamicConfigExample: @escaping @Sendable () -> String,
        configExamples: @escaping @Sendable () -> [(String, String)] = { [] },
        commands: @escaping @Sendable () throws -> CommandTree,
        commit: @escaping @Sendable () -> CommitInfo
    ) {
        self.index = index
        self.features = features
        self.screenshots = screenshots
        self.install = install
        self.protocolsSummary = protocolsSummary
        self.readme = readme
        self.rfcIndex = rfcIndex
        self.staticConfigExample = staticConfigExample
        self.dynamicConfigExample = dynamicConfigExample
        self.configExamples = configExamples
        self.commands = commands
        self.commit = commit
    }
}

/// One output page: its directory in the site ("" for the root) and its HTML.
public struct SitePage: Sendable, Equatable {
    public var dir: String
    public var html: String

    /// The file path inside the output directory.
    public var path: String { self.dir + "index.html" }
}

public struct SiteOptions: Sendable {
    /// Add the script that reloads the page when the preview server has rebuilt the site.
    public var liveReload: Bool

    public init(liveReload: Bool = false) {
        self.liveReload = liveReload
    }
}

public enum SiteBuilder {
    /// The script that built pages carry in preview mode: it reloads the page when the
    /// preview server has finished a new build.
    public static var liveReloadScript: String { Layout.liveReloadScript }

    /// The text that splits the root page into its two columns.
    public static let rootSplit = "## Quickstart demo"

    /// Builds all nine pages. Pages render in parallel, on as many cores as there are.
    public static func build(_ src: SiteSources, options: SiteOptions = SiteOptions()) throws(SiteError) -> [SitePage] {
        let frame = { @Sendable (dir: String, title: String, body: String) -> SitePage in
            SitePage(
                dir: dir,
                html: Layout.page(
                    dir: dir,
                    title: title,
                    body: body,

                    liveReload: options.liveReload
                )
            )
        }
        // The largest jobs go first, so that the small ones fill in around them: the command
        // reference (the argument parser's own dump of the command tree), then the config
        // reference, whose two files are described by two jobs.
        let dynamicExample = Once(src.dynamicConfigExample)
        let jobs: [@Sendable () throws -> SitePage?] = [
            {
                let markdown = CommandReference.markdown(try src.commands())
                return frame("commands/", "Command reference - Mox", Self.standardBody(markdown))
            },
            {
                let md = Self.configMarkdown(
                    staticExample: src.staticConfigExample(),
                    dynamicExample: dynamicExample.value,
                    examples: src.configExamples()
                )
                return frame("config/", "Config reference - Mox", Self.standardBody(md, codeBlocks: .config))
            },
            {
                _ = dynamicExample.value
                return nil
            },
            {
                let root = try Self.rootBody(src.index)
                return frame("", root.title, root.body)
            },
            {
                let roadmap = try Self.readmeSection(src.readme, from: "# Roadmap", to: "# FAQ")
                let features =
                    src.features + "\n\n" + "#" + roadmap + "\n\n"
                    + "See the [Protocols](../protocols/) page for the implementation status of each RFC.\n"
                return frame("features/", "Features - Mox", Self.standardBody(features))
            },
            { frame("screenshots/", "Screenshots - Mox", Self.standardBody(src.screenshots)) },
            { frame("install/", "Install - Mox", Self.standardBody(src.install)) },
            {
                let faq = try Self.readmeSection(src.readme, from: "# FAQ", to: nil)
                return frame("faq/", "FAQ - Mox", Self.standardBody(faq))
            },
            {
                let topics = try RFCIndex.parse(src.rfcIndex)
                var ids = AnchorSet()
                let summary = Markdown.render(src.protocolsSummary, ids: &ids)
                return frame("protocols/", "Protocols - Mox", summary.html + RFCIndex.html(topics))
            },
            { SitePage(dir: "b/", html: BuildPage.html(liveReload: options.liveReload)) },
        ]
        let results = ResultSlots(count: jobs.count)
        Threads.parallel(jobs.count) { i in
            results.set(i, Result { try jobs[i]() })
        }
        var pages: [SitePage] = []
        for result in results.all() {
            switch result {
            case .success(let page):
                if let page {
                    pages.append(page)
                }
            case .failure(let error as SiteError):
                throw error
            case .failure(let error):
                throw SiteError("\(error)")
            }
        }
        // Pages render with a placeholder footer, so none waits for git; the commit goes in last.
        let footer = Layout.footer(src.commit())
        for i in pages.indices {
            pages[i].html = Layout.fillFooter(pages[i].html, footer)
        }
        let order = ["", "features/", "screenshots/", "install/", "faq/", "config/", "commands/", "protocols/", "b/"]
        return pages.sorted { (order.firstIndex(of: $0.dir) ?? 99) < (order.firstIndex(of: $1.dir) ?? 99) }
    }

    // MARK: - Page bodies

    /// The root page: its first two lines are the title and subtitle of a header block; the
    /// rest is split at `## Quickstart demo` into two columns.
    static func rootBody(_ markdown: String) throws(SiteError) -> (title: String, body: String) {
        let lines = markdown.split(separator: "\n", maxSplits: 2, omittingEmptySubsequences: false)
        guard lines.count >= 2 else {
            throw SiteError("website/index.md: the first two lines must be the page's title and subtitle")
        }
        let title = String(lines[0]).trimming("# \t")
        let subtitle = String(lines[1]).trimming("# \t")
        let rest = lines.count > 2 ? String(lines[2]) : ""
        guard
            let split = rest.firstRange(of: "\n" + Self.rootSplit)
                ?? (rest.hasPrefix(Self.rootSplit) ? rest.firstRange(of: Self.rootSplit) : nil)
        else {
            throw SiteError(
                "website/index.md: missing the \"\(Self.rootSplit)\" heading that splits the page into two columns"
            )
        }
        var ids = AnchorSet()
        let left = Markdown.render(String(rest[..<split.lowerBound]), ids: &ids)
        let right = Markdown.render(String(rest[split.lowerBound...]), ids: &ids)
        let body = """
            <div class="rootheader">
            <h1>\(escapeHTML(title))</h1>
            <p>\(escapeHTML(subtitle))</p>
            </div>
            <div class="two"><div>
            \(left.html)</div><div>
            \(right.html)</div></div>
            """
        return (title.isEmpty ? "Mox" : title, body)
    }

    /// A regular page: the leading `# Title` becomes the h1, followed by a table of contents
    /// of the h2s (two columns when there are more than six), then the content.
    public static func standardBody(_ markdown: String, codeBlocks: CodeBlockStyle = .plain) -> String {
        var content = markdown
        var title: String?
        if content.hasPrefix("# ") {
            let parts = content.split(separator: "\n", maxSplits: 1, omittingEmptySubsequences: false)
            title = String(parts[0].dropFirst(2)).trimming(" \t#")
            content = parts.count > 1 ? String(parts[1]) : ""
        }
        var ids = AnchorSet()
        var titleHTML = ""
        if let title {
            let id = ids.unique("hdr-" + Anchor.name(title))
            titleHTML = "<h1 id=\"\(escapeHTML(id))\">\(escapeHTML(title))</h1>\n"
        }
        let rendered = Markdown.render(content, codeBlocks: codeBlocks, ids: &ids)
        return titleHTML + Self.toc(rendered.headings.filter { $0.level == 2 }) + rendered.html
    }

    static func toc(_ h2s: [Heading]) -> String {
        if h2s.isEmpty {
            return ""
        }
        let columns = h2s.count > 6 ? 2 : 1
        let perColumn = (h2s.count + columns - 1) / columns
        var s = "<div class=\"toc\">\n"
        var i = 0
        while i < h2s.count {
            s += "<ul>\n"
            for h in h2s[i..<min(i + perColumn, h2s.count)] {
                s += "<li><a href=\"#\(escapeHTML(h.id))\">\(escapeHTML(h.text))</a></li>\n"
            }
            s += "</ul>\n"
            i += perColumn
        }
        return s + "</div>\n"
    }

    /// The README from the line starting with `from` up to (not including) the line starting
    /// with `to`, or to the end.
    static func readmeSection(_ readme: String, from: String, to: String?) throws(SiteError) -> String {
        // Byte-level line scanning: the README is the largest source.
        let bytes = Array(readme.utf8)
        func isHeading(_ start: Int, _ heading: String) -> Bool {
            let h = Array(heading.utf8)
            guard start + h.count <= bytes.count, Array(bytes[start..<start + h.count]) == h else { return false }
            let end = start + h.count
            return end == bytes.count || bytes[end] == UInt8(ascii: "\n") || bytes[end] == UInt8(ascii: " ")
        }
        var lineStarts = [0]
        for (i, b) in bytes.enumerated() where b == UInt8(ascii: "\n") && i + 1 < bytes.count {
            lineStarts.append(i + 1)
        }
        guard let startIndex = lineStarts.firstIndex(where: { isHeading($0, from) }) else {
            throw SiteError("README.md: missing the \"\(from)\" section")
        }
        var end = bytes.count
        if let to {
            guard let e = lineStarts[(startIndex + 1)...].first(where: { isHeading($0, to) }) else {
                throw SiteError("README.md: missing the \"\(to)\" section after \"\(from)\"")
            }
            end = e
        }
        return String(decoding: bytes[lineStarts[startIndex]..<end], as: UTF8.self)
    }

    static func configMarkdown(staticExample: String, dynamicExample: String, examples: [(String, String)] = []) -> String {
        var sections = ""
        if !examples.isEmpty {
            sections += "## Examples\n\nAnnotated snippets for common set-ups. `mox config example` lists their names, "
            sections += "and `mox config example <name>` prints one.\n\n"
            for (name, text) in examples {
                sections += "## Example \(name)\n\n```\n\(text)```\n\n"
            }
        }
        return Self.configMarkdownBody(staticExample: staticExample, dynamicExample: dynamicExample) + sections
    }

    static func configMarkdownBody(staticExample: String, dynamicExample: String) -> String {
        """
        # Config reference

        The server reads two configuration files, both in the sconf format. `mox.conf` is the static \
        configuration: it is read once at start, and changes take effect after a restart. `domains.conf` is \
        the dynamic configuration, with domains and accounts: the server reloads it when it changes, and keeps \
        the previous version when the new one has an error.

        The annotated files below are generated from the definitions in the server's code, with each field's \
        documentation written as comments. Every field line has an anchor: hover over it and follow the `#` \
        to link to it. Keys named `x` stand for names you choose, such as a listener, domain or account name.

        ## sconf

        - Nesting is done with tabs, one tab per level. Spaces are not indentation.
        - A line is `Key: value`; the value runs to the end of the line. There is no quoting or escaping, \
        and a value cannot span lines.
        - Maps and lists begin on the line after their key, one tab deeper. List items are lines starting \
        with `-`; an item that is itself a group of fields is a `-` alone with the fields below it.
        - A line whose first non-blank character is `#` is a comment. A line with a value cannot also \
        carry a comment.
        - Optional fields may be left out. Required fields must be present, and unknown fields are errors.
        - `mox config test` checks both files and reports each problem with its file, line and field.

        ## mox.conf

        ```
        \(staticExample)```

        ## domains.conf

        ```
        \(dynamicExample)```

        """
    }
}

/// Results of parallel jobs, one slot each.
final class ResultSlots: @unchecked Sendable {
    private let slots: Mutex<[Result<SitePage?, any Error>?]>

    init(count: Int) {
        self.slots = Mutex(Array(repeating: nil, count: count))
    }

    func set(_ i: Int, _ result: Result<SitePage?, any Error>) {
        self.slots.withLock { $0[i] = result }
    }

    func all() -> [Result<SitePage?, any Error>] {
        self.slots.withLock { $0.compactMap { $0 } }
    }
}

/// A value computed on first use, by whichever thread asks first; the others wait for it.
final class Once<Value: Sendable>: @unchecked Sendable {
    private let compute: @Sendable () -> Value
    private let state = Mutex<Value?>(nil)

    init(_ compute: @escaping @Sendable () -> Value) {
        self.compute = compute
    }

    var value: Value {
        self.state.withLock { cached in
            if let cached {
                return cached
            }
            let v = self.compute()
            cached = v
            return v
        }
    }
}
