import Testing

@testable import SiteBuilder

struct AnchorTests {
    @Test(arguments: [
        ("Localserve", "localserve"),
        ("SPF/DKIM/DMARC", "spf-dkim-dmarc"),
        ("DANE and MTA-STS", "dane-and-mta-sts"),
        ("  Hello,  World!  ", "hello-world"),
        ("What's new?", "what-s-new"),
        ("IMAP4rev2 (RFC 9051)", "imap4rev2-rfc-9051"),
        ("mox.conf", "mox-conf"),
        ("C++ / Swift 6.3", "c-swift-6-3"),
        ("Über Größe", "über-größe"),
        ("ÉCOLE Ça va", "école-ça-va"),
        ("日本語 テスト", "日本語-テスト"),
        ("Ünïcödé—dash…end", "ünïcödé-dash-end"),
        ("x²", "x²"),
        ("---", ""),
        ("", ""),
        ("a_b c-d", "a-b-c-d"),
        ("Can I use `mox` here?", "can-i-use-mox-here"),
    ])
    func headingIDs(input: String, expected: String) {
        #expect(Anchor.name(input) == expected)
    }

    @Test func uniqueIDs() {
        var set = AnchorSet()
        #expect(set.unique("hdr-a") == "hdr-a")
        #expect(set.unique("hdr-a") == "hdr-a-1")
        #expect(set.unique("hdr-a") == "hdr-a-2")
        #expect(set.unique("hdr-a-1-x") == "hdr-a-1-x")
    }

    @Test func headingsInMarkdownGetIDsAndSelfLinks() {
        var ids = AnchorSet()
        let r = Markdown.render(
            "# Title\n\n## SPF/DKIM/DMARC\n\n### The `mox` binary\n\n## SPF/DKIM/DMARC\n",
            ids: &ids
        )
        #expect(r.html.contains("<h1 id=\"hdr-title\">Title</h1>"))
        #expect(
            r.html.contains(
                "<h2 id=\"hdr-spf-dkim-dmarc\">SPF/DKIM/DMARC <a class=\"self\" href=\"#hdr-spf-dkim-dmarc\">#</a></h2>"
            )
        )
        #expect(r.html.contains("<h3 id=\"hdr-the-mox-binary\">The <code>mox</code> binary</h3>"))
        #expect(r.html.contains("id=\"hdr-spf-dkim-dmarc-1\""))
        #expect(r.headings.map(\.level) == [1, 2, 3, 2])
    }
}
