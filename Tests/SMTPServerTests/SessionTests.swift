import MailSASL
import SMTPProtocol
import SMTPServer
import Synchronization
import Testing

/// The server over loopback, driven by real protocol exchanges with an in-memory backend.
@Suite struct SessionTests {
    @Test func greetingEHLOAndQuit() async throws {
        let server = try await TestServer.start()
        let (greeting, ehlo, quit) = try await withClient(port: server.port) { c in
            (c.reply(), c.command("EHLO client.test"), c.command("QUIT"))
        }
        await server.stop()
        #expect(greeting?.code == 220)
        #expect(greeting?.text.hasPrefix("mail.test ") == true)
        #expect(ehlo?.code == 250)
        // Port 25: no AUTH, no DSN; no STARTTLS without a certificate.
        #expect(
            ehlo?.lines == [
                "mail.test", "PIPELINING", "SIZE 104857600", "ENHANCEDSTATUSCODES", "8BITMIME", "CHUNKING",
                "LIMITS RCPTMAX=1000", "SMTPUTF8",
            ]
        )
        #expect(quit?.code == 221)
    }

    @Test func deliversWithReceivedHeaderAndUnstuffsDots() async throws {
        let server = try await TestServer.start()
        let replies = try await withClient(port: server.port) { c in
            _ = c.reply()
            var replies = [c.command("EHLO client.test"), c.command("MAIL FROM:<a@example.org>")]
            replies.append(c.command("RCPT TO:<mox@localhost>"))
            replies.append(c.command("DATA"))
            c.send("Subject: test\r\n\r\n..starts with a dot\r\nlast line\r\n.\r\n")
            replies.append(c.reply())
            return replies.map { $0?.code }
        }
        await server.stop()
        #expect(replies == [250, 250, 250, 354, 250])
        let stored = try #require(server.backend.messages.first)
        let text = String(decoding: stored.message, as: UTF8.self)
        #expect(
            text.hasPrefix("Received: from client.test ([127.0.0.1])\r\n\tby mail.test ([127.0.0.1]) with ESMTP id ")
        )
        #expect(text.contains("\tfor <mox@localhost>;\r\n"))
        #expect(text.hasSuffix("\r\nSubject: test\r\n\r\n.starts with a dot\r\nlast line\r\n"))
        #expect(stored.envelope.mailFrom.formatted == "<a@example.org>")
    }

    @Test func pipelinedCommandsGetTheirRepliesInOrder() async throws {
        let server = try await TestServer.start()
        let codes = try await withClient(port: server.port) { c in
            _ = c.reply()
            _ = c.command("EHLO client.test")
            // RFC 2920: a whole transaction in one write.
            c.send("MAIL FROM:<a@example.org>\r\nRCPT TO:<mox@localhost>\r\nRCPT TO:<x@other.test>\r\nDATA\r\n")
            var codes = (0..<4).map { _ in c.reply()?.code }
            c.send("hi\r\n.\r\nNOOP\r\n")
            codes.append(c.reply()?.code)
            codes.append(c.reply()?.code)
            return codes
        }
        await server.stop()
        #expect(codes == [250, 250, 550, 354, 250, 250])
        #expect(server.backend.messages.count == 1)
        #expect(server.backend.messages.first?.envelope.recipients.count == 1)
    }

    @Test(arguments: ["x\r\n.\nMAIL FROM:<evil@x>\r\n", "x\n.\r\n", "x\r\n.\r\rMAIL\r\n", "bare\rcr\r\n"])
    func smugglingIsRejectedAndTheSessionStaysInStep(_ body: String) async throws {
        let server = try await TestServer.start()
        let (dataReply, next) = try await withClient(port: server.port) { c in
            _ = c.reply()
            _ = c.command("EHLO client.test")
            _ = c.command("MAIL FROM:<a@example.org>")
            _ = c.command("RCPT TO:<mox@localhost>")
            _ = c.command("DATA")
            c.send(body + "\r\n.\r\n")
            return (c.reply(), c.command("MAIL FROM:<b@example.org>"))
        }
        await server.stop()
        #expect(dataReply?.code == 500)
        #expect(dataReply?.text.hasPrefix("5.5.2 ") == true)
        #expect(next?.code == 250)
        #expect(server.backend.messages.isEmpty)
    }

    @Test func bdatChunks() async throws {
        let server = try await TestServer.start()
        let codes = try await withClient(port: server.port) { c in
            _ = c.reply()
            _ = c.command("EHLO client.test")
            _ = c.command("MAIL FROM:<a@example.org>")
            _ = c.command("RCPT TO:<mox@localhost>")
            // RFC 3030: the chunk's octets follow the command line; no dot-stuffing.
            c.send("BDAT 12\r\nSubject: a\r\n")
            let first = c.reply()?.code
            c.send("BDAT 9 LAST\r\n\r\n.body\r\n")
            return [first, c.reply()?.code]
        }
        await server.stop()
        #expect(codes == [250, 250])
        let text = String(decoding: try #require(server.backend.messages.first).message, as: UTF8.self)
        #expect(text.hasSuffix("\r\nSubject: a\r\n\r\n.body\r\n"))
    }

    @Test func sequenceErrors() async throws {
        let server = try await TestServer.start()
        let replies = try await withClient(port: server.port) { c in
            _ = c.reply()
            return [
                c.command("MAIL FROM:<a@example.org>"),  // before EHLO
                c.command("EHLO client.test"),
                c.command("RCPT TO:<mox@localhost>"),  // before MAIL
                c.command("DATA"),  // before MAIL
                c.command("MAIL FROM:<a@example.org>"),
                c.command("MAIL FROM:<a@example.org>"),  // nested MAIL
                c.command("DATA"),  // no recipients
                c.command("RSET"),
                c.command("FOO"),
                c.command("AUTH PLAIN"),  // not on port 25
            ].map { $0.map { "\($0.code) \($0.text.prefix(5))" } ?? "closed" }
        }
        await server.stop()
        #expect(
            replies == [
                "503 5.5.1", "250 mail.", "503 5.5.1", "503 5.5.1", "250 2.1.0", "503 5.5.1", "503 5.5.1", "250 2.0.0",
                "500 5.5.1", "503 5.5.1",
            ]
        )
    }

    @Test func sizeLimit() async throws {
        let server = try await TestServer.start { $0.maxMessageSize = 100 }
        let codes = try await withClient(port: server.port) { c in
            _ = c.reply()
            _ = c.command("EHLO client.test")
            var codes = [c.command("MAIL FROM:<a@example.org> SIZE=101")?.code]
            codes.append(c.command("MAIL FROM:<a@example.org>")?.code)
            codes.append(c.command("RCPT TO:<mox@localhost>")?.code)
            codes.append(c.command("DATA")?.code)
            c.send(String(repeating: "x", count: 200) + "\r\n.\r\n")
            codes.append(c.reply()?.code)
            codes.append(c.command("NOOP")?.code)
            return codes
        }
        await server.stop()
        // RFC 1870 6.1: too large, announced or sent.
        #expect(codes == [552, 250, 250, 354, 552, 250])
        #expect(server.backend.messages.isEmpty)
    }

    @Test func submissionNeedsAuthentication() async throws {
        let server = try await TestServer.start(.submission)
        let plain = SASLBase64.encode(Array("\0mox@localhost\0secret".utf8))
        let wrong = SASLBase64.encode(Array("\0mox@localhost\0wrong".utf8))
        let replies = try await withClient(port: server.port) { c in
            _ = c.reply()
            let ehlo = c.command("EHLO client.test")
            return [
                ehlo.map { $0.lines.contains("AUTH SCRAM-SHA-256 SCRAM-SHA-1 PLAIN LOGIN") ? 1 : 0 },
                c.command("MAIL FROM:<mox@localhost>")?.code,
                c.command("AUTH PLAIN \(wrong)")?.code,
                c.command("AUTH PLAIN \(plain)")?.code,
                c.command("AUTH PLAIN \(plain)")?.code,
                c.command("MAIL FROM:<other@localhost>")?.code,
                c.command("MAIL FROM:<mox@localhost>")?.code,
            ]
        }
        await server.stop()
        #expect(replies == [1, 530, 535, 235, 503, 550, 250])
    }

    @Test func authLoginAndCancel() async throws {
        let server = try await TestServer.start(.submission)
        let replies = try await withClient(port: server.port) { c in
            _ = c.reply()
            _ = c.command("EHLO client.test")
            var replies: [String] = []
            replies.append(c.command("AUTH LOGIN")?.description ?? "")
            replies.append(c.command("*")?.description ?? "")
            replies.append(c.command("AUTH LOGIN \(SASLBase64.encode(Array("mox@localhost".utf8)))")?.description ?? "")
            replies.append(c.command(SASLBase64.encode(Array("secret".utf8)))?.description ?? "")
            return replies
        }
        await server.stop()
        #expect(replies[0] == "334 VXNlcm5hbWU6")
        #expect(replies[1].hasPrefix("501 "))
        #expect(replies[2] == "334 UGFzc3dvcmQ6")
        #expect(replies[3].hasPrefix("235 2.7.0"))
    }

    @Test func scramSHA256() async throws {
        let server = try await TestServer.start(.submission)
        let result = try await withClient(port: server.port) { c -> [String] in
            _ = c.reply()
            _ = c.command("EHLO client.test")
            var client = SCRAMClient(hash: .sha256, username: "mox@localhost", password: "secret")
            let first = client.clientFirst()
            guard let challenge = c.command("AUTH SCRAM-SHA-256 \(SASLBase64.encode(first))"), challenge.code == 334,
                let serverFirst = SASLBase64.decode(challenge.text)
            else { return ["bad first challenge"] }
            let final = try client.serverFirst(serverFirst)
            guard let second = c.command(SASLBase64.encode(final)), second.code == 334,
                let serverFinal = SASLBase64.decode(second.text)
            else { return ["bad second challenge"] }
            try client.serverFinal(serverFinal)
            return [c.command("")?.description ?? "closed"]
        }
        await server.stop()
        #expect(result.count == 1)
        #expect(result.first?.hasPrefix("235 2.7.0") == true)
    }

    @Test func tooManyAuthFailuresCloseTheConnection() async throws {
        let server = try await TestServer.start(.submission)
        let wrong = SASLBase64.encode(Array("\0mox@localhost\0wrong".utf8))
        let replies = try await withClient(port: server.port) { c in
            _ = c.reply()
            _ = c.command("EHLO client.test")
            var codes = (0..<3).map { _ in c.command("AUTH PLAIN \(wrong)")?.code }
            codes.append(c.reply()?.code)
            codes.append(c.reply()?.code)
            return codes
        }
        await server.stop()
        #expect(replies == [535, 535, 535, 421, nil])
    }

    @Test func partialDeliveryFailureIsReported() async throws {
        let server = try await TestServer.start()
        let reply = try await withClient(port: server.port) { c in
            _ = c.reply()
            _ = c.command("EHLO client.test")
            _ = c.command("MAIL FROM:<a@example.org>")
            _ = c.command("RCPT TO:<fail@localhost>")
            _ = c.command("RCPT TO:<fail@localhost>")
            _ = c.command("DATA")
            return c.command("x\r\n.")
        }
        await server.stop()
        // Both failed the same way: their common reply.
        #expect(reply?.code == 451)
        #expect(reply?.lines.first == "4.3.0 storage failed")
    }

    @Test func longLineClosesTheConnection() async throws {
        let server = try await TestServer.start()
        let (reply, after) = try await withClient(port: server.port) { c in
            _ = c.reply()
            c.send("NOOP " + String(repeating: "x", count: 5000) + "\r\n")
            return (c.reply(), c.reply())
        }
        await server.stop()
        #expect(reply?.code == 500)
        #expect(after == nil)
    }

    @Test func shutdownSends421() async throws {
        let server = try await TestServer.start()
        let greeted = Mutex(false)
        async let reply = withClient(port: server.port) { c -> Reply? in
            _ = c.reply()
            _ = c.command("EHLO client.test")
            greeted.withLock { $0 = true }
            // Wait for the server to stop while idle.
            return c.reply()
        }
        for _ in 0..<1000 where !greeted.withLock({ $0 }) {
            try await Task.sleep(for: .milliseconds(10))
        }
        await server.stop()
        let r = try await reply
        #expect(r?.code == 421)
    }
}
