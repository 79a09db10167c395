// Accepting SMTP connections: one listening socket per address and port, one task per
// connection, and a clean stop.

import MailNetwork
import MailTLS
import NIOCore
import NIOPosix
import NIOSSL
import Synchronization

public final class SMTPListener: Sendable {
    public let localAddress: SocketAddress?
    private let channel: any Channel
    private let connections: ConnectionSet

    private init(channel: any Channel, connections: ConnectionSet) {
        self.channel = channel
        self.localAddress = channel.localAddress
        self.connections = connections
    }

    /// Binds `host:port` and serves SMTP there until ``stop(grace:)``.
    public static func start(
        host: String,
        port: Int,
        options: SMTPServerOptions,
        backend: any SMTPBackend,
        group: any EventLoopGroup
    ) async throws -> SMTPListener {
        let connections = ConnectionSet()
        let channel = try await ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let (events, continuation) = AsyncStream<InboundEvent>.makeStream()
                    let pipeline = channel.pipeline.syncOperations
                    if options.listener == .submissions {
                        guard let tls = options.tls else {
                            throw ChannelError.operationUnsupported
                        }
                        try pipeline.addHandler(tls.makeHandler())
                    }
                    try pipeline.addHandler(IdleStateHandler(readTimeout: options.idleTimeout))
                    try pipeline.addHandler(InboundBridge(continuation: continuation))
                    let connection = SMTPConnection(
                        channel: channel,
                        events: events,
                        options: options,
                        backend: backend,
                        remoteIP: channel.remoteAddress?.ipAddress ?? "",
                        localIP: channel.localAddress?.ipAddress ?? ""
                    )
                    connections.start(channel: channel, continuation: continuation) { await connection.run() }
                }
            }
            .bind(host: host, port: port)
            .get()
        return SMTPListener(channel: channel, connections: connections)
    }

    /// Stops accepting, tells every connection to finish (a 421 at its next command), waits up
    /// to `grace` for them, then closes what is left and waits for their tasks to end.
    public func stop(grace: Duration = .seconds(3)) async {
        try? await self.channel.close()
        await self.connections.shutdown(grace: grace)
    }
}
