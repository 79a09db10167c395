import Foundation
import MailConfig
import Sconf
import Testing

@Suite struct LoadTests {
    @Test func quickstartLoads() throws {
        let config = try ConfigLoader.load(staticPath: fixturePath("quickstart/mox.conf"))
        let s = config.staticConfig
        #expect(s.hostname == "mail.example.org")
        #expect(s.listeners.keys.sorted() == ["internal", "public"])
        let pub = try #require(s.listeners["public"])
        #expect(pub.ips == ["192.0.2.25", "2001:db8::25"])
        #expect(pub.tls?.acme == "letsencrypt")
        #expect(pub.smtp.enabled && pub.submissions.enabled && pub.imaps.enabled)
        #expect(pub.smtp.firstTimeSenderDelay == SconfDuration(seconds: 15))
        #expect(pub.smtp.tlsSessionTicketsDisabled == nil)
        #expect(s.listeners["internal"]?.metricsHTTP.enabled == true)
        #expect(s.tls.ca?.additionalToSystem == true)
        #expect(s.transports["smarthost"]?.submissions?.auth?.mechanisms == ["SCRAM-SHA-256"])
        #expect(s.quotaMessageSize == 10_737_418_240)
        #expect(s.initialMailboxes.specialUse.draft == "Drafts")

        let d = config.dynamicConfig
        let domain = try #require(d.domains["example.org"])
        #expect(domain.dkim.sign == ["2024a", "2024b"])
        #expect(domain.dkim.selectors["2024b"]?.canonicalization.bodyRelaxed == true)
        #expect(domain.mtasts?.maxAge == SconfDuration(seconds: 7 * 24 * 3600))
        #expect(domain.aliases["team"]?.addresses.count == 2)
        let mjl = try #require(d.accounts["mjl"])
        #expect(mjl.destinations["mjl@example.org"] == Destination())
        #expect(
            mjl.destinations["news@example.org"]?.rulesets.last?.headersRegexp["^list-id$"]
                == "<announce\\.example\\.com>"
        )
        #expect(mjl.junkFilter?.threshold == 0.95)
        #expect(mjl.junkFilter?.params.topWords == 10)
        #expect(d.webHandlers.count == 4)
        #expect(d.webHandlers[3].webInternal?.service == "webmail")

        #expect(config.dynamicPath == fixturePath("quickstart/domains.conf"))
        #expect(config.dataDirectory == fixturePath("quickstart/../data"))
        #expect(config.configDirPath("/etc/x") == "/etc/x")
    }

    @Test func localserveLoads() throws {
        let config = try ConfigLoader.load(staticPath: fixturePath("localserve/mox.conf"))
        let l = try #require(config.staticConfig.listeners["local"])
        let ports = [l.smtp.port, l.submission.port, l.submissions.port, l.imap.port, l.imaps.port]
        #expect(ports == [1025, 1587, 1465, 1143, 1993])
        #expect(l.accountHTTP.path == "/account/" && l.metricsHTTP.port == 1081)
        #expect(l.tls?.keyCerts.map(\.certFile) == ["localhost.crt"])
        let account = try #require(config.dynamicConfig.accounts["mox"])
        #expect(account.domain == "")
        #expect(account.keepRetiredMessagePeriod == SconfDuration(seconds: 72 * 3600))
        #expect(account.destinations.keys.sorted() == ["mox@localhost"])
    }

    /// Writing a parsed file and parsing the result gives the same value.
    @Test(arguments: ["quickstart", "localserve"])
    func writeRoundTrip(dir: String) throws {
        let s = try Sconf.parse(StaticConfig.self, from: fixture("\(dir)/mox.conf")).value
        let s2 = try Sconf.parse(StaticConfig.self, from: Sconf.write(s)).value
        #expect(s == s2)
        let d = try Sconf.parse(DynamicConfig.self, from: fixture("\(dir)/domains.conf")).value
        let d2 = try Sconf.parse(DynamicConfig.self, from: Sconf.write(d)).value
        #expect(d == d2)
        // With documentation comments too.
        #expect(try Sconf.parse(DynamicConfig.self, from: Sconf.write(d, docs: true)).value == d)
    }

    @Test func missingFile() {
        let path = fixturePath("does-not-exist/mox.conf")
        #expect {
            try ConfigLoader.load(staticPath: path)
        } throws: { error in
            guard let errors = error as? ConfigErrors, errors.errors.count == 1 else { return false }
            let e = errors.errors[0]
            return e.file == path && e.line == 0 && e.fieldPath == "" && e.reason.contains("No such file")
        }
    }

    /// Files named in the config must be readable, relative to the config directory.
    @Test func missingReferencedFile() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("mailconfig-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        for name in ["mox.conf", "domains.conf", "localhost.crt", "localhost.key"] {
            try FileManager.default.copyItem(
                atPath: fixturePath("localserve/\(name)"),
                toPath: dir.appendingPathComponent(name).path
            )
        }
        let staticPath = dir.appendingPathComponent("mox.conf").path
        do {
            _ = try ConfigLoader.load(staticPath: staticPath)
            Issue.record("expected an error for the missing DKIM key")
        } catch {
            let domainsText = try String(contentsOf: dir.appendingPathComponent("domains.conf"), encoding: .utf8)
            let line = lineNumber(of: "PrivateKeyFile:", in: domainsText)
            #expect(error.errors.count == 1)
            #expect(error.errors.first?.line == line)
            #expect(error.errors.first?.fieldPath == "Domains.localhost.DKIM.Selectors.localserve.PrivateKeyFile")
            #expect(error.errors.first?.reason.contains("No such file") == true)
        }
    }

    @Test func errorDescriptions() {
        let e = ConfigError(file: "mox.conf", line: 3, fieldPath: "Listeners.public.SMTP.Port", reason: "bad")
        #expect(e.description == "mox.conf:3: Listeners.public.SMTP.Port: bad")
        #expect(ConfigError(file: "f", line: 0, fieldPath: "", reason: "r").description == "f: r")
        let all = ConfigErrors(errors: [e, ConfigError(file: "f", line: 0, fieldPath: "A", reason: "r")])
        #expect(all.description == "mox.conf:3: Listeners.public.SMTP.Port: bad\nf: A: r")
    }

    /// mox's own test configurations load unchanged. Point MOX_TESTDATA at a directory holding
    /// mox's `testdata` tree (e.g. extracted from a mox checkout) to run this.
    @Test(.enabled(if: ProcessInfo.processInfo.environment["MOX_TESTDATA"] != nil))
    func moxTestdataParses() throws {
        let root = try #require(ProcessInfo.processInfo.environment["MOX_TESTDATA"])
        let files = FileManager.default.enumerator(atPath: root)?.compactMap { $0 as? String } ?? []
        var count = 0
        for rel in files where rel.hasSuffix("/mox.conf") {
            let path = root + "/" + rel
            let dynamicPath = String(path.dropLast("mox.conf".count)) + "domains.conf"
            do {
                let (s, locations) = try ConfigLoader.parseStatic(
                    String(contentsOfFile: path, encoding: .utf8),
                    file: path
                )
                _ = try ConfigLoader.parseDynamic(
                    String(contentsOfFile: dynamicPath, encoding: .utf8),
                    file: dynamicPath,
                    staticConfig: s,
                    staticFile: path,
                    staticLocations: locations
                )
            } catch let errors as ConfigErrors {
                Issue.record("\(errors)")
            }
            count += 1
        }
        #expect(count > 0)
    }
}

/// The 1-based number of the first line of `text` containing `marker`, 0 if none.
func lineNumber(of marker: String, in text: String) -> Int {
    for (i, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated()
    where line.contains(marker) {
        return i + 1
    }
    return 0
}
