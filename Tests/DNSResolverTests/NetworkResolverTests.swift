import MailAddress
import MailDNS
import NIOCore
import NIOPosix
import Synchronization
import Testing

@testable import DNSResolver

/// A DNS server on loopback for the resolver's tests: answers each UDP query with the datagrams
/// `respond` returns, in order (none: no reply, as an address that drops packets), and each TCP
/// query with the first.
final class FakeDNSServer: Sendable {
    let udp: any Channel
    let tcp: any Channel
    let port: Int

    init(respond: @escaping @Sendable (DNSMessage, _ overTCP: Bool) -> [[UInt8]]) async throws {
        let group = MultiThreadedEventLoopGroup.singleton
        let counters = Counters()
        let udp = try await DatagramBootstrap(group: group)
            .channelInitializer { ch in
                ch.eventLoop.makeCompletedFuture {
                    try ch.pipeline.syncOperations.addHandler(UDPServerHandler(respond: respond, counters: counters))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        let port = udp.localAddress!.port!
        let tcp = try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { ch in
                ch.eventLoop.makeCompletedFuture {
                    try ch.pipeline.syncOperations.addHandler(TCPServerHandler(respond: respond, counters: counters))
                }
            }
            .bind(host: "127.0.0.1", port: port).get()
        self.udp = udp
        self.tcp = tcp
        self.port = port
        self.counters = counters
    }

    let counters: Counters

    final class Counters: Sendable {
        let udp = Atomic<Int>(0)
        let tcp = Atomic<Int>(0)
    }

    func close() async {
        try? await self.udp.close()
        try? await self.tcp.close()
    }

    var server: ResolvConf.Server { ResolvConf.Server(address: IPAddress("127.0.0.1")!, port: self.port) }
}

final class UDPServerHandler: ChannelInboundHandler, Sendable {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>
    typealias OutboundOut = AddressedEnvelope<ByteBuffer>
    let respond: @Sendable (DNSMessage, Bool) -> [[UInt8]]
    let counters: FakeDNSServer.Counters

    init(respond: @escaping @Sendable (DNSMessage, Bool) -> [[UInt8]], counters: FakeDNSServer.Counters) {
        self.respond = respond
        self.counters = counters
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let envelope = Self.unwrapInboundIn(data)
        self.counters.udp.add(1, ordering: .relaxed)
        guard let query = try? DNSMessage(parsing: Array(envelope.data.readableBytesView)) else { return }
        for reply in self.respond(query, false) {
            let out = AddressedEnvelope(remoteAddress: envelope.remoteAddress, data: context.channel.allocator.buffer(bytes: reply))
            context.write(Self.wrapOutboundOut(out), promise: nil)
        }
        context.flush()
    }
}

final class TCPServerHandler: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer
    let respond: @Sendable (DNSMessage, Bool) -> [[UInt8]]
    let counters: FakeDNSServer.Counters
    var buffer = ByteBuffer()

    init(respond: @escaping @Sendable (DNSMessage, Bool) -> [[UInt8]], counters: FakeDNSServer.Counters) {
        self.respond = respond
        self.counters = counters
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var incoming = Self.unwrapInboundIn(data)
        self.buffer.writeBuffer(&incoming)
        guard let length = self.buffer.getInteger(at: self.buffer.readerIndex, as: UInt16.self),
            self.buffer.readableBytes >= 2 + Int(length)
        else { return }
        self.buffer.moveReaderIndex(forwardBy: 2)
        let bytes = self.buffer.readBytes(length: Int(length)) ?? []
        self.counters.tcp.add(1, ordering: .relaxed)
        guard let query = try? DNSMessage(parsing: bytes), let reply = self.respond(query, true).first else { return }
        var out = context.channel.allocator.buffer(capacity: reply.count + 2)
        out.writeInteger(UInt16(reply.count))
        out.writeBytes(reply)
        context.writeAndFlush(Self.wrapOutboundOut(out), promise: nil)
    }
}

/// A reply to `query` with the given answers.
func reply(_ query: DNSMessage, rcode: RCode = .noError, truncated: Bool = false, answers: [ResourceRecord] = [], authentic: Bool = false) -> [UInt8] {
    var m = DNSMessage(id: query.id)
    m.isResponse = true
    m.recursionAvailable = true
    m.rcode = rcode
    m.truncated = truncated
    m.authenticData = authentic
    m.questions = query.questions
    m.answers = answers
    return m.wire
}

@Suite(.serialized) struct NetworkResolverTests {
    func txt(_ query: DNSMessage, _ text: String) -> ResourceRecord {
        ResourceRecord(name: query.questions[0].name, type: .txt, ttl: 60, data: .txt([Array(text.utf8)]))
    }

    @Test func answersOverUDPWithTheADBitAndCaches() async throws {
        let server = try await FakeDNSServer { q, _ in
            [reply(q, answers: [self.txt(q, "hello")], authentic: true)]
        }
        let resolver = NetworkResolver(conf: ResolvConf(servers: [server.server], timeout: 2, attempts: 1))
        let (texts, result) = try await resolver.lookupTXT(DNSName("example.org"))
        #expect(texts == ["hello"])
        #expect(result.authentic)
        _ = try await resolver.lookupTXT(DNSName("EXAMPLE.org"))
        #expect(server.counters.udp.load(ordering: .relaxed) == 1, "second lookup from the cache")
        await server.close()
    }

    @Test func truncatedUDPRetriedOverTCP() async throws {
        let server = try await FakeDNSServer { q, tcp in
            [tcp ? reply(q, answers: [self.txt(q, String(repeating: "x", count: 200))]) : reply(q, truncated: true)]
        }
        let resolver = NetworkResolver(conf: ResolvConf(servers: [server.server], timeout: 2, attempts: 1))
        let (texts, _) = try await resolver.lookupTXT(DNSName("big.example.org"))
        #expect(texts == [String(repeating: "x", count: 200)])
        #expect(server.counters.tcp.load(ordering: .relaxed) == 1)
        await server.close()
    }

    @Test func spoofedRepliesAreIgnored() async throws {
        // RFC 5452: a reply with another id, one for another question, and garbage come first;
        // the resolver waits for the one that matches.
        let server = try await FakeDNSServer { q, _ in
            var wrongID = q
            wrongID.id &+= 1
            var otherQuestion = q
            otherQuestion.questions = [DNSQuestion(name: try! DNSName("evil.example"), type: .txt)]
            return [
                reply(wrongID, answers: [self.txt(q, "spoof")]),
                reply(otherQuestion, answers: [self.txt(q, "spoof")]),
                [1, 2, 3],
                reply(q, answers: [self.txt(q, "real")]),
            ]
        }
        let resolver = NetworkResolver(conf: ResolvConf(servers: [server.server], timeout: 2, attempts: 1))
        #expect(try await resolver.lookupTXT(DNSName("example.org")).0 == ["real"])
        await server.close()
    }

    @Test func nxdomainAndNodata() async throws {
        let server = try await FakeDNSServer { q, _ in
            [q.questions[0].name.labels.first == Array("nx".utf8) ? reply(q, rcode: .nameError) : reply(q)]
        }
        let resolver = NetworkResolver(conf: ResolvConf(servers: [server.server], timeout: 2, attempts: 1))
        await #expect(throws: DNSError.notFound(name: "nx.example.", nxdomain: true)) {
            try await resolver.lookupTXT(DNSName("nx.example"))
        }
        await #expect(throws: DNSError.notFound(name: "empty.example.", nxdomain: false)) {
            try await resolver.lookupTXT(DNSName("empty.example"))
        }
        await server.close()
    }

    @Test func servfailMovesToTheNextServerAndIsTemporary() async throws {
        let failing = try await FakeDNSServer { q, _ in [reply(q, rcode: .serverFailure)] }
        let working = try await FakeDNSServer { q, _ in [reply(q, answers: [self.txt(q, "ok")])] }
        let resolver = NetworkResolver(conf: ResolvConf(servers: [failing.server, working.server], timeout: 2, attempts: 1))
        #expect(try await resolver.lookupTXT(DNSName("example.org")).0 == ["ok"])
        let alone = NetworkResolver(conf: ResolvConf(servers: [failing.server], timeout: 2, attempts: 2))
        let name = try DNSName("example.org")
        do {
            _ = try await alone.lookupTXT(name)
            Issue.record("no error")
        } catch {
            #expect(error.isTemporary)
            guard case .serverFailure(_, let rcode, _) = error else { Issue.record("\(error)"); return }
            #expect(rcode == .serverFailure)
        }
        #expect(failing.counters.udp.load(ordering: .relaxed) == 3, "one query, then two attempts")
        await failing.close()
        await working.close()
    }

    @Test func aServerThatDropsPacketsTimesOut() async throws {
        let silent = try await FakeDNSServer { _, _ in [] }
        let resolver = NetworkResolver(conf: ResolvConf(servers: [silent.server], timeout: 1, attempts: 2))
        let started = ContinuousClock.now
        await #expect(throws: DNSError.timeout(name: "example.org.")) {
            try await resolver.lookupTXT(DNSName("example.org"))
        }
        let took = started.duration(to: .now)
        #expect(took >= .seconds(2) && took < .seconds(5), "two attempts of one second: \(took)")
        #expect(silent.counters.udp.load(ordering: .relaxed) == 2)
        await silent.close()
    }
}
