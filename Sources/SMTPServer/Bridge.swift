// Between NIO's channel pipeline and a connection's async session: inbound bytes and events go
// into an AsyncStream the session reads; the session writes with the channel.

import NIOCore
import NIOSSL
import NIOTLS

/// What the session reads from the connection.
enum InboundEvent: Sendable {
    case bytes([UInt8])
    /// The TLS handshake (after STARTTLS, or at the start on port 465) has completed.
    case tlsReady
    /// No input for the idle timeout.
    case idleTimeout
    /// The server is stopping: finish the current reply and close.
    case shutdown
    /// The peer closed the connection, or it failed.
    case closed
}

final class InboundBridge: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = ByteBuffer

    private let continuation: AsyncStream<InboundEvent>.Continuation

    init(continuation: AsyncStream<InboundEvent>.Continuation) {
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
        // A TLS failure or reset: the session sees the connection as closed.
        self.continuation.yield(.closed)
        self.continuation.finish()
        context.close(promise: nil)
    }
}
