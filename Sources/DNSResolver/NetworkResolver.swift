// The network implementation of MailDNS.Resolver: queries the servers of /etc/resolv.conf over
// UDP, and over TCP when a reply is truncated (RFC 1035 4.2, RFC 7766 5), with the timeouts,
// attempts and server rotation resolv.conf asks for, and a cache by TTL. The servers should be
// a validating recursive resolver on a trusted path (unbound on the same host): the AD bit of
// its replies is passed on as `authentic`, never checked here.

import Logging
import MailAddress
import MailDNS
import MailMetrics
import NIOCore
import NIOPosix
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

public final class NetworkResolver: MailDNS.Resolver {
    public let conf: ResolvConf
    let group: any EventLoopGroup
    let cache: Mutex<DNSCache>
    let next = Atomic<Int>(0)
    let logger: Logger
    /// The package name for mox's mox_dns_lookup_duration_seconds metric.
    let package: String

    public init(
        conf: ResolvConf,
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        cacheCapacity: Int = 10000,
        package: String = "dns",
        logger: Logger = Logger(label: "dns")
    ) {
        self.conf = conf
        self.group = group
        self.cache = Mutex(DNSCache(capacity: cacheCapacity))
        self.package = package
        self.logger = logger
    }

    /// The system's resolver configuration, /etc/resolv.conf (the local host when absent).
    public static func systemConf(path: String = "/etc/resolv.conf") -> ResolvConf {
        guard let text = Self.readFile(path) else { return ResolvConf(servers: ResolvConf.localServers) }
        return ResolvConf(parsing: text)
    }

    static func readFile(_ path: String) -> String? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var out: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while out.count < 1 << 20 {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n <= 0 { break }
            out += buffer[..<n]
        }
        return String(decoding: out, as: UTF8.self)
    }

    public func clearCache() {
        self.cache.withLock { $0.removeAll() }
    }

    public func query(_ name: DNSName, _ type: RRType) async throws(DNSError) -> DNSAnswer {
        let now = Self.monotonicSeconds()
        if let cached = self.cache.withLock({ $0.get(name, type, now: now) }) {
            return cached
        }
        let started = ContinuousClock.now
        do {
            let message = try await self.exchange(name, type)
            let answer = DNSAnswer(message: message, name: name, type: type)
            self.cache.withLock { $0.put(answer, from: message, now: Self.monotonicSeconds()) }
            let result = answer.rcode == .nameError || answer.records.isEmpty ? "nxdomain" : "ok"
            MoxMetrics.dnsLookup(package: self.package, type: Self.metricType(type), result: result, seconds: started.duration(to: .now).seconds)
            return answer
        } catch {
            MoxMetrics.dnsLookup(
                package: self.package, type: Self.metricType(type), result: error.metricResult,
                seconds: started.duration(to: .now).seconds
            )
            throw error
        }
    }

    static func metricType(_ type: RRType) -> String {
        switch type {
        case .a, .aaaa: return "ip"
        case .ptr: return "addr"
        default: return type.description.lowercased()
        }
    }

    static func monotonicSeconds() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }

    /// One question to the servers in turn, `attempts` rounds: the first NOERROR or NXDOMAIN
    /// reply wins; SERVFAIL, REFUSED and the like move on to the next server (RFC 1035 7.2).
    func exchange(_ name: DNSName, _ type: RRType) async throws(DNSError) -> DNSMessage {
        let servers = self.conf.servers
        guard !servers.isEmpty else { throw .unreachable(name: name.description, reason: "no dns servers configured") }
        let first = self.conf.rotate ? self.next.add(1, ordering: .relaxed).oldValue % servers.count : 0
        var lastError = DNSError.timeout(name: name.description)
        for _ in 0..<max(1, self.conf.attempts) {
            for i in 0..<servers.count {
                let server = servers[(first + i) % servers.count]
                // RFC 5452 9.2: an unpredictable id (and the source port the system picks).
                let query = DNSMessage.query(id: UInt16.random(in: 0...UInt16.max), name: name, type: type)
                do {
                    var reply: DNSMessage
                    if self.conf.useTCP {
                        reply = try await self.tcp(query, server)
                    } else {
                        reply = try await self.udp(query, server)
                        if reply.truncated {
                            // RFC 7766 5: a truncated UDP reply is retried over TCP.
                            reply = try await self.tcp(query, server)
                        }
                    }
                    switch reply.rcode {
                    case .noError, .nameError:
                        return reply
                    default:
                        lastError = .serverFailure(name: name.description, rcode: reply.rcode, server: server.description)
                    }
                } catch let error as ExchangeError {
                    switch error {
                    case .timeout: lastError = .timeout(name: name.description)
                    case .unreachable(let reason): lastError = .unreachable(name: name.description, reason: "\(server): \(reason)")
                    case .malformed(let reason): lastError = .malformed(name: name.description, reason: "\(server): \(reason)")
                    }
                    self.logger.debug(
                        "dns exchange failed",
                        metadata: ["server": "\(server)", "name": "\(name)", "type": "\(type)", "err": "\(lastError)"]
                    )
                } catch {
                    lastError = .unreachable(name: name.description, reason: "\(server): \(error)")
                }
            }
        }
        throw lastError
    }

    enum ExchangeError: Error {
        case timeout
        case unreachable(String)
        case malformed(String)
    }

    func socketAddress(_ server: ResolvConf.Server) throws -> SocketAddress {
        try SocketAddress(ipAddress: server.address.description, port: server.port)
    }

    /// One query over UDP: replies from other addresses, with another id or for another
    /// question are dropped (RFC 5452 3, 4.3), and waiting goes on until the timeout.
    func udp(_ query: DNSMessage, _ server: ResolvConf.Server) async throws -> DNSMessage {
        let remote = try self.socketAddress(server)
        let eventLoop = self.group.next()
        let promise = eventLoop.makePromise(of: DNSMessage.self)
        let handler = UDPReplyHandler(query: query, remote: remote, promise: promise)
        let channel: any Channel
        do {
            channel = try await DatagramBootstrap(group: eventLoop)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(handler) }
                }
                .connect(to: remote)
                .get()
        } catch {
            throw ExchangeError.unreachable("\(error)")
        }
        let timeout = eventLoop.scheduleTask(in: .seconds(Int64(self.conf.timeout))) {
            promise.fail(ExchangeError.timeout)
        }
        var buffer = channel.allocator.buffer(capacity: 512)
        buffer.writeBytes(query.wire)
        channel.writeAndFlush(AddressedEnvelope(remoteAddress: remote, data: buffer)).whenFailure { error in
            promise.fail(ExchangeError.unreachable("\(error)"))
        }
        defer {
            timeout.cancel()
            channel.close(promise: nil)
        }
        return try await promise.futureResult.get()
    }

    /// One query over TCP: a two-octet length before each message (RFC 1035 4.2.2).
    func tcp(_ query: DNSMessage, _ server: ResolvConf.Server) async throws -> DNSMessage {
        let remote = try self.socketAddress(server)
        let eventLoop = self.group.next()
        let promise = eventLoop.makePromise(of: DNSMessage.self)
        let handler = TCPReplyHandler(query: query, promise: promise)
        let timeout = eventLoop.scheduleTask(in: .seconds(Int64(self.conf.timeout))) {
            promise.fail(ExchangeError.timeout)
        }
        defer { timeout.cancel() }
        let channel: any Channel
        do {
            channel = try await ClientBootstrap(group: eventLoop)
                .connectTimeout(.seconds(Int64(self.conf.timeout)))
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(handler) }
                }
                .connect(to: remote)
                .get()
        } catch let error as ChannelError where error == .connectTimeout(.seconds(Int64(self.conf.timeout))) {
            throw ExchangeError.timeout
        } catch {
            throw ExchangeError.unreachable("\(error)")
        }
        defer { channel.close(promise: nil) }
        let wire = query.wire
        var buffer = channel.allocator.buffer(capacity: wire.count + 2)
        buffer.writeInteger(UInt16(wire.count))
        buffer.writeBytes(wire)
        channel.writeAndFlush(buffer).whenFailure { error in
            promise.fail(ExchangeError.unreachable("\(error)"))
        }
        return try await promise.futureResult.get()
    }
}

/// Whether a parsed reply answers the query: RFC 5452 3 (id, question) and RFC 1035 4.1.1 (QR).
func replyMatches(_ reply: DNSMessage, _ query: DNSMessage) -> Bool {
    guard reply.isResponse, reply.id == query.id else { return false }
    // A server may leave the question out of an error reply (FORMERR, NOTIMP).
    if reply.questions.isEmpty { return reply.rcode != .noError && reply.rcode != .nameError }
    return reply.questions == query.questions
}

final class UDPReplyHandler: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>

    let query: DNSMessage
    let remote: SocketAddress
    let promise: EventLoopPromise<DNSMessage>

    init(query: DNSMessage, remote: SocketAddress, promise: EventLoopPromise<DNSMessage>) {
        self.query = query
        self.remote = remote
        self.promise = promise
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let envelope = Self.unwrapInboundIn(data)
        guard envelope.remoteAddress == self.remote else { return }
        let bytes = Array(envelope.data.readableBytesView)
        // A reply that does not parse or does not match may be spoofed: keep waiting for the
        // real one, as RFC 5452 9.1 advises.
        guard let reply = try? DNSMessage(parsing: bytes), replyMatches(reply, self.query) else { return }
        self.promise.succeed(reply)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // A connected UDP socket reports ICMP port unreachable as ECONNREFUSED.
        self.promise.fail(NetworkResolver.ExchangeError.unreachable("\(error)"))
    }
}

final class TCPReplyHandler: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = ByteBuffer

    let query: DNSMessage
    let promise: EventLoopPromise<DNSMessage>
    var buffer = ByteBuffer()

    init(query: DNSMessage, promise: EventLoopPromise<DNSMessage>) {
        self.query = query
        self.promise = promise
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var incoming = Self.unwrapInboundIn(data)
        self.buffer.writeBuffer(&incoming)
        while let length = self.buffer.getInteger(at: self.buffer.readerIndex, as: UInt16.self),
            self.buffer.readableBytes >= 2 + Int(length)
        {
            self.buffer.moveReaderIndex(forwardBy: 2)
            let bytes = self.buffer.readBytes(length: Int(length)) ?? []
            do {
                let reply = try DNSMessage(parsing: bytes)
                // Over TCP the connection is ours alone: a reply that does not match is an error.
                guard replyMatches(reply, self.query) else {
                    self.promise.fail(NetworkResolver.ExchangeError.malformed("reply does not match the query"))
                    return
                }
                self.promise.succeed(reply)
            } catch {
                self.promise.fail(NetworkResolver.ExchangeError.malformed(error.description))
            }
            return
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.promise.fail(NetworkResolver.ExchangeError.unreachable("connection closed before a reply"))
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        self.promise.fail(NetworkResolver.ExchangeError.unreachable("\(error)"))
    }
}

