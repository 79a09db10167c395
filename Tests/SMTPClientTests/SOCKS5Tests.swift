import Logging
import NIOCore
import NIOPosix
import SMTPProtocol
import Synchronization
import Testing

@testable import SMTPClient

@Suite struct SOCKS5Tests {
    static let log = Logger(label: "test")

    @Test func connectRequestForIPv4AndIPv6() throws {
        #expect(try SOCKS5.connectRequest(ip: "192.0.2.1", port: 25) == [5, 1, 0, 1, 192, 0, 2, 1, 0, 25])
        #expect(try SOCKS5.connectRequest(ip: "2001:db8::1", port: 587) == [5, 1, 0, 4, 0x20, 0x01, 0x0d, 0xb8] + [UInt8](repeating: 0, count: 11) + [1, 2, 0x4b])
        #expect(throws: SOCKS5.Failure.self) { try SOCKS5.connectRequest(ip: "mx.example", port: 25) }
        #expect(throws: SOCKS5.Failure.self) { try SOCKS5.connectRequest(ip: "192.0.2.1", port: 0) }
        #expect(throws: SOCKS5.Failure.self) { try SOCKS5.connectRequest(ip: "192.0.2.256", port: 25) }
    }

    @Test func methodReply() throws {
        #expect(try SOCKS5.parseMethodReply([5]) == nil)
        #expect(try SOCKS5.parseMethodReply([5, 0, 9]) == 2)
        #expect(throws: SOCKS5.Failure(message: "socks proxy requires authentication")) { try SOCKS5.parseMethodReply([5, 0xFF]) }
        #expect(throws: SOCKS5.Failure.self) { try SOCKS5.parseMethodReply([4, 0]) }
        #expect(throws: SOCKS5.Failure.self) { try SOCKS5.parseMethodReply([5, 2]) }
    }

    @Test func connectReplyLengthsAndRefusals() throws {
        #expect(try SOCKS5.parseConnectReply([5, 0, 0, 1, 1, 2, 3]) == nil)
        #expect(try SOCKS5.parseConnectReply([5, 0, 0, 1, 1, 2, 3, 4, 0, 25, 50]) == 10)
        #expect(try SOCKS5.parseConnectReply([5, 0, 0, 4] + [UInt8](repeating: 0, count: 18)) == 22)
        #expect(try SOCKS5.parseConnectReply([5, 0, 0, 3, 3, 97, 98, 99, 0, 25]) == 10)
        #expect(throws: SOCKS5.Failure(message: "socks proxy: connection refused")) { try SOCKS5.parseConnectReply([5, 5]) }
        #expect(throws: SOCKS5.Failure.self) { try SOCKS5.parseConnectReply([5, 0, 0, 9, 0]) }
    }

    /// A scripted proxy that answers the method and CONNECT at once, with the SMTP greeting in
    /// the same packet: the client sends the right request and then speaks SMTP through it.
    @Test func smtpThroughScriptedProxy() async throws {
        let replies = String(decoding: [5, 0, 5, 0, 0, 1, 127, 0, 0, 1, 0, 25] as [UInt8], as: UTF8.self)
        let server = try ScriptedServer(greeting: replies + "220 fake.example ESMTP\r\n", respond: { line in
            if line.contains("EHLO") { return "250-fake.example\r\n250 PIPELINING\r\n" }
            if line == "QUIT" { return "221 bye\r\n" }
            return "500 unknown\r\n"
        })
        var options = SMTPClientOptions(ehloName: "proxy.example", tls: .opportunistic, serverName: "mx.example", timeouts: SMTPClientTimeouts(all: .seconds(5)))
        options.socksProxy = SOCKSProxy(ip: "127.0.0.1", port: server.port)
        let c = try await SMTPClientConnection.connect(ip: "127.0.0.9", port: 25, options: options, group: MultiThreadedEventLoopGroup.singleton, log: Self.log)
        #expect(c.extensions.pipelining)
        await c.quit()
        let first = Array(server.received.withLock { $0 }.first?.utf8 ?? "".utf8)
        // Greeting, then CONNECT 127.0.0.9:25, then EHLO with the proxy's host name.
        #expect(Array(first.prefix(13)) == [5, 1, 0, 5, 1, 0, 1, 127, 0, 0, 9, 0, 25])
        #expect(String(decoding: first.dropFirst(13), as: UTF8.self) == "EHLO proxy.example")
    }

    @Test func proxyWantingAuthenticationFailsTheDial() async throws {
        let server = try ScriptedServer(greeting: String(decoding: [5, 0xFF] as [UInt8], as: UTF8.self), respond: { _ in nil })
        var options = SMTPClientOptions(ehloName: "proxy.example", tls: .opportunistic, serverName: "mx.example", timeouts: SMTPClientTimeouts(all: .seconds(5)))
        options.socksProxy = SOCKSProxy(ip: "127.0.0.1", port: server.port)
        do {
            _ = try await SMTPClientConnection.connect(ip: "127.0.0.9", port: 25, options: options, group: MultiThreadedEventLoopGroup.singleton, log: Self.log)
            Issue.record("connected")
        } catch {
            #expect(error.stage == .dial)
            #expect(!error.permanent)
            #expect(error.description.contains("socks proxy"))
        }
    }
}
