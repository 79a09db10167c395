import MailAddress
import SMTPProtocol
import Testing

/// A fake of the network glue: carries out actions, accepting every sender and every recipient
/// except those with local-part "unknown", and records the replies as "code enhanced".
struct FakeGlue {
    var session: SMTPSession
    var replies: [String] = []
    var delivered: [SMTPTransaction] = []
    var closed = false
    var dataOutcome = DataReceiver.Outcome.complete(size: 10)

    init(_ config: SMTPSessionConfig = SMTPSessionConfig(hostname: "mx.example"), tls: Bool = false) {
        self.session = SMTPSession(config: config, tlsActive: tls)
    }

    static func summary(_ r: SMTPReply) -> String {
        "\(r.code)" + (r.enhanced.map { " \($0)" } ?? "")
    }

    mutating func send(_ line: String) {
        self.carryOut(self.session.receive(line: bytes(line)))
    }

    mutating func carryOut(_ action: SMTPSessionAction) {
        switch action {
        case .reply(let r): self.replies.append(Self.summary(r))
        case .replyAndClose(let r):
            self.replies.append(Self.summary(r))
            self.closed = true
        case .checkSender: self.carryOut(self.session.senderAccepted())
        case .checkRecipient(let path, _):
            if path.mailbox?.localpart.value == "unknown" {
                self.carryOut(self.session.recipientRejected(SMTPReply(550, .badDestinationMailbox, "no such user")))
            } else {
                self.carryOut(self.session.recipientAccepted())
            }
        case .receiveData(let r):
            self.replies.append(Self.summary(r))
            self.carryOut(self.session.dataReceived(self.dataOutcome))
        case .receiveChunk(let size, _):
            self.replies.append("chunk \(size)")
            self.carryOut(self.session.chunkReceived())
        case .discardChunk(let size, let r):
            self.replies.append("discard \(size)")
            self.replies.append(Self.summary(r))
        case .startTLS(let r):
            self.replies.append(Self.summary(r))
            self.session.tlsStarted()
        case .authenticate(let mech, let initial):
            if mech == "PLAIN", initial == "good" {
                self.carryOut(self.session.authSucceeded(user: "mjl"))
            } else {
                self.carryOut(self.session.authFailed())
            }
        case .deliver(let tx):
            self.delivered.append(tx)
            self.replies.append("250 2.0.0 delivered")
        }
    }

    /// Runs the script, returning the replies.
    static func run(
        _ script: [String],
        config: SMTPSessionConfig = SMTPSessionConfig(hostname: "mx.example"),
        tls: Bool = false
    )
        -> FakeGlue
    {
        var g = FakeGlue(config, tls: tls)
        for line in script {
            g.send(line)
        }
        return g
    }
}

func config(_ f: (inout SMTPSessionConfig) -> Void) -> SMTPSessionConfig {
    var c = SMTPSessionConfig(hostname: "mx.example")
    f(&c)
    return c
}

@Suite struct SMTPSessionTests {
    @Test func greeting() {
        let s = SMTPSession(config: SMTPSessionConfig(hostname: "mx.example"))
        #expect(text(s.greeting().encoded()) == "220 mx.example ESMTP\r\n")
        #expect(s.phase == .initial)
    }

    @Test func fullTransaction() {
        let g = FakeGlue.run([
            "EHLO client.example", "MAIL FROM:<a@example.org>", "RCPT TO:<b@mx.example>",
            "RCPT TO:<unknown@mx.example>",
            "RCPT TO:<Postmaster>", "DATA", "QUIT",
        ])
        #expect(
            g.replies == [
                "250", "250 2.1.0", "250 2.1.5", "550 5.1.1", "250 2.1.5", "354", "250 2.0.0 delivered", "221 2.0.0",
            ]
        )
        #expect(g.closed)
        #expect(g.session.phase == .closed)
        #expect(g.delivered.count == 1)
        #expect(g.delivered.first?.reversePath == .mailbox(mailbox("a", "example.org")))
        #expect(g.delivered.first?.recipients.map(\.path) == [.mailbox(mailbox("b", "mx.example")), .postmaster])
        #expect(g.session.transaction == nil)
        #expect(g.session.helloHost == .domain(domain("client.example")))
        #expect(g.session.isExtended)
    }

    @Test func twoTransactionsOnOneConnection() {
        let g = FakeGlue.run([
            "HELO client.example", "MAIL FROM:<>", "RCPT TO:<b@mx.example>", "DATA", "MAIL FROM:<a@example.org>",
            "RCPT TO:<c@mx.example>", "DATA",
        ])
        #expect(
            g.replies == [
                "250", "250 2.1.0", "250 2.1.5", "354", "250 2.0.0 delivered", "250 2.1.0", "250 2.1.5", "354",
                "250 2.0.0 delivered",
            ]
        )
        #expect(g.delivered.map(\.reversePath) == [.null, .mailbox(mailbox("a", "example.org"))])
        #expect(!g.session.isExtended)
    }

    /// Script and expected replies for order errors. RFC 5321 4.1.4, 3.3: 503 5.5.1.
    static let sequences: [([String], [String])] = [
        (["MAIL FROM:<a@example.org>"], ["503 5.5.1"]),
        (["RCPT TO:<a@example.org>"], ["503 5.5.1"]),
        (["DATA"], ["503 5.5.1"]),
        (["EHLO x.example", "RCPT TO:<a@example.org>"], ["250", "503 5.5.1"]),
        (["EHLO x.example", "DATA"], ["250", "503 5.5.1"]),
        // DATA without an accepted recipient.
        (["EHLO x.example", "MAIL FROM:<a@example.org>", "DATA"], ["250", "250 2.1.0", "503 5.5.1"]),
        (
            ["EHLO x.example", "MAIL FROM:<a@example.org>", "RCPT TO:<unknown@x.example>", "DATA"],
            ["250", "250 2.1.0", "550 5.1.1", "503 5.5.1"]
        ),
        // MAIL inside a transaction.
        (
            ["EHLO x.example", "MAIL FROM:<a@example.org>", "MAIL FROM:<b@example.org>"],
            ["250", "250 2.1.0", "503 5.5.1"]
        ),
        // RSET ends the transaction (RFC 5321 4.1.1.5).
        (
            ["EHLO x.example", "MAIL FROM:<a@example.org>", "RSET", "MAIL FROM:<b@example.org>"],
            ["250", "250 2.1.0", "250 2.0.0", "250 2.1.0"]
        ),
        (
            ["EHLO x.example", "MAIL FROM:<a@example.org>", "RSET", "RCPT TO:<b@x.example>"],
            ["250", "250 2.1.0", "250 2.0.0", "503 5.5.1"]
        ),
        // EHLO ends the transaction too (RFC 5321 4.1.4).
        (
            ["EHLO x.example", "MAIL FROM:<a@example.org>", "EHLO x.example", "RCPT TO:<b@x.example>"],
            ["250", "250 2.1.0", "250", "503 5.5.1"]
        ),
        // Commands that work without EHLO (RFC 5321 4.1.4).
        (
            ["NOOP", "RSET", "VRFY a", "EXPN b", "HELP", "QUIT"],
            ["250 2.0.0", "250 2.0.0", "252 2.7.0", "252 2.7.0", "214 2.0.0", "221 2.0.0"]
        ),
        // An unknown first command: the peer does not speak SMTP (like mox).
        (["GET / HTTP/1.1"], ["500 5.5.2"]),
        // Later: 500 5.5.1 (RFC 5321 4.2.4).
        (["NOOP", "XYZZY"], ["250 2.0.0", "500 5.5.1"]),
        // Syntax errors get the parser's reply and change nothing.
        (
            ["EHLO", "EHLO x.example", "MAIL FROM:<a>", "MAIL FROM:<a@example.org>"],
            ["501 5.5.2", "250", "501 5.5.2", "250 2.1.0"]
        ),
        // Not offered.
        (["EHLO x.example", "STARTTLS"], ["250", "503 5.5.1"]),
        (["EHLO x.example", "AUTH PLAIN"], ["250", "503 5.5.1"]),
        // RFC 3030 2: BDAT without CHUNKING is unknown, but its chunk is still skipped.
        (["EHLO x.example", "BDAT 5"], ["250", "discard 5", "500 5.5.1"]),
        // Parameters of extensions that are off (RFC 5321 4.1.1.11).
        (["EHLO x.example", "MAIL FROM:<a@example.org> RET=FULL"], ["250", "555 5.3.3"]),
        (["EHLO x.example", "MAIL FROM:<a@example.org> ENVID=x"], ["250", "555 5.3.3"]),
        (["EHLO x.example", "MAIL FROM:<a@example.org> AUTH=<>"], ["250", "555 5.3.3"]),
        (["EHLO x.example", "MAIL FROM:<a@example.org> BODY=BINARYMIME"], ["250", "555 5.5.4"]),
        (
            ["EHLO x.example", "MAIL FROM:<a@example.org>", "RCPT TO:<b@x.example> NOTIFY=NEVER"],
            ["250", "250 2.1.0", "555 5.3.3"]
        ),
        (
            ["EHLO x.example", "MAIL FROM:<a@example.org>", "RCPT TO:<b@x.example> ORCPT=rfc822;b@x.example"],
            ["250", "250 2.1.0", "555 5.3.3"]
        ),
        // RFC 8689 4.1: REQUIRETLS without TLS: 523 5.7.10, as mox.
        (["EHLO x.example", "MAIL FROM:<a@example.org> REQUIRETLS"], ["250", "523 5.7.10"]),
        (["EHLO x.example", "MAIL FROM:<a@example.org> BODY=8BITMIME SMTPUTF8"], ["250", "250 2.1.0"]),
    ]

    @Test(arguments: Self.sequences)
    func sequence(script: [String], expected: [String]) {
        #expect(FakeGlue.run(script).replies == expected, "\(script)")
    }

    @Test func mailAfterFailedMailIsAllowed() {
        var c = SMTPSessionConfig(hostname: "mx.example")
        c.extensions.size = 100
        var g = FakeGlue(c)
        g.send("EHLO x.example")
        // RFC 1870 6.1: declared size above the limit.
        g.send("MAIL FROM:<a@example.org> SIZE=101")
        g.send("MAIL FROM:<a@example.org> SIZE=100")
        #expect(g.replies == ["250", "552 5.3.4", "250 2.1.0"])
    }

    @Test func senderRejectedByPolicy() {
        var s = SMTPSession(config: SMTPSessionConfig(hostname: "mx.example"))
        _ = s.receive(line: bytes("EHLO x.example"))
        let a = s.receive(line: bytes("MAIL FROM:<a@example.org> SIZE=10"))
        guard case .checkSender(let path, let params) = a else {
            Issue.record("expected checkSender, got \(a)")
            return
        }
        #expect(path == .mailbox(mailbox("a", "example.org")))
        #expect(params.size == 10)
        #expect(s.senderRejected(SMTPReply(550, .nullMX, "no")) == .reply(SMTPReply(550, .nullMX, "no")))
        #expect(s.transaction == nil)
        #expect(s.phase == .greeted)
        #expect(s.receive(line: bytes("RCPT TO:<b@x.example>")) == .reply(.badSequence("missing MAIL FROM")))
    }

    @Test func commandWhileWaitingForDecisionIsInternalError() {
        var s = SMTPSession(config: SMTPSessionConfig(hostname: "mx.example"))
        _ = s.receive(line: bytes("EHLO x.example"))
        _ = s.receive(line: bytes("MAIL FROM:<a@example.org>"))
        guard case .replyAndClose(let r) = s.receive(line: bytes("NOOP")) else {
            Issue.record("expected close")
            return
        }
        #expect(r.code == 451)
        // Callbacks without a matching request too.
        var t = SMTPSession(config: SMTPSessionConfig(hostname: "mx.example"))
        guard case .replyAndClose = t.recipientAccepted() else {
            Issue.record("expected close")
            return
        }
    }

    @Test func recipientLimit() {
        var c = SMTPSessionConfig(hostname: "mx.example")
        c.extensions.rcptMax = 2
        let g = FakeGlue.run(
            [
                "EHLO x.example", "MAIL FROM:<a@example.org>", "RCPT TO:<b@x.example>", "RCPT TO:<c@x.example>",
                "RCPT TO:<d@x.example>",
            ],
            config: c
        )
        // RFC 5321 4.5.3.1.10: 452 4.5.3.
        #expect(g.replies == ["250", "250 2.1.0", "250 2.1.5", "250 2.1.5", "452 4.5.3"])
        #expect(g.session.transaction?.recipients.count == 2)
    }

    @Test func rejectedData() {
        for (outcome, reply) in [
            (DataReceiver.Outcome.badLineEndings, "500 5.5.2"), (.tooLarge(size: 99), "552 5.3.4"),
        ] {
            var g = FakeGlue()
            g.dataOutcome = outcome
            for line in [
                "EHLO x.example", "MAIL FROM:<a@example.org>", "RCPT TO:<b@x.example>", "DATA", "RCPT TO:<b@x.example>",
            ] {
                g.send(line)
            }
            // The transaction is over: a new RCPT needs a new MAIL.
            #expect(g.replies == ["250", "250 2.1.0", "250 2.1.5", "354", reply, "503 5.5.1"])
            #expect(g.delivered.isEmpty)
            #expect(g.session.phase == .greeted)
        }
    }

    @Test func smtputf8TransactionAllowsUTF8Recipients() {
        let g = FakeGlue.run([
            "EHLO x.example", "MAIL FROM:<ø@example.org> SMTPUTF8", "RCPT TO:<å@x.example>", "RSET",
            "MAIL FROM:<a@example.org>", "RCPT TO:<å@x.example>",
        ])
        #expect(g.replies == ["250", "250 2.1.0", "250 2.1.5", "250 2.0.0", "250 2.1.0", "553 5.6.7"])
    }

    @Test func lineTooLongCloses() {
        var s = SMTPSession(config: SMTPSessionConfig(hostname: "mx.example"))
        #expect(s.lineTooLong() == .replyAndClose(.lineTooLong))
        #expect(s.phase == .closed)
    }

    @Test func makeDataReceiverUsesLimits() {
        var c = SMTPSessionConfig(hostname: "mx.example")
        c.extensions.size = 5
        c.rejectAllBareLF = true
        let r = SMTPSession(config: c).makeDataReceiver()
        #expect(r.maxSize == 5)
        #expect(r.rejectAllBareLF)
    }
}

@Suite struct SMTPSessionChunkingTests {
    static let chunking = config {
        $0.extensions.chunking = true
        $0.extensions.binaryMIME = true
        $0.extensions.size = 100
    }

    static let start = ["EHLO x.example", "MAIL FROM:<a@example.org>", "RCPT TO:<b@x.example>"]
    static let startReplies = ["250", "250 2.1.0", "250 2.1.5"]

    @Test func chunksAndLast() {
        let g = FakeGlue.run(Self.start + ["BDAT 10", "BDAT 20", "BDAT 0 LAST", "QUIT"], config: Self.chunking)
        #expect(
            g.replies == Self.startReplies + [
                "chunk 10", "250 2.0.0", "chunk 20", "250 2.0.0", "chunk 0", "250 2.0.0 delivered", "221 2.0.0",
            ]
        )
        #expect(g.delivered.first?.chunkedSize == 30)
        #expect(g.delivered.first?.usesBDAT == true)
    }

    /// RFC 3030 2: DATA cannot follow BDAT, RCPT cannot either.
    @Test func dataAfterBDAT() {
        let g = FakeGlue.run(
            Self.start + ["BDAT 3", "DATA", "RCPT TO:<c@x.example>", "BDAT 2 LAST"],
            config: Self.chunking
        )
        #expect(
            g.replies == Self.startReplies + [
                "chunk 3", "250 2.0.0", "503 5.5.1", "503 5.5.1", "chunk 2", "250 2.0.0 delivered",
            ]
        )
    }

    /// RFC 3030 3: BODY=BINARYMIME needs BDAT.
    @Test func binaryMIMEWithData() {
        let g = FakeGlue.run(
            ["EHLO x.example", "MAIL FROM:<a@example.org> BODY=BINARYMIME", "RCPT TO:<b@x.example>", "DATA"],
            config: Self.chunking
        )
        #expect(g.replies == ["250", "250 2.1.0", "250 2.1.5", "503 5.5.1"])
    }

    /// Chunks that arrive with a wrong sequence are still read and dropped.
    @Test func bdatOutOfSequenceIsDiscarded() {
        let g = FakeGlue.run(
            ["EHLO x.example", "BDAT 4", "MAIL FROM:<a@example.org>", "BDAT 4 LAST"],
            config: Self.chunking
        )
        #expect(g.replies == ["250", "discard 4", "503 5.5.1", "250 2.1.0", "discard 4", "503 5.5.1"])
    }

    /// RFC 1870 6.3 and RFC 3030 2: over the size limit the transaction fails; chunks already
    /// pipelined are discarded.
    @Test func bdatTooLarge() {
        let g = FakeGlue.run(
            Self.start + ["BDAT 60", "BDAT 60", "BDAT 1 LAST", "MAIL FROM:<a@example.org>"],
            config: Self.chunking
        )
        #expect(
            g.replies == Self.startReplies + [
                "chunk 60", "250 2.0.0", "discard 60", "552 5.3.4", "discard 1", "503 5.5.1", "250 2.1.0",
            ]
        )
        #expect(g.delivered.isEmpty)
    }

    /// A BDAT with a bad size cannot be skipped: the connection closes.
    @Test func bdatSyntaxErrorCloses() {
        let g = FakeGlue.run(Self.start + ["BDAT x"], config: Self.chunking)
        #expect(g.replies == Self.startReplies + ["501 5.5.2"])
        #expect(g.closed)
    }

    @Test func bdatTotalOverflowWithoutSizeLimit() {
        var c = Self.chunking
        c.extensions.size = nil
        let g = FakeGlue.run(Self.start + ["BDAT 10", "BDAT 9223372036854775807"], config: c)
        #expect(g.replies == Self.startReplies + ["chunk 10", "250 2.0.0", "discard 9223372036854775807", "552 5.3.4"])
    }

    @Test func bdatHugeSizeDoesNotOverflow() {
        let g = FakeGlue.run(Self.start + ["BDAT 10", "BDAT 9223372036854775807"], config: Self.chunking)
        #expect(g.replies == Self.startReplies + ["chunk 10", "250 2.0.0", "discard 9223372036854775807", "552 5.3.4"])
    }
}

@Suite struct SMTPSessionSecurityTests {
    static let submission = config {
        $0.extensions.startTLS = true
        $0.extensions.requireTLS = true
        $0.extensions.authMechanisms = ["PLAIN", "SCRAM-SHA-256"]
        $0.requireAuth = true
    }

    @Test func startTLSResetsEverything() {
        let g = FakeGlue.run(
            ["EHLO x.example", "STARTTLS", "MAIL FROM:<a@example.org>", "EHLO x.example", "STARTTLS"],
            config: Self.submission
        )
        // RFC 3207 4.2: after TLS, EHLO again; a second STARTTLS is a sequence error.
        #expect(g.replies == ["250", "220 2.0.0", "503 5.5.1", "250", "503 5.5.1"])
        #expect(g.session.tlsActive)
    }

    @Test func ehloAdvertisesPerTLSState() {
        var s = SMTPSession(config: Self.submission)
        guard case .reply(let before) = s.receive(line: bytes("EHLO x.example")) else {
            Issue.record("no reply")
            return
        }
        #expect(before.lines.contains("STARTTLS"))
        #expect(!before.lines.contains("REQUIRETLS"))
        _ = s.receive(line: bytes("STARTTLS"))
        s.tlsStarted()
        guard case .reply(let after) = s.receive(line: bytes("EHLO x.example")) else {
            Issue.record("no reply")
            return
        }
        #expect(!after.lines.contains("STARTTLS"))
        #expect(after.lines.contains("REQUIRETLS"))
        #expect(after.lines.contains("AUTH PLAIN SCRAM-SHA-256"))
    }

    @Test func authRequiredForSubmission() {
        let g = FakeGlue.run(
            [
                "EHLO x.example", "MAIL FROM:<a@example.org>", "AUTH LOGIN", "AUTH PLAIN bad", "AUTH PLAIN good",
                "AUTH PLAIN good", "MAIL FROM:<a@example.org> REQUIRETLS", "MAIL FROM:<a@example.org>",
                "AUTH PLAIN good",
            ],
            config: Self.submission
        )
        #expect(
            g.replies == [
                "250",
                // RFC 4954 6: 530 5.7.0 before authentication.
                "530 5.7.0",
                // RFC 4954 4: 504 for a mechanism not offered.
                "504 5.5.4",
                "535 5.7.8",
                "235 2.7.0",
                // Only one successful AUTH.
                "503 5.5.1",
                "523 5.7.10",
                "250 2.1.0",
                // Not during a transaction.
                "503 5.5.1",
            ]
        )
        #expect(g.session.authenticatedUser == "mjl")
    }

    @Test func requireTLSOverTLS() {
        let g = FakeGlue.run(
            ["EHLO x.example", "MAIL FROM:<a@example.org> REQUIRETLS"],
            config: Self.submission,
            tls: true
        )
        #expect(g.replies == ["250", "530 5.7.0"])
        var c = Self.submission
        c.requireAuth = false
        let h = FakeGlue.run(["EHLO x.example", "MAIL FROM:<a@example.org> REQUIRETLS"], config: c, tls: true)
        #expect(h.replies == ["250", "250 2.1.0"])
        c.extensions.requireTLS = false
        let i = FakeGlue.run(["EHLO x.example", "MAIL FROM:<a@example.org> REQUIRETLS"], config: c, tls: true)
        #expect(i.replies == ["250", "555 5.3.3"])
    }

    @Test func startTLSNeedsEHLOAndNoAuth() {
        let g = FakeGlue.run(["STARTTLS", "EHLO x.example", "AUTH PLAIN good", "STARTTLS"], config: Self.submission)
        #expect(g.replies == ["503 5.5.1", "250", "235 2.7.0", "503 5.5.1"])
    }
}
