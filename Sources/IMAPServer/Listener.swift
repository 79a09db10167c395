// Accepting IMAP connections: MailNetwork's listener with the IMAP pipeline (implicit TLS for
// IMAPS, the idle timer, which login replaces) and an IMAP session per connection. The
// account's changes reach a session through the same bounded event stream as its input, as a
// wakeup signal, so a session waits on input and mailbox changes at once (IDLE).

import Logging
import MailNetwork
import MailStore
import MailTLS
import NIOCore
import NIOPosix
import NIOSSL

public final class IMAPListener: Sendable {
    public let localAddress: SocketAddress?
    private let listener: MailListener

    private init(listener: MailListener) {
        self.listener = listener
        self.localAddress = listener.localAddress
    }

    /// Binds `host:port` and serves IMAP there until ``stop(grace:)``.
    public static func start(
        host: String,
        port: Int,
        options: IMAPServerOptions,
        backend: any IMAPBackend,
        group: any EventLoopGroup,
        logger: Logger = Logger(label: "imapserver")
    ) async throws -> IMAPListener {
        if options.implicitTLS && options.tls == nil {
            throw ChannelError.operationUnsupported
        }
        let listener = try await MailListener.start(
            host: host,
            port: port,
            group: group,
            limits: options.connectionLimits,
            backlog: 1024,
            logger: logger,
            configure: { channel in
                let pipeline = channel.pipeline.syncOperations
                if options.implicitTLS, let tls = options.tls {
                    try pipeline.addHandler(tls.makeHandler())
                }
                try pipeline.addHandler(IdleStateHandler(readTimeout: options.preAuthTimeout), name: "idle")
            },
            session: { connection, admission in
                let session = IMAPConnection(connection: connection, options: options, backend: backend, logger: logger)
                await session.run(admission: admission)
            }
        )
        return IMAPListener(listener: listener)
    }

    /// How many connections are open.
    public var connectionCount: Int { self.listener.connectionCount }

    /// Stops accepting, tells every connection to finish (a BYE), waits up to `grace`, then
    /// closes what is left and waits for them to end.
    public func stop(grace: Duration = .seconds(3)) async {
        await self.listener.stop(grace: grace)
    }
}
