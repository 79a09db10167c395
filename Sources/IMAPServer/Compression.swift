// COMPRESS=DEFLATE (RFC 4978): after the tagged OK, both directions of the connection are a raw
// DEFLATE stream (RFC 1951, no zlib or gzip framing). This handler sits between TLS (if any)
// and the session's bridge: it inflates what comes in and deflates what goes out, with a sync
// flush after every write so each response reaches the client at once.

import CZlib
import NIOCore

final class DeflateHandler: ChannelDuplexHandler, @unchecked Sendable {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    /// The most that one received chunk may inflate to: more is a decompression bomb.
    static let maxInflatedPerRead = 16 * 1024 * 1024

    // Used only on the channel's event loop.
    private var inflater = z_stream()
    private var deflater = z_stream()
    private var ready = false

    init?() {
        guard czlib_inflate_init_raw(&self.inflater) == Z_OK else { return nil }
        guard czlib_deflate_init_raw(&self.deflater, 6) == Z_OK else {
            inflateEnd(&self.inflater)
            return nil
        }
        self.ready = true
    }

    deinit {
        if self.ready {
            inflateEnd(&self.inflater)
            deflateEnd(&self.deflater)
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var input = Self.unwrapInboundIn(data)
        var output = context.channel.allocator.buffer(capacity: max(4096, input.readableBytes * 4))
        var failed = false
        input.withUnsafeMutableReadableBytes { raw in
            guard let base = raw.baseAddress else { return }
            self.inflater.next_in = base.assumingMemoryBound(to: Bytef.self)
            self.inflater.avail_in = uInt(raw.count)
            while true {
                if output.writableBytes < 1024 { output.reserveCapacity(minimumWritableBytes: max(4096, output.capacity)) }
                let produced: Int = output.withUnsafeMutableWritableBytes { out in
                    self.inflater.next_out = out.baseAddress?.assumingMemoryBound(to: Bytef.self)
                    self.inflater.avail_out = uInt(out.count)
                    let status = inflate(&self.inflater, Z_SYNC_FLUSH)
                    if status != Z_OK && status != Z_BUF_ERROR { failed = true }
                    return out.count - Int(self.inflater.avail_out)
                }
                output.moveWriterIndex(forwardBy: produced)
                if failed || output.readableBytes > Self.maxInflatedPerRead {
                    failed = true
                    return
                }
                // All input taken and room left over: everything it held is out.
                if self.inflater.avail_in == 0 && self.inflater.avail_out != 0 { break }
            }
        }
        if failed {
            // Not a valid DEFLATE stream, or too large: nothing sensible can follow.
            context.close(promise: nil)
            return
        }
        if output.readableBytes > 0 {
            context.fireChannelRead(Self.wrapInboundOut(output))
        }
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        var input = Self.unwrapOutboundIn(data)
        var output = context.channel.allocator.buffer(capacity: input.readableBytes / 2 + 64)
        input.withUnsafeMutableReadableBytes { raw in
            self.deflater.next_in = raw.baseAddress?.assumingMemoryBound(to: Bytef.self)
            self.deflater.avail_in = uInt(raw.count)
            repeat {
                if output.writableBytes < 1024 { output.reserveCapacity(minimumWritableBytes: max(4096, output.capacity)) }
                let produced: Int = output.withUnsafeMutableWritableBytes { out in
                    self.deflater.next_out = out.baseAddress?.assumingMemoryBound(to: Bytef.self)
                    self.deflater.avail_out = uInt(out.count)
                    _ = deflate(&self.deflater, Z_SYNC_FLUSH)
                    return out.count - Int(self.deflater.avail_out)
                }
                output.moveWriterIndex(forwardBy: produced)
            } while self.deflater.avail_out == 0 || self.deflater.avail_in > 0
        }
        context.write(Self.wrapOutboundOut(output), promise: promise)
    }
}
