/// Takes exactly the announced number of bytes of one BDAT chunk from a stream that arrives in
/// arbitrary pieces.
/// - SeeAlso: RFC 3030 2
public struct BDATReceiver: Hashable, Sendable {
    /// The result of one `feed`.
    public struct Output: Hashable, Sendable {
        /// Chunk bytes in this piece of input.
        public var data: ArraySlice<UInt8>
        /// Whether the whole chunk has now been received.
        public var isComplete: Bool
        /// Bytes after the chunk: the next pipelined command.
        public var leftover: ArraySlice<UInt8>
    }

    public let size: Int
    public private(set) var remaining: Int

    public init(size: Int) {
        self.size = max(size, 0)
        self.remaining = self.size
    }

    public var isComplete: Bool { self.remaining == 0 }

    public mutating func feed(_ bytes: ArraySlice<UInt8>) -> Output {
        let n = min(self.remaining, bytes.count)
        self.remaining -= n
        let split = bytes.startIndex + n
        return Output(data: bytes[..<split], isComplete: self.remaining == 0, leftover: bytes[split...])
    }

    public mutating func feed(_ bytes: [UInt8]) -> Output {
        self.feed(bytes[...])
    }
}
