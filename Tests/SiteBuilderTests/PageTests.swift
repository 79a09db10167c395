import Foundation
import Testing

@testable import SiteBuilder

struct PageTests {
    static func sources(index: String = fixture("index.md"), readme: String? = nil) throws -> SiteSources {
        SiteSources(
            index: index,
            features: "# Features\n\nIntro.\n\n## Localserve\n\nRun it locally.\n",
            screenshots: "# Screenshots\n\nNone yet.\n",
            install: "# Install\n\n## Build\n\nRun `make`.\n",
            protocolsSummary: "# Protocols\n\nSee [SMTP](#topic-smtp-submission).\n",
            readme: readme
                ?? "# Project\n\nIntro.\n\n# Roadmap\n\n- More\n\n## Not planned\n\n- POP3\n\n# FAQ\n\n## Why?\n\nBecause.\n",
            rfcIndex: fixture("rfc-index.txt"),
            staticConfigExample: { "# Header\n\n\n# Doc\nDataDir:\n" },
            dynamicConfigExample: { "Domains:\n\tx:\n" },
            commands: { try CommandTree.decode(Array(fixture("commands.json").utf8)) },
            commit: { CommitInfo(date: "2026-11-25", hash: "abc1234") }
        )
    }

    @Test func rootPageIsSplitIntoHeaderAndTwoColumns() throws {
        let root = try SiteBuilder.rootBody(fixture("index.md"))
        #expect(root.title == "Mox test site")
        assertSnapshot(root.body, named: "root-body.html")
    }

    @Test func rootPageWithoutSplitHeadingFails() {
        #expect(throws: SiteError.self) {
            try SiteBuilder.rootBody("# T\n## S\n\nNo split here.\n")
        }
    }

    @Test func tocHasOneColumnUpToSixHeadings() {
        let md = "# Title\n\n" + (1...6).map { "## Section \($0)\n\nText.\n" }.joined(separator: "\n")
        let body = SiteBuilder.standardBody(md)
        #expect(body.components(separatedBy: "<ul>").count - 1 == 1)
        assertSnapshot(body, named: "toc-one-column.html")
    }

    @Test func tocHasTwoColumnsAboveSixHeadings() {
        let md = "# Title\n\n" + (1...7).map { "## Section \($0)\n\nText.\n" }.joined(separator: "\n")
        let body = SiteBuilder.standardBody(md)
        #expect(body.components(separatedBy: "<ul>").count - 1 == 2)
        assertSnapshot(body, named: "toc-two-columns.html")
    }

    @Test func configLinesGetIDs() {
        let md = SiteBuilder.configMarkdown(
            staticExample: """
                # Header comment.


                # The data directory.
                DataDir:

                # Listeners. (optional)
                Listeners:
                \tx:
                \t\tIPs:
                \t\t\t-
                \t\tSMTP:
                \t\t\tEnabled: false

                """,
            dynamicExample: "Domains:\n\tx:\n\t\tDKIM:\n\t\t\tSign:\n\t\t\t\t-\nAccounts:\n\tx:\n"
        )
        let body = SiteBuilder.standardBody(md, codeBlocks: .config)
        #expect(
            body.contains("<div id=\"cfg-mox-conf-DataDir\">DataDir: <a href=\"#cfg-mox-conf-DataDir\">#</a></div>")
        )
        #expect(body.contains("id=\"cfg-mox-conf-Listeners-x-IPs-dash\""))
        #expect(body.contains("id=\"cfg-mox-conf-Listeners-x-SMTP-Enabled\""))
        #expect(body.contains("id=\"cfg-domains-conf-Domains-x-DKIM-Sign-dash\""))
        #expect(body.contains("id=\"cfg-domains-conf-Accounts-x\""))
        #expect(body.contains("<div class=\"comment\"># The data directory.</div>"))
        assertSnapshot(body, named: "config-body.html")
    }

    @Test func protocolsTableHidesRowsAndMarksObsolete() throws {
        let topics = try RFCIndex.parse(fixture("rfc-index.txt"))
        #expect(topics.map(\.title) == ["Internet Message Format", "SMTP / Submission"])
        #expect(topics[0].rfcs.map(\.number) == [822, 2045, 3676])
        #expect(topics[0].rfcs[0].obsolete)
        #expect(topics[1].anchor == "smtp-submission")
        #expect(topics[1].rfcs[1].obsolete && topics[1].rfcs[1].status == .unknown)
        assertSnapshot(RFCIndex.html(topics), named: "protocols-table.html")
    }

    @Test func protocolsUnknownStatusNamesTheLine() {
        #expect(
            throws: SiteError(
                "rfc/index.txt:3: unknown status \"Maybe\" (use Yes, Partial, Roadmap, No, ?, or start it with - to hide the row)"
            )
        ) {
            try RFCIndex.parse("# Topic\n1\tYes\t-\tOne\n2\tMaybe\t-\tTwo\n")
        }
    }

    @Test func commandReference() throws {
        let tree = try CommandTree.decode(Array(fixture("commands.json").utf8))
        let md = CommandReference.markdown(tree)
        #expect(md.contains("mox [-config config/mox.conf] ...\n"))
        #expect(md.contains("mox localserve [-dir dir] [-initonly] $file ...\n"))
        #expect(!md.contains("secret"))
        #expect(!md.contains("--help"))
        assertSnapshot(md, named: "commands.md")
    }

    @Test func wholeSiteHasNinePagesAndNoBrokenLinks() throws {
        let pages = try SiteBuilder.build(try Self.sources())
        #expect(
            pages.map(\.dir) == [
                "", "features/", "screenshots/", "install/", "faq/", "config/", "commands/", "protocols/", "b/",
            ]
        )
        for page in pages {
            #expect(page.html.contains("2026-11-25, commit abc1234"))
            #expect(!page.html.contains("/_sitegen/wait"))
        }
        // The current page is bold in the navigation.
        #expect(
            pages[1].html.contains(
                "<a href=\"../features/\" class=\"current\" aria-current=\"page\" style=\"font-weight: bold\">Features</a>"
            )
        )
        #expect(pages[1].html.contains("id=\"hdr-roadmap\""))
        #expect(pages[1].html.contains("id=\"hdr-not-planned\""))
        #expect(pages[1].html.contains("href=\"../protocols/\""))
        #expect(!pages[1].html.contains("hdr-why"))
        #expect(pages[4].html.contains("<h1 id=\"hdr-faq\">FAQ</h1>"))
        var files: [String: String] = [:]
        for page in pages {
            files[page.path] = page.html
        }
        #expect(LinkChecker.check(pages: files) == [])
        assertSnapshot(pages[2].html, named: "screenshots-page.html")
    }

    @Test func liveReloadScriptOnlyWhenServing() throws {
        let pages = try SiteBuilder.build(try Self.sources(), options: SiteOptions(liveReload: true))
        #expect(pages.allSatisfy { $0.html.contains("/_sitegen/wait") })
    }

    @Test func readmeWithoutFAQFails() {
        #expect(throws: SiteError.self) {
            try SiteBuilder.build(try Self.sources(readme: "# Roadmap\n\n- x\n"))
        }
    }
}
