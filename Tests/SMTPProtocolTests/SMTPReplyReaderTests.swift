import Testing

@testable import SMTPProtocol

@Suite struct SMTPReplyReaderTests {
    /// Replies as servers send them: input, then the code, enhanced code and lines read.
    static let good: [(String, Int, String?, [String])] = [
        ("220 mx.example ESMTP\r\n", 220, nil, ["mx.example ESMTP"]),
        ("250-mx.example\r\n250-PIPELINING\r\n250 SMTPUTF8\r\n", 250, nil, ["mx.example", "PIPELINING", "SMTPUTF8"]),
        ("550 5.1.1 no such user\r\n", 550, "5.1.1", ["no such user"]),
        ("550-5.7.1 first\r\n550 5.7.1 second\r\n", 550, "5.7.1", ["first", "second"]),
        // The enhanced code on the first line only: kept in the text.
        ("451-4.3.0 a\r\n451 b\r\n", 451, nil, ["4.3.0 a", "b"]),
        // A class that does not match the reply's is text.
        ("250 5.0.0 odd\r\n", 250, nil, ["5.0.0 odd"]),
        // A bare code, and bare LF line endings.
        ("354\n", 354, nil, [""]),
        ("250 2.0.0\r\n", 250, "2.0.0", [""]),
    ]

    @Test(arguments: 0..<good.count) func reads(_ i: Int) throws {
        let (input, code, enhanced, lines) = Self.good[i]
        // Whole, and byte by byte: the same reply.
        for chunked in [false, true] {
            var reader = SMTPReplyReader()
            var reply: SMTPReply?
            if chunked {
                for b in input.utf8 {
                    #expect(reply == nil)
                    reader.feed([b])
                    reply = try reader.next()
                }
            } else {
                reader.feed(Array(input.utf8))
                reply = try reader.next()
            }
            let r = try #require(reply)
            #expect(r.code == code)
            #expect(r.enhanced?.description == enhanced)
            #expect(r.lines == lines)
            #expect(reader.pendingCount == 0)
        }
    }

    static let bad: [(String, SMTPReplyError.Kind)] = [
        ("hello\r\n", .badCode),
        ("25\r\n", .badCode),
        ("250x ok\r\n", .badCode),
        ("650 ok\r\n", .badCode),
        ("250-a\r\n251 b\r\n", .inconsistentCode),
        ("250 " + String(repeating: "a", count: 3000) + "\r\n", .lineTooLong),
        (String(repeating: "250-x\r\n", count: 200) + "250 y\r\n", .tooManyLines),
    ]

    @Test(arguments: 0..<bad.count) func refuses(_ i: Int) {
        let (input, kind) = Self.bad[i]
        var reader = SMTPReplyReader()
        reader.feed(Array(input.utf8))
        #expect(throws: SMTPReplyError.self) {
            while try reader.next() != nil {}
        }
        var again = SMTPReplyReader()
        again.feed(Array(input.utf8))
        do {
            while try again.next() != nil {}
        } catch {
            #expect(error.kind == kind)
        }
    }

    @Test func overlongLineWithoutEndIsRefusedBeforeItEnds() {
        var reader = SMTPReplyReader()
        reader.feed(Array(repeating: UInt8(ascii: "2"), count: 5000))
        #expect(throws: SMTPReplyError.self) { _ = try reader.next() }
    }

    @Test func pipelinedRepliesComeInOrder() throws {
        var reader = SMTPReplyReader()
        reader.feed(Array("250 2.1.0 ok\r\n550 5.1.1 no\r\n250 2.1.5 ok\r\n354 go".utf8))
        #expect(try reader.next()?.code == 250)
        #expect(try reader.next()?.code == 550)
        #expect(try reader.next()?.code == 250)
        #expect(try reader.next() == nil)
        reader.feed(Array(" ahead\r\n".utf8))
        #expect(try reader.next()?.lines == ["go ahead"])
    }

    @Test func ehloExtensions() {
        let reply = SMTPReply(
            code: 250, enhanced: nil,
            lines: ["mx.example hi", "PIPELINING", "SIZE 1000", "STARTTLS", "AUTH PLAIN cram-md5", "8BITMIME", "CHUNKING", "LIMITS RCPTMAX=20 MAILMAX=5", "SMTPUTF8", "X-UNKNOWN"]
        )
        let ext = SMTPExtensions(ehloReply: reply)
        #expect(ext.pipelining && ext.startTLS && ext.eightBitMIME && ext.chunking && ext.smtputf8)
        #expect(ext.size == 1000)
        #expect(ext.authMechanisms == ["PLAIN", "CRAM-MD5"])
        #expect(ext.rcptMax == 20)
        #expect(!ext.requireTLS && !ext.dsn)
        let bare = SMTPExtensions(ehloReply: SMTPReply(code: 250, enhanced: nil, lines: ["mx.example"]))
        #expect(!bare.pipelining && !bare.eightBitMIME && !bare.smtputf8 && bare.size == nil)
    }

    /// A reply encoded by the server's encoder reads back the same.
    @Test func roundTrip() throws {
        for reply in [SMTPReply(550, .badDestinationMailbox, "no such user\nreally"), SMTPReply.greeting(hostname: "mx.example"), SMTPReply(354, nil, "go")] {
            var reader = SMTPReplyReader()
            reader.feed(reply.encoded())
            #expect(try reader.next() == reply)
        }
    }
}
