/// MailNetwork: the one listener and connection layer the SMTP, IMAP and HTTP servers share. An
/// accept loop over NIOAsyncChannel in a discarding task group; per connection a bounded inbound
/// stream of events (reads stop while the session is behind: a flooding client costs a fixed
/// amount of memory) and writes that wait until the socket took them (a client that does not read
/// stops its session, not the server); limits on connections in total and per address; a clean
/// stop; and a log line with the cause for every connection that ends on an error.
/// Protocol logic stays in the servers; this module knows nothing about SMTP, IMAP or HTTP.

import Logging
import NIOCore
import NIOPosix
import NIOTLS
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// What a session reads from its connection.
public enum ConnectionEvent: Sendable {
    case bytes(ByteBuffer)
    /// The TLS handshake (after STARTTLS, or at the start with implicit TLS) has completed.
    case tlsReady
    /// No input for the idle timeout.
    case idleTimeout
    /// Something outside the connection wants the session's attention (IMAP: the account
    /// changed); what it is waits elsewhere.
    case wakeup
    /// The server is stopping: finish what is under way and close.
    case shutdown
    /// The server's grace period is over: close now.
    case shutdownNow
}

/// Sent into a connection's pipeline from outside, to arrive in order with its input.
public enum ConnectionSignal: Sendable {
    case wakeup
    case shutdown
    case shutdownNow
}

/// Turns reads and pipeline events into `ConnectionEvent`s for the connection's async stream,
/// and keeps the error that ends the connection, for its log line.
public final class ConnectionEventHandler: ChannelInboundHandler, @unchecked Sendable {
    public typealias InboundIn = ByteBuffer
    public typealias InboundOut = ConnectionEvent

    /// Set on the event loop, read after the connection ended.
    let failure = Mutex<String?>(nil)

    public init() {}

    public func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        context.fireChannelRead(Self.wrapInboundOut(.bytes(Self.unwrapInboundIn(data))))
    }

    public func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let tls = event as? TLSUserEvent, case .handshakeCompleted = tls {
            self.deliver(.tlsReady, context)
        } else if let idle = event as? IdleStateHandler.IdleStateEvent, idle == .read {
            self.deliver(.idleTimeout, context)
        } else if let signal = event as? ConnectionSignal {
            switch signal {
            case .wakeup: self.deliver(.wakeup, context)
            case .shutdown: self.deliver(.shutdown, context)
            case .shutdownNow: self.deliver(.shutdownNow, context)
            }
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    /// An event that is not a read: the async channel hands reads to the session at the end of
    /// a read burst, so one is ended here.
    private func deliver(_ event: ConnectionEvent, _ context: ChannelHandlerContext) {
        context.fireChannelRead(Self.wrapInboundOut(event))
        context.fireChannelReadComplete()
    }

    public func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // A TLS failure or a reset: the session sees the end of its input.
        self.failure.withLock { if $0 == nil { $0 = "\(error)" } }
        context.close(promise: nil)
    }
}

/// Process-wide connection ids, as mox makes them: a counter that starts at the time of start in
/// milliseconds, so ids do not repeat across restarts; shown in hexadecimal in logs.
public enum ConnectionID {
    static let counter = Atomic<UInt64>(UInt64(Self.nowMilliseconds()))

    public static func next() -> UInt64 {
        counter.add(1, ordering: .relaxed).newValue
    }

    static func nowMilliseconds() -> Int {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return ts.tv_sec * 1000 + ts.tv_nsec / 1_000_000
    }
}

/// One accepted connection, as its session sees it. Read and written by the session's task;
/// `signal` may be called from anywhere.
public final class MailConnection: @unchecked Sendable {
    public let id: UInt64
    public let channel: any Channel
    public let remoteIP: String
    public let localIP: String
    public let remotePort: Int
    public let localPort: Int
    private var iterator: NIOAsyncChannelInboundStream<ConnectionEvent>.AsyncIterator
    private let handler: ConnectionEventHandler
    /// Why the input ended, when it ended on an error.
    public private(set) var readError: String?
    /// Set by a session that logged why its connection ended, so the listener does not again.
    public var failureLogged = false

    init(
        id: UInt64,
        channel: any Channel,
        inbound: NIOAsyncChannelInboundStream<ConnectionEvent>,
        handler: ConnectionEventHandler
    ) {
        self.id = id
        self.channel = channel
        self.iterator = inbound.makeAsyncIterator()
        self.handler = handler
        self.remoteIP = channel.remoteAddress?.ipAddress ?? ""
        self.localIP = channel.localAddress?.ipAddress ?? ""
        self.remotePort = channel.remoteAddress?.port ?? 0
        self.localPort = channel.localAddress?.port ?? 0
    }

    /// The next event; nil once the peer closed the connection or it failed.
    public func next() async -> ConnectionEvent? {
        do {
            return try await self.iterator.next()
        } catch {
            if self.readError == nil { self.readError = "\(error)" }
            return nil
        }
    }

    /// Writes and flushes, returning once the socket has taken the bytes (so output waiting
    /// for a slow reader is at most one write). False when the connection is gone.
    @discardableResult
    public func write(_ bytes: [UInt8]) async -> Bool {
        guard !bytes.isEmpty else { return true }
        return await self.write(self.channel.allocator.buffer(bytes: bytes))
    }

    @discardableResult
    public func write(_ buffer: ByteBuffer) async -> Bool {
        do {
            try await self.channel.writeAndFlush(buffer)
            return true
        } catch {
            return false
        }
    }

    public func close() {
        self.channel.close(promise: nil)
    }

    /// Delivers a signal to the session, in order with its input.
    public func signal(_ signal: ConnectionSignal) {
        let channel = self.channel
        channel.eventLoop.execute {
            channel.pipeline.fireUserInboundEventTriggered(signal)
        }
    }

    /// Why the connection ended, if it was an error rather than a close by either side.
    public var failure: String? {
        self.handler.failure.withLock { $0 } ?? self.readError
    }
}

/// Whether a new connection may be served: over a limit, the session says so in its protocol and
/// closes.
public enum Admission: Sendable, Equatable {
    case admitted
    case tooManyConnections
    case tooManyFromAddress
}

/// Connection limits of a listener.
public struct ConnectionLimits: Sendable {
    /// Open connections in total.
    public var maxConnections: Int
    /// Open connections from one address (IPv4) or one /64 (IPv6), as mox groups them.
    public var maxConnectionsPerAddress: Int
    /// Events buffered for a session that is behind before reads stop (each at most one read).
    public var inboundHighWatermark: Int

    public init(maxConnections: Int = 10_000, maxConnectionsPerAddress: Int = 30, inboundHighWatermark: Int = 8) {
        self.maxConnections = maxConnections
        self.maxConnectionsPerAddress = maxConnectionsPerAddress
        self.inboundHighWatermark = inboundHighWatermark
    }

    public static let unlimited = ConnectionLimits(maxConnections: .max, maxConnectionsPerAddress: .max)
}

/// A listening socket and its connections.
public final class MailListener: Sendable {
    public let localAddress: SocketAddress?
    let serverChannel: any Channel
    let state = Mutex(State())
    let limits: ConnectionLimits
    let acceptLoop = Mutex<Task<Void, Never>?>(nil)
    public let logger: Logger

    /// An open connection as the listener sees it: enough to stop it.
    struct TrackedConnection: Sendable {
        let channel: any Channel
        let signal: @Sendable (any Channel, ConnectionSignal) -> Void
    }

    struct State {
        var connections: [UInt64: TrackedConnection] = [:]
        var perAddress: [String: Int] = [:]
        var total = 0
    }

    private init(serverChannel: any Channel, limits: ConnectionLimits, logger: Logger) {
        self.serverChannel = serverChannel
        self.localAddress = serverChannel.localAddress
        self.limits = limits
        self.logger = logger
    }

    /// Binds `host:port` and runs `session` for every connection until ``stop(grace:)``.
    /// `configure` adds the handlers that go first in each connection's pipeline (TLS for
    /// implicit TLS, the idle timer).
    public static func start(
        host: String,
        port: Int,
        group: any EventLoopGroup,
        limits: ConnectionLimits = ConnectionLimits(),
        backlog: Int32 = 256,
        logger: Logger,
        configure: @escaping @Sendable (any Channel) throws -> Void,
        session: @escaping @Sendable (MailConnection, Admission) async -> Void
    ) async throws -> MailListener {
        let watermark = max(2, limits.inboundHighWatermark)
        return try await Self.start(
            host: host,
            port: port,
            group: group,
            limits: limits,
            backlog: backlog,
            logger: logger,
            setup: { channel in
                channel.eventLoop.makeCompletedFuture {
                    try configure(channel)
                    let handler = ConnectionEventHandler()
                    try channel.pipeline.syncOperations.addHandler(handler)
                    let async = try NIOAsyncChannel<ConnectionEvent, Never>(
                        wrappingChannelSynchronously: channel,
                        configuration: .init(
                            backPressureStrategy: .init(lowWatermark: 1, highWatermark: watermark)
                        )
                    )
                    return (async, handler)
                }
            },
            signal: { channel, signal in
                channel.eventLoop.execute {
                    channel.pipeline.fireUserInboundEventTriggered(signal)
                }
            },
            session: { (value: (NIOAsyncChannel<ConnectionEvent, Never>, ConnectionEventHandler), id, admission, listener) in
                let (child, handler) = value
                do {
                    try await child.executeThenClose { inbound, _ in
                        let connection = MailConnection(
                            id: id,
                            channel: child.channel,
                            inbound: inbound,
                            handler: handler
                        )
                        await session(connection, admission)
                        if let failure = connection.failure, !connection.failureLogged {
                            listener.logger.info(
                                "connection ended with an error",
                                metadata: [
                                    "err": "\(failure)", "remote": "\(connection.remoteIP):\(connection.remotePort)",
                                    "cid": "\(String(connection.id, radix: 16))",
                                ]
                            )
                        }
                    }
                } catch {
                    listener.logger.debug("closing connection", metadata: ["err": "\(error)"])
                }
            }
        )
    }

    /// The general form, for protocols with their own pipeline (HTTP): `setup` builds each
    /// accepted channel's pipeline and the value its session works with; `signal` passes
    /// ``ConnectionSignal``s on (a graceful stop, then an immediate one). Limits, accounting and
    /// stopping are the same as for the mail protocols.
    public static func start<Value: Sendable>(
        host: String,
        port: Int,
        group: any EventLoopGroup,
        limits: ConnectionLimits = ConnectionLimits(),
        backlog: Int32 = 256,
        logger: Logger,
        setup: @escaping @Sendable (any Channel) -> EventLoopFuture<Value>,
        signal: @escaping @Sendable (any Channel, ConnectionSignal) -> Void,
        session: @escaping @Sendable (Value, UInt64, Admission, MailListener) async -> Void
    ) async throws -> MailListener {
        let server = try await ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: backlog)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .bind(host: host, port: port) { channel in
                setup(channel).map { (channel, $0) }
            }
        let listener = MailListener(serverChannel: server.channel, limits: limits, logger: logger)
        let task = Task {
            await withDiscardingTaskGroup { group in
                do {
                    try await server.executeThenClose { inbound in
                        for try await (channel, value) in inbound {
                            group.addTask {
                                await listener.serve(channel, value, signal: signal, session: session)
                            }
                        }
                    }
                } catch {
                    logger.error("accepting connections", metadata: ["err": "\(error)"])
                }
            }
        }
        listener.acceptLoop.withLock { $0 = task }
        return listener
    }

    /// The key connections are counted under: the address, or its /64 for IPv6.
    static func addressKey(_ ip: String) -> String {
        NetworkRateLimiter.groups(ip)?.first ?? ip
    }

    func serve<Value: Sendable>(
        _ channel: any Channel,
        _ value: Value,
        signal: @escaping @Sendable (any Channel, ConnectionSignal) -> Void,
        session: @Sendable (Value, UInt64, Admission, MailListener) async -> Void
    ) async {
        let id = ConnectionID.next()
        let key = Self.addressKey(channel.remoteAddress?.ipAddress ?? "")
        let tracked = TrackedConnection(channel: channel, signal: signal)
        let admission = self.state.withLock { state -> Admission in
            if state.total >= self.limits.maxConnections { return .tooManyConnections }
            if state.perAddress[key, default: 0] >= self.limits.maxConnectionsPerAddress {
                return .tooManyFromAddress
            }
            state.total += 1
            state.perAddress[key, default: 0] += 1
            state.connections[id] = tracked
            return .admitted
        }
        defer {
            if admission == .admitted {
                self.state.withLock { state in
                    state.total -= 1
                    state.perAddress[key, default: 1] -= 1
                    if state.perAddress[key] == 0 { state.perAddress[key] = nil }
                    state.connections[id] = nil
                }
            }
        }
        await session(value, id, admission, self)
    }

    func waitForConnections(until deadline: ContinuousClock.Instant) async {
        while ContinuousClock.now < deadline, self.connectionCount > 0 {
            try? await Task.sleep(for: .milliseconds(20))
        }
    }

    /// How many connections are open.
    public var connectionCount: Int {
        self.state.withLock { $0.total }
    }

    /// Stops accepting, tells every connection to finish what is under way (each protocol says
    /// goodbye its own way), waits up to `grace` for them, then tells those left to stop at once,
    /// gives them a second, closes what is still open and waits for all to end.
    public func stop(grace: Duration = .seconds(3)) async {
        try? await self.serverChannel.close()
        for connection in self.state.withLock({ Array($0.connections.values) }) {
            connection.signal(connection.channel, .shutdown)
        }
        await self.waitForConnections(until: ContinuousClock.now + grace)
        for connection in self.state.withLock({ Array($0.connections.values) }) {
            connection.signal(connection.channel, .shutdownNow)
        }
        await self.waitForConnections(until: ContinuousClock.now + .seconds(1))
        for connection in self.state.withLock({ Array($0.connections.values) }) {
            connection.channel.close(promise: nil)
        }
        let task = self.acceptLoop.withLock { $0 }
        await task?.value
    }
}

/// Counts per IP address in fixed windows of time: connections per minute, failed logins per
/// hour. Bounded: when it tracks too many addresses, expired windows are dropped.
public final class PerIPWindows: Sendable {
    private struct Window {
        var start: Int
        var count: Int
    }
    private let entries = Mutex<[String: Window]>([:])
    /// The window's length in seconds.
    public let seconds: Int

    public init(seconds: Int) {
        self.seconds = seconds
    }

    /// Adds `add` to the IP's count in the current window and returns the count.
    public func count(_ ip: String, add: Int) -> Int {
        let now = Self.monotonicSeconds()
        let window = self.seconds
        return self.entries.withLock { entries in
            if entries.count > 100_000 {
                entries = entries.filter { now - $0.value.start < window }
            }
            var entry = entries[ip] ?? Window(start: now, count: 0)
            if now - entry.start >= window {
                entry = Window(start: now, count: 0)
            }
            entry.count += add
            entries[ip] = entry
            return entry.count
        }
    }

    static func monotonicSeconds() -> Int {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return ts.tv_sec
    }
}
