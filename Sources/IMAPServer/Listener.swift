// Accepting IMAP connections: one listening socket per address and port, one task per
// connection, and a clean stop. Between NIO's pipeline and a session's async code sits one
// AsyncStream of events (MailNetwork's bridge), into which the account's changes also send a
// wakeup, so a session waits on input and mailbox changes at once (IDLE).

import MailNetwork
import MailStore
import MailTLS
import NIOCore
import NIOPosix
import NIOSSL
import NIOTLS
import Synchronization

public final class IMAPListener: Sendable {
    public let localAddress: SocketAddress?
    private let channel: any Channel
    private let connections: ConnectionSet

    private init(channel: any Channel, connections: ConnectionSet) {
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
        let connections = ConnectionSet()
        let channel = try await ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 1024)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let (events, continuation) = AsyncStream<InboundEvent>.makeStream()
                    let pipeline = channel.pipeline.syncOperations
                    if options.implicitTLS {
                        guard let tls = options.tls else {
                            throw ChannelError.operationUnsupported
                        }
                        try pipeline.addHandler(tls.makeHandler())
                    }
                    try pipeline.addHandler(IdleStateHandler(readTimeout: options.preAuthTimeout), name: "idle")
                    try pipeline.addHandler(InboundBridge(continuation: continuation))
                    let connection = IMAPConnection(
                        channel: channel,
                        events: events,
                        continuation: continuation,
                        options: options,
                        backend: backend,
                        remoteIP: channel.remoteAddress?.ipAddress ?? ""
                    )
                    connections.start(channel: channel, continuation: continuation) { await connection.run() }
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
