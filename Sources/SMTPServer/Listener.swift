// Accepting SMTP connections: MailNetwork's listener with the SMTP pipeline (implicit TLS for
// submissions, the idle timer) and an SMTP session per connection.

import Logging
import MailNetwork
import MailTLS
import NIOCore
import NIOPosix
import NIOSSL

public final class SMTPListener: Sendable {
    public let localAddress: SocketAddress?
    private let listener: MailListener

    private init(listener: MailListener) {
        self.listener = listener
        self.localAddress = listener.localAddress
    }

    /// Binds `host:port` and serves SMTP there until ``stop(grace:)``.
    public static func start(
        host: String,
        port: Int,
        options: SMTPServerOptions,
        backend: any SMTPBackend,
        group: any EventLoopGroup,
        logger: Logger = Logger(label: "smtpserver")
    ) async throws -> SMTPListener {
        if options.listener == .submissions && options.tls == nil {
            throw ChannelError.operationUnsupported
        }
        let listener = try await MailListener.start(
            host: host,
            port: port,
            group: group,
            limits: options.connectionLimits,
            logger: logger,
            configure: { channel in
                let pipeline = channel.pipeline.syncOperations
                if options.listener == .submissions, let tls = options.tls {
                    try pipeline.addHandler(tls.makeHandler())
                }
                try pipeline.addHandler(IdleStateHandler(readTimeout: options.idleTimeout))
            },
            session: { connection, admission in
                let session = SMTPConnection(connection: connection, options: options, backend: backend, logger: logger)
                await session.run(admission: admission)
            }
        )
        return SMTPListener(listener: listener)
    }

    /// How many connections are open.
    public var connectionCount: Int { self.listener.connectionCount }

    /// Stops accepting, tells every connection to finish (a 421 at its next command), waits up
    /// to `grace` for them, then closes what is left and waits for them to end.
    public func stop(grace: Duration = .seconds(3)) async {
        await self.listener.stop(grace: grace)
    }
}
