// Accepting IMAP connections: one listening socket per address and port, one task per
// connection, and a clean stop. Between NIO's pipeline and a session's async code sits one
// AsyncStream of events: bytes read, TLS ready, timeouts, shutdown, and the account's store
// changes, so a session waits on input and mailbox changes at once (IDLE).

import MailStore
import MailTLS
import NIOCore
import NIOPosix
import NIOSSL
import NIOTLS
import Synchronization

/// What a session reads.
enum IMAPEvent: Sendable {
    case bytes([UInt8])
    /// The TLS handshake (after STARTTLS, or at the start on IMAPS) has completed.
    case tlsReady
    /// No input for the idle timeout.
    case idleTimeout
    /// The server is stopping.
    case shutdown
    /// The peer closed the connection, or it failed.
    case closed
    /// The logged-in account changed; the changes wait in the session's queue.
    case storeChanged
}

final class IMAPInboundBridge: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = ByteBuffer

    private let continuation: AsyncStream<IMAPEvent>.Continuation

    init(continuation: AsyncStream<IMAPEvent>.Continuation) {
        self.continuation = continuation
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = Self.unwrapInboundIn(data)
        self.continuation.yield(.bytes(Array(buffer.readableBytesView)))
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let tls = event as? TLSUserEvent, case .handshakeCompleted = tls {
            self.continuation.yield(.tlsReady)
        } else if let idle = event as? IdleStateHandler.IdleStateEvent, idle == .read {
            self.continuation.yield(.idleTimeout)
        }
        context.fireUserInboundEventTriggered(event)
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.continuation.yield(.closed)
        self.continuation.finish()
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        self.continuation.yield(.closed)
        self.continuation.finish()
        context.close(promise: nil)
    }
}

public final class IMAPListener: Sendable {
    public let localAddress: SocketAddress?
    private let channel: any Channel
    private let connections: IMAPConnectionSet

    private init(channel: any Channel, connections: IMAPConnectionSet) {
        self.channel = channel
        self.localAddress = channel.localAddress
        self.connections = connections
    }

    /// Binds `host:port` and serves IMAP there until ``stop(grace:)``.
    public static func start(
        host: String,
        port: Int,
        options: IMAPServerOptions,
        backend: any IMAPBackend,
        group: any EventLoopGroup
    ) async throws -> IMAPListener {
        let connections = IMAPConnectionSet()
        let channel = try await ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 1024)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let (events, continuation) = AsyncStream<IMAPEvent>.makeStream()
                    let pipeline = channel.pipeline.syncOperations
                    if options.implicitTLS {
                        guard let tls = options.tls else {
                            throw ChannelError.operationUnsupported
                        }
                        try pipeline.addHandler(NIOSSLServerHandler(context: tls.context))
                    }
                    try pipeline.addHandler(IdleStateHandler(readTimeout: options.preAuthTimeout), name: "idle")
                    try pipeline.addHandler(IMAPInboundBridge(continuation: continuation))
                    let connection = IMAPConnection(
                        channel: channel,
                        events: events,
                        continuation: continuation,
                        options: options,
                        backend: backend,
                        remoteIP: channel.remoteAddress?.ipAddress ?? ""
                    )
                    connections.start(connection, continuation)
                }
            }
            .bind(host: host, port: port)
            .get()
        return IMAPListener(channel: channel, connections: connections)
    }

    /// Stops accepting, tells every connection to finish (a BYE), waits up to `grace`, then
    /// closes what is left and waits for their tasks to end.
    public func stop(grace: Duration = .seconds(3)) async {
        try? await self.channel.close()
        await self.connections.shutdown(grace: grace)
    }
}

/// The connections of a listener, to stop them together.
final class IMAPConnectionSet: Sendable {
    private struct Entry {
        var task: Task<Void, Never>
        var continuation: AsyncStream<IMAPEvent>.Continuation
        var channel: any Channel
    }
    private let entries = Mutex<[ObjectIdentifier: Entry]>([:])

    func start(_ connection: IMAPConnection, _ continuation: AsyncStream<IMAPEvent>.Continuation) {
        let key = ObjectIdentifier(connection)
        self.entries.withLock { entries in
            let task = Task {
                await connection.run()
                _ = self.entries.withLock { $0.removeValue(forKey: key) }
            }
            entries[key] = Entry(task: task, continuation: continuation, channel: connection.channel)
        }
    }

    func shutdown(grace: Duration) async {
        let current = self.entries.withLock { Array($0.values) }
        for entry in current {
            entry.continuation.yield(.shutdown)
        }
        let deadline = ContinuousClock.now + grace
        while ContinuousClock.now < deadline, !self.entries.withLock({ $0.isEmpty }) {
            try? await Task.sleep(for: .milliseconds(20))
        }
        for entry in self.entries.withLock({ Array($0.values) }) {
            entry.channel.close(promise: nil)
            entry.task.cancel()
        }
        for entry in current {
            await entry.task.value
        }
    }
}
