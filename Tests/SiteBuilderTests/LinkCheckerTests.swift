import Foundation
import Testing

@testable import SiteBuilder

struct LinkCheckerTests {
    static let pages: [String: String] = [
        "index.html": """
        <a href="features/">ok</a> <a href="features/#hdr-a">ok anchor</a> <a href="#top">self</a>
        <div id="top"></div><a href="https://example.org/x">external</a> <a href="mailto:a@b">mail</a>
        <a href="features/#hdr-missing">broken anchor</a> <a href="nope/">broken page</a>
        <script>const x = '<a href="ignored/">'</script>
        """,
        "features/index.html": """
        <h2 id="hdr-a">A</h2><a href="../">up</a><a href="../index.html#top">file</a>
        <a href="../../outside/">above root</a><a href="/features/#hdr-a">root-relative</a>
        <a href="#hdr-%C3%BCber">encoded</a><h3 id="hdr-über">Ü</h3>
        <code>&lt;a href="not-a-link/"&gt;</code>
        """,
    ]

    @Test func findsBrokenLinksAndAnchors() {
        let broken = LinkChecker.check(pages: Self.pages)
        #expect(broken.map(\.target) == ["../../outside/", "features/#hdr-missing", "nope/"])
        #expect(broken.map(\.page) == ["features/index.html", "index.html", "index.html"])
        #expect(broken[1].reason.contains("hdr-missing"))
    }

    @Test func checksDirectoriesOnDisk() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("linkcheck-\(getpid())")
        defer { try? FileManager.default.removeItem(at: dir) }
        for (path, html) in Self.pages {
            let file = dir.appendingPathComponent(path)
            try FileManager.default.createDirectory(
                at: file.deletingLastPathComponent(),
                withIntermediateDirectories: true
            )
            try Data(html.utf8).write(to: file)
        }
        let broken = try LinkChecker.check(directory: dir.path)
        #expect(broken.count == 3)
    }

    @Test func emptyDirectoryIsAnError() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("linkcheck-empty-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        #expect(throws: SiteError.self) { try LinkChecker.check(directory: dir.path) }
    }

    @Test func outputReplacesTheWholeDirectory() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("site-out-\(getpid())")
        let prev = dir.deletingLastPathComponent().appendingPathComponent(".\(dir.lastPathComponent)-prev")
        defer {
            try? FileManager.default.removeItem(at: dir)
            try? FileManager.default.removeItem(at: prev)
        }
        func read(_ rel: String) throws -> String {
            try String(contentsOf: dir.appendingPathComponent(rel), encoding: .utf8)
        }
        try SiteOutput.write([SitePage(dir: "", html: "one"), SitePage(dir: "old/", html: "old")], to: dir.path)
        #expect(try read("old/index.html") == "old")
        // The second and third builds reuse the previous site's directory.
        try SiteOutput.write([SitePage(dir: "", html: "two"), SitePage(dir: "new/", html: "new")], to: dir.path)
        #expect(try read("index.html") == "two")
        #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("old").path))
        try SiteOutput.write([SitePage(dir: "", html: "three")], to: dir.path)
        #expect(try read("index.html") == "three")
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["index.html"])
        // Only the kept previous site remains beside the output.
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: dir.deletingLastPathComponent().path)
            .filter { $0.hasPrefix(".\(dir.lastPathComponent)-") }
        #expect(leftovers == [prev.lastPathComponent])
    }
}
