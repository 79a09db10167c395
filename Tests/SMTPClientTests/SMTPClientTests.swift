import Foundation
import Logging
import NIOCore
import NIOPosix
import SMTPProtocol
import Synchronization
import Testing

@testable import SMTPClient

/// A scripted SMTP server on loopback (blocking sockets on a thread): a greeting, then for each
/// command line the reply `respond` gives (nil: close the connection), and for the message data
/// (through the final dot) the reply `dataReply`. It records what it was sent.
final class ScriptedServer: @unchecked Sendable {
    let fd: Int32
    let port: Int
    let received = Mutex<[String]>([])
    let data = Mutex<[UInt8]>([])

    init(
        greeting: String = "220 fake.example ESMTP\r\n",
        respond: @escaping @Sendable (String) -> String?,
        dataReply: String = "250 2.0.0 queued\r\n"
    ) throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = 0
        _ = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        listen(fd, 4)
        var bound = sockaddr_in()
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &bound) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) } }
        self.fd = fd
        self.port = Int(UInt16(bigEndian: bound.sin_port))
        let listenFD = fd
        let thread = Thread { [self] in
            let c = accept(listenFD, nil, nil)
            guard c >= 0 else { return }
            defer { close(c) }
            func send(_ s: String) { _ = Array(s.utf8).withUnsafeBytes { write(c, $0.baseAddress, $0.count) } }
            send(greeting)
            var buffer: [UInt8] = []
            var inData = false
            var chunk = [UInt8](repeating: 0, count: 65536)
            while true {
                let n = read(c, &chunk, chunk.count)
                if n <= 0 { return }
                buffer += chunk[0..<n]
                while true {
                    if inData {
                        // The end: a line with only a dot (the first line, for an empty message).
                        if buffer.starts(with: Array(".\r\n".utf8)) {
                            self.data.withLock { $0 = [] }
                            buffer.removeSubrange(0..<3)
                            inData = false
                            send(dataReply)
                            continue
                        }
                        guard let end = Self.find(buffer, Array("\r\n.\r\n".utf8)) else { break }
                        self.data.withLock { $0 = Array(buffer[0..<(end + 2)]) }
                        buffer.removeSubrange(0..<(end + 5))
                        inData = false
                        send(dataReply)
                        continue
                    }
                    guard let nl = buffer.firstIndex(of: 10) else { break }
                    let line = String(decoding: buffer[0..<nl], as: UTF8.self).trimmingCharacters(in: .newlines)
                    buffer.removeSubrange(0...nl)
                    self.received.withLock { $0.append(line) }
                    guard let reply = respond(line) else { return }
                    send(reply)
                    if line == "DATA" && reply.hasPrefix("354") { inData = true }
                }
            }
        }
        thread.start()
    }

    deinit { close(fd) }

    static func find(_ b: [UInt8], _ needle: [UInt8]) -> Int? {
        guard b.count >= needle.count else { return nil }
        for i in 0...(b.count - needle.count) where Array(b[i..<(i + needle.count)]) == needle { return i }
        return nil
    }

    /// A server that speaks ordinary SMTP, with `ehlo` lines and per-recipient replies.
    static func standard(ehlo: [String] = ["PIPELINING", "8BITMIME", "SMTPUTF8", "ENHANCEDSTATUSCODES"], rcpt: @escaping @Sendable (String) -> String = { _ in "250 2.1.5 ok\r\n" }) throws -> ScriptedServer {
        try ScriptedServer(respond: { line in
            let upper = line.uppercased()
            if upper.hasPrefix("EHLO") {
                return (["250-fake.example"] + ehlo.dropLast().map { "250-\($0)" } + ["250 \(ehlo.last ?? "OK")"]).joined(separator: "\r\n") + "\r\n"
            }
            if upper.hasPrefix("MAIL FROM") { return "250 2.1.0 ok\r\n" }
            if upper.hasPrefix("RCPT TO") { return rcpt(line) }
            if upper == "DATA" { return "354 go ahead\r\n" }
            if upper == "RSET" { return "250 ok\r\n" }
            if upper == "QUIT" { return "221 bye\r\n" }
            return "500 unknown\r\n"
        })
    }
}

@Suite struct SMTPClientTests {
    static let log = Logger(label: "test")

    func options(_ timeout: TimeAmount = .seconds(5)) -> SMTPClientOptions {
        SMTPClientOptions(ehloName: "client.example", tls: .opportunistic, serverName: "fake.example", timeouts: SMTPClientTimeouts(all: timeout))
    }

    func message(_ body: String = "Subject: x\r\n\r\n.hidden dot\r\nend\r\n") -> OutgoingMessage {
        OutgoingMessage(prefix: Array("X-Prefix: 1\r\n".utf8), body: .bytes(Array(body.utf8)), size: body.utf8.count + 13, has8bit: false, smtputf8: false)
    }

    @Test func deliversWithPipeliningAndPerRecipientResults() async throws {
        let server = try ScriptedServer.standard(rcpt: { $0.contains("bad@") ? "550 5.1.1 no such user\r\n" : "250 2.1.5 ok\r\n" })
        let c = try await SMTPClientConnection.connect(ip: "127.0.0.1", port: server.port, options: options(), group: MultiThreadedEventLoopGroup.singleton, log: Self.log)
        #expect(c.extensions.pipelining && !c.tlsActive)
        let result = try await c.deliver(mailFrom: "a@client.example", recipients: ["good@fake.example", "bad@fake.example"], message: message())
        await c.quit()
        #expect(result.recipients[0] == nil)
        #expect(result.recipients[1]?.reply?.code == 550)
        #expect(result.recipients[1]?.permanent == true)
        #expect(result.final?.code == 250)
        // Dot-stuffed, prefix first.
        #expect(String(decoding: server.data.withLock { $0 }, as: UTF8.self) == "X-Prefix: 1\r\nSubject: x\r\n\r\n..hidden dot\r\nend\r\n")
        #expect(server.received.withLock { $0 }.contains("MAIL FROM:<a@client.example>"))
    }

    @Test func allRecipientsRefusedWithPipelinedDATA() async throws {
        // The scripted server answers DATA with 354 even without a recipient: the client ends
        // the data at once and reports each refusal.
        let server = try ScriptedServer.standard(rcpt: { _ in "550 5.1.1 no\r\n" })
        let c = try await SMTPClientConnection.connect(ip: "127.0.0.1", port: server.port, options: options(), group: MultiThreadedEventLoopGroup.singleton, log: Self.log)
        let result = try await c.deliver(mailFrom: "a@client.example", recipients: ["x@fake.example", "y@fake.example"], message: message())
        #expect(result.recipients.allSatisfy { $0?.reply?.code == 550 })
        #expect(result.final == nil)
        // The connection is still in step: a second transaction works.
        let again = try await c.deliver(mailFrom: "a@client.example", recipients: ["z@fake.example"], message: message())
        #expect(again.recipients[0]?.reply?.code == 550)
        await c.quit()
        #expect(server.received.withLock { $0 }.filter { $0 == "RSET" }.count == 1)
    }

    @Test func greetingRefusalIsAnError() async throws {
        let server = try ScriptedServer(greeting: "554 5.7.1 go away\r\n", respond: { _ in "221 bye\r\n" })
        do {
            _ = try await SMTPClientConnection.connect(ip: "127.0.0.1", port: server.port, options: options(), group: MultiThreadedEventLoopGroup.singleton, log: Self.log)
            Issue.record("connected")
        } catch {
            #expect(error.stage == .greeting)
            #expect(error.reply?.code == 554)
            #expect(error.permanent)
        }
    }

    @Test func garbageReplyIsAProtocolError() async throws {
        let server = try ScriptedServer(respond: { _ in "this is not smtp\r\n" })
        do {
            _ = try await SMTPClientConnection.connect(ip: "127.0.0.1", port: server.port, options: options(), group: MultiThreadedEventLoopGroup.singleton, log: Self.log)
            Issue.record("connected")
        } catch {
            #expect(!error.permanent)
            if case .protocolError = error.kind {} else { Issue.record("kind \(error.kind)") }
        }
    }

    @Test func silentServerTimesOut() async throws {
        let server = try ScriptedServer(greeting: "", respond: { _ in "" })
        let start = ContinuousClock.now
        do {
            _ = try await SMTPClientConnection.connect(ip: "127.0.0.1", port: server.port, options: options(.milliseconds(300)), group: MultiThreadedEventLoopGroup.singleton, log: Self.log)
            Issue.record("connected")
        } catch {
            #expect(error.kind == .timeout)
            #expect(error.stage == .greeting)
        }
        // The 300 ms limit, not the 5-minute default (generous: parallel tests share 2 cores).
        #expect(ContinuousClock.now - start < .seconds(30))
    }

    @Test func disconnectMidTransactionIsTemporary() async throws {
        let server = try ScriptedServer(respond: { line in
            if line.uppercased().hasPrefix("EHLO") { return "250 fake.example\r\n" }
            if line.uppercased().hasPrefix("MAIL") { return "250 ok\r\n" }
            return nil
        })
        let c = try await SMTPClientConnection.connect(ip: "127.0.0.1", port: server.port, options: options(), group: MultiThreadedEventLoopGroup.singleton, log: Self.log)
        do {
            _ = try await c.deliver(mailFrom: "a@client.example", recipients: ["b@fake.example"], message: message())
            Issue.record("delivered")
        } catch {
            #expect(!error.permanent)
            #expect(error.stage == .rcpt)
        }
    }

    @Test func missingSMTPUTF8IsRefusedBeforeSending() async throws {
        let server = try ScriptedServer.standard(ehlo: ["PIPELINING"])
        let c = try await SMTPClientConnection.connect(ip: "127.0.0.1", port: server.port, options: options(), group: MultiThreadedEventLoopGroup.singleton, log: Self.log)
        var m = message()
        m.smtputf8 = true
        do {
            _ = try await c.deliver(mailFrom: "a@client.example", recipients: ["b@fake.example"], message: m)
            Issue.record("delivered")
        } catch {
            #expect(error.kind == .missingExtension("SMTPUTF8"))
        }
        await c.quit()
        #expect(!server.received.withLock { $0 }.contains { $0.hasPrefix("MAIL") })
    }

    @Test func sizeLimitOfServerIsHonoured() async throws {
        let server = try ScriptedServer.standard(ehlo: ["PIPELINING", "SIZE 10"])
        let c = try await SMTPClientConnection.connect(ip: "127.0.0.1", port: server.port, options: options(), group: MultiThreadedEventLoopGroup.singleton, log: Self.log)
        do {
            _ = try await c.deliver(mailFrom: "a@client.example", recipients: ["b@fake.example"], message: message())
            Issue.record("delivered")
        } catch {
            #expect(error.permanent)
            #expect(error.reply?.code == 554)
        }
        await c.quit()
    }

    @Test func requiredSTARTTLSWithoutOfferFails() async throws {
        let server = try ScriptedServer.standard()
        var o = options()
        o.tls = .startTLS(verify: false)
        do {
            _ = try await SMTPClientConnection.connect(ip: "127.0.0.1", port: server.port, options: o, group: MultiThreadedEventLoopGroup.singleton, log: Self.log)
            Issue.record("connected")
        } catch {
            #expect(error.stage == .tls)
        }
    }

    @Test func bytesAfterSTARTTLSReplyAreRefused() async throws {
        // RFC 3207 5: plaintext injected after the 220 would be read as if it came over TLS.
        let server = try ScriptedServer(respond: { line in
            if line.uppercased().hasPrefix("EHLO") { return "250-fake.example\r\n250 STARTTLS\r\n" }
            if line.uppercased() == "STARTTLS" { return "220 go ahead\r\n250 injected\r\n" }
            return nil
        })
        do {
            _ = try await SMTPClientConnection.connect(ip: "127.0.0.1", port: server.port, options: options(), group: MultiThreadedEventLoopGroup.singleton, log: Self.log)
            Issue.record("connected")
        } catch {
            #expect(error.stage == .tls)
        }
    }
}
