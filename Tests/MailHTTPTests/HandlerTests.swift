// The pure parts of the handlers: ranges, dates, listings, redirects, forward URLs, client
// configuration documents and the MTA-STS policy.

import MailAddress
import MailConfig
@testable import MailHTTP
import MailMetrics
import NIOCore
#if canImport(Glibc)
import Glibc
#endif
import Testing

@Suite struct StaticFileTests {
    @Test func byteRanges() {
        // RFC 9110 14.1.2
        #expect(StaticFiles.ranges(nil, size: 1000) == .whole)
        #expect(StaticFiles.ranges("bytes=0-99", size: 1000) == .ranges([0..<100]))
        #expect(StaticFiles.ranges("bytes=900-", size: 1000) == .ranges([900..<1000]))
        #expect(StaticFiles.ranges("bytes=-100", size: 1000) == .ranges([900..<1000]))
        #expect(StaticFiles.ranges("bytes=-5000", size: 1000) == .ranges([0..<1000]))
        #expect(StaticFiles.ranges("bytes=990-2000", size: 1000) == .ranges([990..<1000]))
        #expect(StaticFiles.ranges("bytes=0-1, 5-6", size: 1000) == .ranges([0..<2, 5..<7]))
        #expect(StaticFiles.ranges("bytes=1000-", size: 1000) == .unsatisfiable)
        #expect(StaticFiles.ranges("bytes=-0", size: 1000) == .unsatisfiable)
        // Syntax errors and other units: the range is ignored, the whole file is sent.
        #expect(StaticFiles.ranges("bytes=5-1", size: 1000) == .whole)
        #expect(StaticFiles.ranges("bytes=a-b", size: 1000) == .whole)
        #expect(StaticFiles.ranges("items=0-1", size: 1000) == .whole)
    }

    @Test func httpDatesBothWays() {
        // RFC 9110 5.6.7's example date.
        #expect(StaticFiles.httpDate(784_111_777) == "Sun, 06 Nov 1994 08:49:37 GMT")
        #expect(StaticFiles.parseHTTPDate("Sun, 06 Nov 1994 08:49:37 GMT") == 784_111_777)
        #expect(StaticFiles.parseHTTPDate("yesterday") == nil)
    }

    @Test func contentTypesByNameThenContent() {
        #expect(StaticFiles.contentType(forName: "index.HTML") == "text/html; charset=utf-8")
        #expect(StaticFiles.contentType(forName: "a.css") == "text/css; charset=utf-8")
        #expect(StaticFiles.contentType(forName: "noext") == nil)
        #expect(StaticFiles.contentType(forName: "dir.d/noext") == nil)
        #expect(StaticFiles.sniff(ArraySlice(Array("<!DOCTYPE html><p>x".utf8))).hasPrefix("text/html"))
        #expect(StaticFiles.sniff(ArraySlice(Array("plain words\n".utf8))).hasPrefix("text/plain"))
        #expect(StaticFiles.sniff(ArraySlice([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) == "image/png")
        #expect(StaticFiles.sniff(ArraySlice([0, 1, 2, 3])) == "application/octet-stream")
    }

    @Test func joinNeverLeavesTheRoot() {
        #expect(StaticFiles.join("web", "/a/b.txt") == "web/a/b.txt")
        #expect(StaticFiles.join("web/", "/a") == "web/a")
        #expect(StaticFiles.join("", "/a") == "./a")
    }

    @Test func listingsEscapeNamesAndSortThem() {
        let entries = [
            StaticFiles.ListingEntry(name: "b<script>.txt", isDirectory: false, size: 2_500_000, modified: 784_111_777),
            StaticFiles.ListingEntry(name: "a dir", isDirectory: true, size: 4096, modified: 784_111_777),
        ]
        let html = StaticFiles.listingHTML(entries: entries, atRoot: false)
        #expect(!html.contains("<script>"))
        #expect(html.contains("b&lt;script&gt;.txt"))
        #expect(html.contains("href=\"a%20dir/\""))
        #expect(html.contains("href=\"..\"") || html.contains("href=\"../\""))
        let a = try! #require(html.firstRange(of: "a dir"))
        let b = try! #require(html.firstRange(of: "b&lt;script"))
        #expect(a.lowerBound < b.lowerBound)
        #expect(!StaticFiles.listingHTML(entries: [], atRoot: true).contains("href=\"..\""))
    }
}

@Suite struct RedirectTests {
    @Test func origPathRegexpReplacesTheMatch() throws {
        let config = try testConfig()
        let handlers = CompiledWebHandler.compile(config.dynamicConfig.webHandlers)
        let plan = WebRedirects.plan(handlers[1], scheme: "https", host: "example.org", path: "/old/a/b", query: "q=1")
        #expect(plan == .redirect(status: 307, location: "/new/a/b?q=1"))
    }

    @Test func baseURLKeepsPathAndMergesQuery() throws {
        let config = try testConfig()
        let handlers = CompiledWebHandler.compile(config.dynamicConfig.webHandlers)
        let plan = WebRedirects.plan(handlers[2], scheme: "http", host: "example.org", path: "/site/x", query: "y=2")
        #expect(plan == .redirect(status: 308, location: "https://www.example.org/site/x?x=1&y=2"))
        // A redirect to exactly the request is left to the next handler instead of looping.
        let loop = WebRedirects.plan(handlers[2], scheme: "https", host: "www.example.org", path: "/site/x", query: nil)
        #expect(loop == .notHandled)
    }

    @Test func forwardURLs() {
        #expect(
            WebRedirects.forwardURL(target: "http://127.0.0.1:8000/app/", stripPath: true, path: "/api/v1/x", matched: "/api/", query: "a=b")
                == "http://127.0.0.1:8000/app/v1/x?a=b"
        )
        #expect(
            WebRedirects.forwardURL(target: "http://127.0.0.1:8000", stripPath: false, path: "/api/x", matched: "/api/", query: nil)
                == "http://127.0.0.1:8000/api/x"
        )
        #expect(
            WebRedirects.forwardURL(target: "http://u/?k=v", stripPath: true, path: "/p", matched: "/p", query: "q")
                == "http://u/?k=v&q"
        )
        #expect(WebRedirects.forwardURL(target: "1http://x", stripPath: false, path: "/", matched: "", query: nil) == nil)
    }

    @Test func urlsRoundTrip() throws {
        let url = try #require(SimpleURL("HTTPS://Host:8443/p/a?q=1#frag"))
        #expect(url.scheme == "https")
        #expect(url.host == "Host:8443")
        #expect(url.path == "/p/a")
        #expect(url.query == "q=1")
        #expect(url.fragment == "frag")
        #expect(url.string == "https://Host:8443/p/a?q=1#frag")
        #expect(SimpleURL("//h/x")?.string == "//h/x")
    }
}

@Suite struct ClientConfigTests {
    @Test func settingsComeFromThePublicListener() throws {
        let config = try testConfig()
        let settings = try ClientConfig.settings(domain: Domain.parse("example.org")!, config: config)
        #expect(settings.imap == ClientServer(host: "mail.example.org", port: 993, security: .immediate))
        #expect(settings.submission == ClientServer(host: "mail.example.org", port: 1587, security: .starttls))
        #expect(throws: ClientConfigError.self) {
            try ClientConfig.settings(domain: Domain.parse("unknown.example")!, config: config)
        }
    }

    @Test func clientconfigEntriesPerListener() throws {
        let config = try testConfig()
        let entries = try ClientConfig.entries(domain: Domain.parse("example.org")!, config: config)
        #expect(entries == [
            ClientConfig.Entry(protocol: "IMAP", host: "mail.example.org", port: 993, listener: "public", note: "with TLS"),
            ClientConfig.Entry(protocol: "Submission (SMTP)", host: "mail.example.org", port: 1587, listener: "public", note: "STARTTLS required"),
        ])
        #expect(throws: ClientConfigError.self) {
            try ClientConfig.entries(domain: Domain.parse("unknown.example")!, config: config)
        }
    }

    @Test func thunderbirdDocument() throws {
        let config = try testConfig()
        let domain = Domain.parse("example.org")!
        let settings = try ClientConfig.settings(domain: domain, config: config)
        let xml = ClientConfig.thunderbirdXML(email: "mjl@example.org", domain: domain, settings: settings)
        #expect(xml.contains("<clientConfig version=\"1.1\">"))
        #expect(xml.contains("<emailProvider id=\"example.org\">"))
        #expect(xml.contains("<incomingServer type=\"imap\">"))
        #expect(xml.contains("<outgoingServer type=\"smtp\">"))
        #expect(xml.contains("<socketType>SSL</socketType>"))
        #expect(xml.contains("<socketType>STARTTLS</socketType>"))
        #expect(xml.contains("<port>1587</port>"))
        #expect(xml.contains("<username>mjl@example.org</username>"))
    }

    @Test func autodiscoverRequestAndResponse() throws {
        let body = """
            <?xml version="1.0" encoding="utf-8"?>
            <Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006">
            <Request><EMailAddress> mjl@example.org </EMailAddress>
            <AcceptableResponseSchema>http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a</AcceptableResponseSchema>
            </Request></Autodiscover>
            """
        #expect(ClientConfig.autodiscoverEmail(body) == "mjl@example.org")
        #expect(ClientConfig.autodiscoverEmail("<x/>") == nil)
        let config = try testConfig()
        let settings = try ClientConfig.settings(domain: Domain.parse("example.org")!, config: config)
        let xml = ClientConfig.autodiscoverXML(email: "mjl@example.org", settings: settings)
        #expect(xml.contains("<Type>IMAP</Type>"))
        #expect(xml.contains("<Type>SMTP</Type>"))
        #expect(xml.contains("<Server>mail.example.org</Server>"))
    }

    @Test func mtastsPolicyFromDomainsConf() throws {
        let config = try testConfig()
        // RFC 8461 3.2
        let policy = ClientConfig.mtastsPolicy(domain: Domain.parse("example.org")!, config: config)
        #expect(policy == "version: STSv1\nmode: enforce\nmax_age: 86400\nmx: mail.example.org\nmx: *.mx.example.org\n")
        #expect(ClientConfig.mtastsPolicy(domain: Domain.parse("other.example.org")!, config: config) == nil)
    }

    @Test func appleProfileIsAPlistWithStableUUIDs() throws {
        let config = try testConfig()
        let settings = try ClientConfig.settings(domain: Domain.parse("example.org")!, config: config)
        let address = try #require(Address.parse("mjl@example.org"))
        let a = ClientConfig.appleProfile(addresses: ["mjl@example.org"], address: address, fullName: "M J", settings: settings)
        let b = ClientConfig.appleProfile(addresses: ["mjl@example.org"], address: address, fullName: "M J", settings: settings)
        #expect(a == b)
        #expect(a.contains("<key>PayloadType</key>"))
        #expect(a.contains("<string>com.apple.mail.managed</string>"))
        #expect(a.contains("<key>IncomingMailServerHostName</key>"))
        #expect(a.hasPrefix("<?xml"))
    }
}

@Suite struct MetricsTests {
    @Test func moxNamesInTheTextFormat() {
        MoxMetrics.bootstrap()
        MoxMetrics.smtpConnection(kind: "deliver")
        MoxMetrics.smtpCommand(kind: "deliver", command: "ehlo", code: 250, enhancedCode: "", seconds: 0.001)
        MoxMetrics.authentication(kind: "imap", variant: "login", result: "badcreds")
        MoxMetrics.imapCommand(command: "select", result: "ok", seconds: 0.002)
        let text = String(decoding: MoxMetrics.render(), as: UTF8.self)
        #expect(text.contains("mox_smtpserver_connection_total{kind=\"deliver\"}"))
        #expect(text.contains("# TYPE mox_smtpserver_command_duration_seconds histogram"))
        #expect(text.contains("mox_authentication_total{kind=\"imap\",variant=\"login\",result=\"badcreds\"}")
            || text.contains("mox_authentication_total{"))
        #expect(text.contains("mox_imap_command_duration_seconds_bucket{"))
        #expect(text.contains("# HELP mox_imap_command_duration_seconds"))
        #expect(text.contains("process_resident_memory_bytes"))
    }
}

@Suite struct SmallFileCacheTests {
    @Test func aChangedFileIsReadAgain() throws {
        let dir = "/tmp/mailhttp-cache-test-\(getpid())"
        mkdir(dir, 0o755)
        defer {
            unlink(dir + "/f")
            rmdir(dir)
        }
        func write(_ text: String) {
            let fd = open(dir + "/f", O_WRONLY | O_CREAT | O_TRUNC, 0o644)
            _ = text.utf8CString.withUnsafeBufferPointer { Glibc.write(fd, $0.baseAddress, $0.count - 1) }
            close(fd)
        }
        func info() throws -> FileInfo {
            guard case .found(let info) = StaticFiles.stat(dir + "/f") else { throw CacheTestError() }
            return info
        }
        let cache = SmallFileCache()
        write("first")
        let a = try #require(cache.contents(dir + "/f", try info()))
        #expect(String(buffer: a.contents) == "first")
        #expect(a.sniffed.hasPrefix("text/plain"))
        // Same size, new contents: the stat's times differ, so the cache reads it again.
        usleep(10_000)
        write("again")
        let b = try #require(cache.contents(dir + "/f", try info()))
        #expect(String(buffer: b.contents) == "again")
        // A stale FileInfo (the file grew since) is not served from a short read.
        var stale = try info()
        stale.size = 3
        stale.version = [0]
        #expect(cache.contents(dir + "/f", stale) == nil)
    }
}

struct CacheTestError: Error {}
