import NIOCore
import NIOEmbedded
import Testing

@testable import IMAPServer

/// COMPRESS=DEFLATE's handler: what one side deflates, the other inflates; garbage closes.
@Suite struct CompressionTests {
    @Test func deflatedOutputInflatesBackAcrossWrites() throws {
        let sender = EmbeddedChannel(handler: try #require(DeflateHandler()))
        let receiver = EmbeddedChannel(handler: try #require(DeflateHandler()))
        let lines = ["* OK first\r\n", String(repeating: "* 1 FETCH (FLAGS (\\Seen))\r\n", count: 2000), "t1 OK done\r\n"]
        var received: [UInt8] = []
        for line in lines {
            try sender.writeOutbound(sender.allocator.buffer(string: line))
            // Each write is flushed on its own (Z_SYNC_FLUSH), so it inflates completely at once.
            while let compressed = try sender.readOutbound(as: ByteBuffer.self) {
                try receiver.writeInbound(compressed)
            }
            while var plain = try receiver.readInbound(as: ByteBuffer.self) {
                received += plain.readBytes(length: plain.readableBytes) ?? []
            }
            #expect(received.count == lines.prefix { $0 != line }.reduce(0) { $0 + $1.utf8.count } + line.utf8.count)
        }
        #expect(String(decoding: received, as: UTF8.self) == lines.joined())
        _ = try sender.finish()
        _ = try receiver.finish()
    }

    @Test func invalidInputClosesTheConnection() throws {
        let channel = EmbeddedChannel(handler: try #require(DeflateHandler()))
        // 0xff starts a DEFLATE block of the reserved type 3: not a valid stream.
        try channel.writeInbound(channel.allocator.buffer(bytes: [0xff, 0xff, 0xff, 0xff]))
        #expect(try channel.readInbound(as: ByteBuffer.self) == nil)
        #expect(!channel.isActive)
    }
}
