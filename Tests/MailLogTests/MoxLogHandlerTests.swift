import Logging
import MailLog
import Testing

/// A logfmt reader for the checks: `key=value` pairs, values bare or in Go-style double quotes.
func parseLogfmt(_ line: String) -> [(String, String)]? {
    var out: [(String, String)] = []
    var s = Substring(line.hasSuffix("\n") ? String(line.dropLast()) : line)
    while !s.isEmpty {
        guard let eq = s.firstIndex(of: "=") else { return nil }
        let key = String(s[..<eq])
        guard !key.isEmpty, !key.contains(" ") else { return nil }
        s = s[s.index(after: eq)...]
        var value = ""
        if s.first == "\"" {
            s = s.dropFirst()
            var escaped = false
            var closed = false
            while let c = s.first {
                s = s.dropFirst()
                if escaped {
                    switch c {
                    case "n": value += "\n"
                    case "r": value += "\r"
                    case "t": value += "\t"
                    default: value.append(c)
                    }
                    escaped = false
                } else if c == "\\" {
                    escaped = true
                } else if c == "\"" {
                    closed = true
                    break
                } else {
                    value.append(c)
                }
            }
            guard closed else { return nil }
        } else {
            let end = s.firstIndex(of: " ") ?? s.endIndex
            value = String(s[..<end])
            s = s[end...]
        }
        out.append((key, value))
        if s.first == " " { s = s.dropFirst() } else if !s.isEmpty { return nil }
    }
    return out
}

@Suite struct MoxLogHandlerTests {
    func logger(_ package: String, _ level: MoxLogLevel, sink: LogSink) -> Logger {
        Logger(label: package) { label in MoxLogHandler(label: label, levels: LogLevels(defaultLevel: level), sink: sink) }
    }

    @Test func linesAreLogfmtInMoxsOrder() throws {
        let sink = LogSink.capturing()
        var log = self.logger("smtpserver", .info, sink: sink)
        log[metadataKey: "cid"] = "19a4f"
        log.info("new connection", metadata: ["remote": "127.0.0.1:5000", "tls": "false", "err": "x y"])
        log.debug("not shown")
        log.info("quote \"this\"\nplease", metadata: ["empty": "", "eq": "a=b", "utf8": "é"])
        let lines = sink.captured
        #expect(lines.count == 2)
        #expect(lines[0] == "l=info m=\"new connection\" err=\"x y\" pkg=smtpserver remote=127.0.0.1:5000 tls=false cid=19a4f\n")
        let pairs = try #require(parseLogfmt(lines[1]))
        #expect(pairs.map(\.0) == ["l", "m", "pkg", "empty", "eq", "utf8", "cid"])
        #expect(pairs[1].1 == "quote \"this\"\nplease")
        #expect(pairs[3].1 == "")
        #expect(pairs[4].1 == "a=b")
    }

    @Test(arguments: [MoxLogLevel.trace, .traceauth, .tracedata])
    func tracesHideCredentialsAndDataBelowTheirLevel(level: MoxLogLevel) throws {
        let sink = LogSink.capturing()
        let log = self.logger("smtpserver", level, sink: sink)
        log.traceProtocol("RC: ", Array("EHLO x\r\n".utf8))
        log.traceProtocol("RC: ", Array("AGFsaWNlAHNlY3JldA==\r\n".utf8), kind: .auth)
        log.traceProtocol("RC: ", Array("Subject: hi\r\n\r\nbody\r\n".utf8), kind: .data)
        let lines = sink.captured.map { try? #require(parseLogfmt($0)) }
        #expect(lines.count == 3)
        func field(_ i: Int, _ key: String) -> String? { lines[i]?.first { $0.0 == key }?.1 }
        #expect(field(0, "l") == "trace")
        #expect(field(0, "m") == "RC: EHLO x\r\n")
        #expect(field(0, "size") == "8")
        #expect(field(1, "l") == "traceauth")
        #expect(field(1, "m") == (level <= .traceauth ? "RC: AGFsaWNlAHNlY3JldA==\r\n" : "RC: ***"))
        #expect((field(1, "size") != nil) == (level <= .traceauth))
        #expect(field(2, "l") == "tracedata")
        #expect(field(2, "m") == (level == .tracedata ? "RC: Subject: hi\r\n\r\nbody\r\n" : "RC: ..."))
        #expect(field(2, "size") == "21")
    }

    @Test func packageLevelsOverrideTheDefault() {
        let sink = LogSink.capturing()
        let levels = LogLevels(defaultLevel: .error, packages: ["imapserver": .debug])
        let imap = Logger(label: "imapserver") { MoxLogHandler(label: $0, levels: levels, sink: sink) }
        let smtp = Logger(label: "smtpserver") { MoxLogHandler(label: $0, levels: levels, sink: sink) }
        imap.debug("shown")
        smtp.info("hidden")
        smtp.error("shown too")
        #expect(sink.captured.count == 2)
        #expect(MoxLogLevel(name: "TraceAuth") == .traceauth)
        #expect(MoxLogLevel(name: "loud") == nil)
    }

    @Test func bytesAreQuotedAsGoQuotesThem() {
        #expect(LogFormat.quotedBytes([0x41, 0x00, 0xff, 0xc3, 0xa9, 0x0d, 0x0a, 0x22]) == "A\\x00\\xffé\\r\\n\\\"")
        #expect(LogFormat.value("plain") == "plain")
        #expect(LogFormat.value("two words") == "\"two words\"")
    }
}
