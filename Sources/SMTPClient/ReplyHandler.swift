// The channel handler under the SMTP client: bytes from the server go through SMTPProtocol's
// reply reader; complete replies wait in order until the client asks for one, with a deadline.
// Everything here runs on the channel's event loop.

import NIOCore
import NIOTLS
import SMTPProtocol

final class ReplyHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer

    private var reader = SMTPReplyReader()
    private var ready = CircularBuffer<SMTPReply>()
    private var waiter: (promise: EventLoopPromise<SMTPReply>, timer: Scheduled<Void>?)?
    /// Why no more replies will come, once that is known.
    private var ended: SMTPClientError.Kind?
    private var tlsWaiter: EventLoopPromise<Void>?
    private var tlsDone = false

    /// Bytes received that are not (yet) part of a returned reply.
    var pendingBytes: Int { self.reader.pendingCount }
    var queuedReplies: Int { self.ready.count }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var buffer = Self.unwrapInboundIn(data)
        if let bytes = buffer.readBytes(length: buffer.readableBytes) {
            self.reader.feed(bytes)
        }
        do {
            while let reply = try self.reader.next() {
                self.ready.append(reply)
            }
        } catch {
            self.end(.protocolError("\(error)"))
            context.close(promise: nil)
            return
        }
        self.serve()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let tls = event as? TLSUserEvent, case .handshakeCompleted = tls {
            self.tlsDone = true
            self.tlsWaiter?.succeed(())
            self.tlsWaiter = nil
        }
        context.fireUserInboundEventTriggered(event)
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.end(.closed)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        self.end(.io("\(error)"))
        context.close(promise: nil)
    }

    private func end(_ kind: SMTPClientError.Kind) {
        if self.ended == nil { self.ended = kind }
        self.serve()
        if let waiter = self.tlsWaiter {
            self.tlsWaiter = nil
            waiter.fail(SMTPClientError(kind, stage: .tls))
        }
    }

    private func serve() {
        guard let (promise, timer) = self.waiter else { return }
        if let reply = self.ready.popFirst() {
            self.waiter = nil
            timer?.cancel()
            promise.succeed(reply)
        } else if let ended = self.ended {
            self.waiter = nil
            timer?.cancel()
            promise.fail(SMTPClientError(ended, stage: .unknown))
        }
    }

    /// The next reply, failing after `timeout` (and closing the connection, whose state is
    /// unknown then).
    func next(timeout: TimeAmount, on loop: any EventLoop, channel: any Channel) -> EventLoopFuture<SMTPReply> {
        let promise = loop.makePromise(of: SMTPReply.self)
        precondition(self.waiter == nil, "one reader at a time")
        let timer = loop.scheduleTask(in: timeout) { [weak self] in
            guard let self, let (waiting, _) = self.waiter, waiting.futureResult === promise.futureResult else { return }
            self.waiter = nil
            waiting.fail(SMTPClientError(.timeout, stage: .unknown))
            channel.close(promise: nil)
        }
        self.waiter = (promise, timer)
        self.serve()
        return promise.futureResult
    }

    /// Completes when the TLS handshake has, fails when the connection ends first.
    func handshake(on loop: any EventLoop) -> EventLoopFuture<Void> {
        if self.tlsDone { return loop.makeSucceededVoidFuture() }
        if let ended = self.ended { return loop.makeFailedFuture(SMTPClientError(ended, stage: .tls)) }
        let promise = loop.makePromise(of: Void.self)
        self.tlsWaiter = promise
        return promise.futureResult
    }
}
