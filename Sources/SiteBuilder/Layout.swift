// The frame around every page: head with inline CSS, navigation, footer.

/// The pages in navigation order: directory (empty for the root) and link text.
public let siteNavigation: [(dir: String, name: String)] = [
    ("", "Mox"),
    ("features/", "Features"),
    ("screenshots/", "Screenshots"),
    ("install/", "Install"),
    ("faq/", "FAQ"),
    ("config/", "Config reference"),
    ("commands/", "Command reference"),
    ("protocols/", "Protocols"),
]

/// The commit the site was built from, shown in every page's footer.
public struct CommitInfo: Sendable, Equatable {
    public var date: String
    public var hash: String

    public init(date: String, hash: String) {
        self.date = date
        self.hash = hash
    }
}

enum Layout {
    /// Wraps `body` into a complete page. `dir` is the page's directory ("" for the root);
    /// links are made relative so the site works from any base path and from files.
    static func page(
        dir: String,
        title: String,
        body: String,
        liveReload: Bool
    ) -> String {
        let up = dir.isEmpty ? "./" : String(repeating: "../", count: dir.split(separator: "/").count)
        var nav = ""
        for (target, name) in siteNavigation {
            let href = target.isEmpty ? up : up + target
            if target == dir {
                nav +=
                    "<li><a href=\"\(href)\" class=\"current\" aria-current=\"page\" style=\"font-weight: bold\">\(escapeHTML(name))</a></li>\n"
            } else {
                nav += "<li><a href=\"\(href)\">\(escapeHTML(name))</a></li>\n"
            }
        }
        return """
            <!doctype html>
            <html lang="en">
            <head>
            <meta charset="utf-8" />
            <title>\(escapeHTML(title))</title>
            <meta name="viewport" content="width=device-width, initial-scale=1" />
            <link rel="icon" href="data:," />
            <style>
            \(stylesheet)
            </style>
            </head>
            <body>
            <div class="frame">
            <nav class="nav">
            <ul>
            \(nav)</ul>
            </nav>
            <main class="main">
            \(body)
            <footer class="meta">\(Self.footerPlaceholder)</footer>
            </main>
            </div>
            \(liveReload ? liveReloadScript : "")</body>
            </html>

            """
    }

    /// The footer's commit line; empty without commit information.
    static func footer(_ commit: CommitInfo) -> String {
        if commit.date.isEmpty && commit.hash.isEmpty {
            return ""
        }
        return "<span class=\"commit\">\(escapeHTML(commit.date)), commit \(escapeHTML(commit.hash))</span>"
    }

    /// Stands in for the footer while pages render, so they need not wait for the commit
    /// information (which comes from git); `SiteBuilder.build` puts the real one in last.
    static let footerPlaceholder = "<!--sitegen:commit-->"

    /// Puts `footer` in the place of the placeholder, found from the end of the page (where
    /// the footer is) with a byte search: a generic string search over whole pages is slow.
    static func fillFooter(_ html: String, _ footer: String) -> String {
        let needle = Array(Self.footerPlaceholder.utf8)
        let utf8 = html.utf8
        var end = utf8.endIndex
        while end != utf8.startIndex {
            let start = utf8.index(end, offsetBy: -needle.count, limitedBy: utf8.startIndex) ?? utf8.startIndex
            if utf8.distance(from: start, to: end) < needle.count {
                break
            }
            if utf8[start..<end].elementsEqual(needle) {
                return String(html[..<start]) + footer + String(html[end...])
            }
            end = utf8.index(before: end)
        }
        return html
    }

    /// Polls the preview server, which answers when the site was rebuilt; then the page reloads.
    static let liveReloadScript = """
        <script>
        (() => {
        \tlet generation = null
        \tconst poll = async () => {
        \t\ttry {
        \t\t\tconst r = await fetch('/_sitegen/wait?generation=' + (generation ?? ''), {cache: 'no-store'})
        \t\t\tconst g = await r.text()
        \t\t\tif (generation !== null && g !== generation) { location.reload(); return }
        \t\t\tgeneration = g
        \t\t\tsetTimeout(poll, 10)
        \t\t} catch (e) {
        \t\t\tsetTimeout(poll, 1000)
        \t\t}
        \t}
        \tpoll()
        })()
        </script>

        """

    static let stylesheet = """
        :root { --accent: #2a6f97; --muted: #5c6670; --code-bg: #f4f5f7; --line: #e3e6ea; }
        * { box-sizing: border-box; }
        html { scroll-padding-top: 3ex; -webkit-text-size-adjust: 100%; }
        body { margin: 0; font: 17px/1.55 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; color: #1d2329; background: #fff; }
        a { color: var(--accent); }
        .frame { display: flex; min-height: 100vh; }
        .nav { flex: 0 0 auto; padding: 1.25em 1.5em; background: #f6f7f9; border-right: 1px solid var(--line); }
        .nav ul { list-style: none; margin: 0; padding: 0; position: sticky; top: 1.25em; }
        .nav li { margin: .3ex 0; white-space: nowrap; }
        .nav a { text-decoration: none; }
        .nav a.current { color: #1d2329; }
        .main { flex: 1 1 auto; min-width: 0; padding: 1.25em 2em 2em; max-width: 72em; }
        p, ul, ol, dl, blockquote, table { max-width: 48em; }
        h1 { font-size: 1.75em; margin: .5ex 0 1ex; }
        h2 { font-size: 1.3em; margin: 2.5ex 0 1ex; padding-bottom: .3ex; border-bottom: 2px solid var(--line); }
        h3 { font-size: 1.1em; margin: 2ex 0 .75ex; }
        h2 > a.self, .config a, .rfcs .topic a { opacity: 0; text-decoration: none; margin-left: .25em; }
        h2:hover > a.self, .config > div:hover > a, .rfcs .topic:hover a, a.self:focus { opacity: 1; }
        code, pre, .config { font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, "DejaVu Sans Mono", monospace; font-size: .9em; }
        code { background: var(--code-bg); padding: .05em .3em; border-radius: 3px; }
        pre, .config { background: var(--code-bg); padding: .9em 1em; border-radius: 6px; overflow-x: auto; max-width: 100%; }
        pre code { background: none; padding: 0; font-size: 1em; }
        pre { white-space: pre-wrap; word-break: break-word; }
        .config > div { white-space: pre-wrap; tab-size: 4; min-height: 1em; }
        .config .comment { color: var(--muted); }
        .config > div:target { background: #fff3b0; }
        blockquote { margin-left: 0; padding-left: 1em; border-left: 3px solid var(--line); color: var(--muted); }
        table { border-collapse: collapse; margin-bottom: 2ex; }
        td, th { padding: .2ex .6em; vertical-align: top; }
        .rfcs th { text-align: left; }
        .rfcs tr.obsolete { opacity: .45; }
        .rfcs .topic { font-weight: bold; padding-top: 3ex; }
        .status { display: inline-block; padding: 0 .4em; border-radius: 3px; }
        .implemented { background: #c9f29b; }
        .partial { background: #f7f38a; }
        .roadmap { background: #ffd6a0; }
        .notimplemented { background: #f9c4f2; }
        .unknown { background: #dcdcdc; }
        .rootheader { display: inline-block; padding: .5ex 2em .5ex 1em; margin-bottom: 2ex; border-radius: 6px; background: linear-gradient(90deg, #cde8f6, #e3f3e9); }
        .rootheader h1 { margin: 0; }
        .rootheader p { margin: 0; font-size: 1.15em; }
        .two { display: flex; gap: 2.5em; }
        .two > div { flex: 1 1 50%; min-width: 0; }
        .toc { display: flex; gap: 2.5em; margin-bottom: 3ex; }
        .toc ul { margin: 0; padding-left: 1.2em; }
        .meta { margin-top: 4ex; padding-top: 1ex; border-top: 1px solid var(--line); color: var(--muted); font-size: .85em; }
        @media (max-width: 900px) {
        \t.frame { display: block; }
        \t.nav { border-right: none; border-bottom: 1px solid var(--line); padding: .75em 1em; }
        \t.nav ul { position: static; }
        \t.nav li { display: inline-block; margin: 0 .9em .3ex 0; }
        \t.main { padding: 1em; }
        \t.two, .toc { display: block; }
        }
        """
}
