// SOCKS version 5 (RFC 1928) for the Socks transport: outgoing SMTP connections made through a
// proxy, as mox does (no authentication, CONNECT to the IP address chosen by direct delivery).
// The messages are built and parsed here without NIO; SOCKS5Handler runs them on a channel.

import MailAddress
import NIOCore

public enum SOCKS5 {
    /// Why a proxy did not give us a connection.
    public struct Failure: Error, Sendable, Equatable, CustomStringConvertible {
        public var message: String
        public var description: String { self.message }

        public init(message: String) {
            self.message = message
        }
    }

    /// RFC 1928 3: version 5, one method offered, 0x00 "no authentication required".
    public static let greeting: [UInt8] = [5, 1, 0]

    /// RFC 1928 3: the method the proxy chose; nil while fewer than two bytes have arrived.
    public static func parseMethodReply(_ bytes: ArraySlice<UInt8>) throws(Failure) -> Int? {
        guard bytes.count >= 2 else { return nil }
        let b = Array(bytes.prefix(2))
        guard b[0] == 5 else { throw Failure(message: "socks proxy answered with version \(b[0]), not 5") }
        // 0xFF: none of the offered methods is acceptable (the proxy wants authentication).
        guard b[1] == 0 else {
            throw Failure(message: b[1] == 0xFF ? "socks proxy requires authentication" : "socks proxy chose unoffered method \(b[1])")
        }
        return 2
    }

    /// RFC 1928 4: CONNECT to an IPv4 (ATYP 1) or IPv6 (ATYP 4) address and port.
    public static func connectRequest(ip: String, port: Int) throws(Failure) -> [UInt8] {
        guard (1...65535).contains(port) else { throw Failure(message: "invalid port \(port)") }
        guard let address = IPAddress(ip) else { throw Failure(message: "not an ip address: \(ip)") }
        var out: [UInt8] = [5, 1, 0, address.isIPv4 ? 1 : 4]
        out += address.bytes
        out += [UInt8(port >> 8), UInt8(port & 0xFF)]
        return out
    }

    /// RFC 1928 6: the reply to CONNECT; the number of bytes it took, or nil when incomplete.
    public static func parseConnectReply(_ bytes: ArraySlice<UInt8>) throws(Failure) -> Int? {
        let b = Array(bytes.prefix(5))
        guard b.count >= 2 else { return nil }
        guard b[0] == 5 else { throw Failure(message: "socks proxy answered with version \(b[0]), not 5") }
        guard b[1] == 0 else { throw Failure(message: "socks proxy: \(Self.replyText(b[1]))") }
        guard b.count >= 5 else { return nil }
        // VER REP RSV ATYP BND.ADDR BND.PORT
        let addressLength: Int
        switch b[3] {
        case 1: addressLength = 4
        case 4: addressLength = 16
        case 3: addressLength = 1 + Int(b[4])
        default: throw Failure(message: "socks proxy: unknown address type \(b[3]) in reply")
        }
        let total = 4 + addressLength + 2
        return bytes.count >= total ? total : nil
    }

    /// RFC 1928 6: the REP field.
    static func replyText(_ code: UInt8) -> String {
        switch code {
        case 1: return "general SOCKS server failure"
        case 2: return "connection not allowed by ruleset"
        case 3: return "network unreachable"
        case 4: return "host unreachable"
        case 5: return "connection refused"
        case 6: return "TTL expired"
        case 7: return "command not supported"
        case 8: return "address type not supported"
        default: return "unknown reply code \(code)"
        }
    }
}

/// Runs the SOCKS5 exchange when the channel to the proxy is up, then removes itself; bytes
/// that came after the proxy's reply (the SMTP greeting) go on up the pipeline.
final class SOCKS5Handler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    private enum State { case method, connect, done }

    private let request: [UInt8]
    private let promise: EventLoopPromise<Void>
    private var state = State.method
    private var received: [UInt8] = []
    private var failed = false

    init(request: [UInt8], promise: EventLoopPromise<Void>) {
        self.request = request
        self.promise = promise
    }

    func channelActive(context: ChannelHandlerContext) {
        context.writeAndFlush(NIOAny(context.channel.allocator.buffer(bytes: SOCKS5.greeting)), promise: nil)
        // The handlers above see the connection once the proxy has made it.
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var buffer = Self.unwrapInboundIn(data)
        if self.state == .done {
            context.fireChannelRead(data)
            return
        }
        self.received += buffer.readBytes(length: buffer.readableBytes) ?? []
        // A proxy reply is at most 4 + 256 + 2 bytes; anything longer before it is complete is
        // not a SOCKS server.
        do {
            if self.state == .method, let n = try SOCKS5.parseMethodReply(self.received[...]) {
                self.received.removeFirst(n)
                self.state = .connect
                context.writeAndFlush(NIOAny(context.channel.allocator.buffer(bytes: self.request)), promise: nil)
            }
            if self.state == .connect, let n = try SOCKS5.parseConnectReply(self.received[...]) {
                self.received.removeFirst(n)
                self.state = .done
                let rest = self.received
                self.received = []
                self.promise.succeed(())
                context.fireChannelActive()
                if !rest.isEmpty {
                    context.fireChannelRead(NIOAny(context.channel.allocator.buffer(bytes: rest)))
                }
                context.pipeline.syncOperations.removeHandler(self, promise: nil)
            } else if self.received.count > 262 {
                throw SOCKS5.Failure(message: "socks proxy sent an overlong reply")
            }
        } catch {
            self.fail(error, context)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        if self.state != .done {
            self.fail(SOCKS5.Failure(message: "socks proxy closed the connection"), context)
        }
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if self.state != .done {
            self.fail(error, context)
        } else {
            context.fireErrorCaught(error)
        }
    }

    private func fail(_ error: any Error, _ context: ChannelHandlerContext) {
        guard !self.failed else { return }
        self.failed = true
        self.promise.fail(error)
        context.close(promise: nil)
    }
}
