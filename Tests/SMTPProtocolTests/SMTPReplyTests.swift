import SMTPProtocol
import Testing

@Suite struct SMTPReplyTests {
    @Test func singleLine() {
        #expect(text(SMTPReply.ok("fine").encoded()) == "250 2.0.0 fine\r\n")
        #expect(text(SMTPReply(550, .badDestinationMailbox, "no such user").encoded()) == "550 5.1.1 no such user\r\n")
        #expect(text(SMTPReply(354, nil, "go ahead").encoded()) == "354 go ahead\r\n")
    }

    /// RFC 5321 4.2.1: "code-text" on all but the last line; RFC 2034 4: the enhanced code on every line.
    @Test func multiLine() {
        let r = SMTPReply(550, .badDestinationMailbox, "first\nsecond\nlast")
        #expect(text(r.encoded()) == "550-5.1.1 first\r\n550-5.1.1 second\r\n550 5.1.1 last\r\n")
        let plain = SMTPReply(code: 250, enhanced: nil, lines: ["mx.example.org", "PIPELINING", "SMTPUTF8"])
        #expect(text(plain.encoded()) == "250-mx.example.org\r\n250-PIPELINING\r\n250 SMTPUTF8\r\n")
    }

    /// RFC 3463 2: the class agrees with the reply code; 3xx replies have no enhanced code.
    @Test func enhancedClassFollowsCode() {
        #expect(SMTPReply(250, .other, "x").enhanced?.description == "2.0.0")
        #expect(SMTPReply(451, .systemOther, "x").enhanced?.description == "4.3.0")
        #expect(SMTPReply(452, .tooManyRecipients, "x").enhanced?.description == "4.5.3")
        #expect(SMTPReply(354, .other, "x").enhanced == nil)
        #expect(EnhancedCode(class: 5, subject: 7, detail: 30).description == "5.7.30")
    }

    @Test func emptyText() {
        #expect(text(SMTPReply(250, .other, "").encoded()) == "250 2.0.0\r\n")
        #expect(text(SMTPReply(code: 220, enhanced: nil, lines: []).encoded()) == "220 \r\n")
    }

    @Test func lineEndingsInTextCannotBreakFraming() {
        let r = SMTPReply(code: 550, enhanced: nil, lines: ["a\r\n250 ok"])
        #expect(text(r.encoded()) == "550 a  250 ok\r\n")
    }

    /// RFC 5321 4.5.3.1.5: reply lines of at most 512 octets including CRLF.
    @Test func longLinesAreWrapped() {
        let words = Array(repeating: "word", count: 300).joined(separator: " ")
        let encoded = text(SMTPReply(550, .policyOther, words).encoded())
        let lines = encoded.split(separator: "\r\n").map(String.init)
        #expect(lines.count > 1)
        for (i, line) in lines.enumerated() {
            #expect(line.utf8.count + 2 <= SMTPReply.maxLineLength)
            #expect(line.hasPrefix(i == lines.count - 1 ? "550 5.7.0" : "550-5.7.0"))
        }
        let rejoined = lines.map { String($0.dropFirst(10)) }.joined(separator: " ")
        #expect(rejoined.split(separator: " ") == words.split(separator: " "))

        // Without spaces, and with multi-byte characters: cut at a character boundary.
        let long = String(repeating: "ø", count: 600)
        let lines2 = text(SMTPReply(550, nil, long).encoded()).split(separator: "\r\n")
        #expect(lines2.count == 3)
        #expect(lines2.map { $0.dropFirst(4) }.joined() == long)
    }

    @Test func commonReplies() {
        #expect(SMTPReply.badSequence("x").description == "503 5.5.1 x")
        #expect(SMTPReply.unknownCommand().description == "500 5.5.1 unknown command")
        #expect(SMTPReply.badSyntax("x").description == "501 5.5.2 x")
        #expect(SMTPReply.unrecognizedParameter("FOO").description == "555 5.3.3 unrecognized parameter \"FOO\"")
        #expect(SMTPReply.messageTooBig().description == "552 5.3.4 message too large")
        #expect(SMTPReply.lineTooLong.code == 500)
        #expect(SMTPReply.greeting(hostname: "mx.example").description == "220 mx.example ESMTP")
        #expect(SMTPReply.shuttingDown(hostname: "mx").description == "421 4.3.2 mx shutting down")
        #expect(SMTPReply(550, .other, "x").isPermanentFailure)
        #expect(SMTPReply(450, .other, "x").isTransientFailure)
        #expect(SMTPReply.ok().isPositive)
    }
}

@Suite struct SMTPExtensionsTests {
    @Test func listsExactlyTheEnabledExtensions() {
        var e = SMTPExtensions()
        e.pipelining = false
        e.eightBitMIME = false
        e.smtputf8 = false
        e.enhancedStatusCodes = false
        #expect(e.ehloReply(hostname: "mx.example").lines == ["mx.example"])

        e = SMTPExtensions()
        #expect(
            e.ehloReply(hostname: "mx.example").lines == [
                "mx.example", "PIPELINING", "ENHANCEDSTATUSCODES", "8BITMIME", "SMTPUTF8",
            ]
        )

        e.size = 1_000_000
        e.startTLS = true
        e.requireTLS = true
        e.authMechanisms = ["SCRAM-SHA-256", "PLAIN"]
        e.binaryMIME = true
        e.chunking = true
        e.dsn = true
        e.rcptMax = 1000
        let r = e.ehloReply(hostname: "mx.example", greeting: "hello")
        #expect(
            r.lines == [
                "mx.example hello", "PIPELINING", "SIZE 1000000", "STARTTLS", "REQUIRETLS", "AUTH SCRAM-SHA-256 PLAIN",
                "ENHANCEDSTATUSCODES", "8BITMIME", "BINARYMIME", "CHUNKING", "DSN", "LIMITS RCPTMAX=1000", "SMTPUTF8",
            ]
        )
        #expect(r.code == 250)
        #expect(r.enhanced == nil)
        #expect(text(r.encoded()).hasPrefix("250-mx.example hello\r\n250-PIPELINING\r\n"))
        #expect(text(r.encoded()).hasSuffix("250 SMTPUTF8\r\n"))
    }
}

@Suite struct SASLFramingTests {
    @Test func replies() {
        #expect(text(SMTPReply.authChallenge("").encoded()) == "334 \r\n")
        #expect(
            text(SMTPReply.authChallenge("PDE4OTYuNjk3MTcwOTUyQHBvc3RvZmZpY2U+").encoded())
                == "334 PDE4OTYuNjk3MTcwOTUyQHBvc3RvZmZpY2U+\r\n"
        )
        #expect(SMTPReply.authCancelled.description == "501 5.5.0 authentication cancelled")
        #expect(SMTPReply.authRequiresTLS.description == "538 5.7.11 authentication requires TLS")
    }
}
