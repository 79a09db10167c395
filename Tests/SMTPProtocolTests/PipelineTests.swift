import SMTPProtocol
import Testing

/// The glue loop from the module documentation, over in-memory input: line reader, session,
/// DATA and BDAT receivers. Accepts every sender and recipient.
struct Driver {
    enum Mode {
        case commands
        case data(DataReceiver)
        case chunk(BDATReceiver, discardReply: SMTPReply?)
        case closed
    }

    var reader = SMTPLineReader()
    var session: SMTPSession
    var mode = Mode.commands
    var output: [UInt8] = []
    var messages: [String] = []
    var current: [UInt8] = []

    init(config: SMTPSessionConfig) {
        self.session = SMTPSession(config: config)
        self.output = self.session.greeting().encoded()
    }

    mutating func feed(_ input: ArraySlice<UInt8>) {
        var pending = input
        while true {
            switch self.mode {
            case .closed:
                return
            case .commands:
                self.reader.append(pending)
                pending = []
                switch self.reader.next() {
                case .needMoreData: return
                case .tooLong: self.handle(self.session.lineTooLong())
                case .line(let line): self.handle(self.session.receive(line: line))
                }
                if case .commands = self.mode {
                } else {
                    pending = self.reader.takeBuffered()[...]
                }
            case .data(var r):
                let out = r.feed(pending)
                self.current += out.data
                guard out.isComplete, let outcome = r.outcome else {
                    self.mode = .data(r)
                    return
                }
                pending = out.leftover
                self.mode = .commands
                self.handle(self.session.dataReceived(outcome))
            case .chunk(var r, let discardReply):
                let out = r.feed(pending)
                if discardReply == nil {
                    self.current += out.data
                }
                guard out.isComplete else {
                    self.mode = .chunk(r, discardReply: discardReply)
                    return
                }
                pending = out.leftover
                self.mode = .commands
                if let discardReply {
                    self.output += discardReply.encoded()
                } else {
                    self.handle(self.session.chunkReceived())
                }
            }
        }
    }

    mutating func handle(_ action: SMTPSessionAction) {
        switch action {
        case .reply(let r): self.output += r.encoded()
        case .replyAndClose(let r):
            self.output += r.encoded()
            self.mode = .closed
        case .checkSender: self.handle(self.session.senderAccepted())
        case .checkRecipient: self.handle(self.session.recipientAccepted())
        case .receiveData(let r):
            self.output += r.encoded()
            self.current = []
            self.mode = .data(self.session.makeDataReceiver())
        case .receiveChunk(let size, _):
            self.mode = .chunk(BDATReceiver(size: size), discardReply: nil)
        case .discardChunk(let size, let reply):
            self.mode = .chunk(BDATReceiver(size: size), discardReply: reply)
        case .startTLS(let r):
            self.output += r.encoded()
            self.session.tlsStarted()
        case .authenticate: self.handle(self.session.authFailed())
        case .deliver:
            self.messages.append(text(self.current))
            self.current = []
            self.output += SMTPReply(250, .mailboxOther, "delivered").encoded()
        }
    }

    static func run(_ input: String, chunk: Int, config: SMTPSessionConfig) -> Driver {
        var d = Driver(config: config)
        let b = bytes(input)
        var i = 0
        while i < b.count {
            let end = min(i + chunk, b.count)
            d.feed(b[i..<end])
            i = end
        }
        return d
    }
}

@Suite struct PipelineTests {
    static let chunkingConfig = config {
        $0.extensions.chunking = true
        $0.extensions.size = 1000
    }

    /// RFC 2920: a whole pipelined session, fed at once, byte by byte, and in odd pieces.
    @Test(arguments: [1000, 1, 2, 7])
    func pipelinedSession(chunk: Int) {
        let input =
            "EHLO client.example\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<b@mx.example>\r\nDATA\r\n"
            + "Subject: hi\r\n\r\n..dot\r\n.\r\n"
            + "MAIL FROM:<>\r\nRCPT TO:<b@mx.example>\r\nBDAT 5\r\nab\r\ncBDAT 0 LAST\r\nQUIT\r\nNOOP\r\n"
        let d = Driver.run(input, chunk: chunk, config: Self.chunkingConfig)
        #expect(d.messages == ["Subject: hi\r\n\r\n.dot\r\n", "ab\r\nc"])
        let codes = text(d.output).split(separator: "\r\n").map { String($0.prefix(4)) }
        #expect(
            codes == [
                "220 ", "250-", "250-", "250-", "250-", "250-", "250-", "250 ", "250 ", "250 ", "354 ", "250 ", "250 ",
                "250 ", "250 ", "250 ", "221 ",
            ]
        )
        #expect(d.output == Driver.run(input, chunk: 1000, config: Self.chunkingConfig).output)
    }

    /// SMTP smuggling: the hidden "MAIL FROM" is message data, never a command, and the message
    /// is rejected; the session continues in step.
    @Test(arguments: [1000, 1, 3])
    func smuggledCommandsStayData(chunk: Int) {
        for hidden in ["\n.\n", "\r.\r", "\n.\r\n", "\r\n.\n", "\r.\r\n"] {
            let input =
                "EHLO c.example\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<b@mx.example>\r\nDATA\r\nhello" + hidden
                + "MAIL FROM:<evil@example.org>\r\nRCPT TO:<victim@mx.example>\r\nDATA\r\nevil\r\n.\r\nNOOP\r\n"
            let d = Driver.run(input, chunk: chunk, config: Self.chunkingConfig)
            let lines = text(d.output).split(separator: "\r\n").map(String.init)
            #expect(d.messages.isEmpty, "\(hidden.debugDescription)")
            #expect(
                lines.suffix(3).map { String($0.prefix(9)) } == ["354 end d", "500 5.5.2", "250 2.0.0"],
                "\(hidden.debugDescription)"
            )
        }
    }

    @Test func tooLongLineCloses() {
        let input = "EHLO c.example\r\n" + String(repeating: "x", count: 3000) + "\r\nNOOP\r\n"
        let d = Driver.run(input, chunk: 100, config: Self.chunkingConfig)
        #expect(text(d.output).hasSuffix("500 5.5.0 line too long: SMTP allows 512 octets, we stopped at 2048\r\n"))
        #expect(d.session.phase == .closed)
    }
}
