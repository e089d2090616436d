package import NIOCore

/// Reassembles gRPC length-prefixed messages from DATA frame payloads: a
/// message may span frames and a frame may hold several messages. The size
/// limit is checked on the prefix, before any bytes are buffered for it.
package struct GRPCMessageDeframer {
    package enum Failure: Error, Equatable {
        /// The declared length is over the limit (RESOURCE_EXHAUSTED).
        case tooLarge(length: Int, limit: Int)
        /// The compressed flag is set but no message encoding was negotiated (INTERNAL).
        case compressedWithoutEncoding
        /// The compressed-flag byte is neither 0 nor 1 (INTERNAL).
        case invalidFlag(UInt8)
        /// The stream ended inside a message (INTERNAL).
        case truncated(missing: Int)
    }

    package let maxMessageSize: Int
    private var buffer: ByteBuffer

    package init(maxMessageSize: Int, allocator: ByteBufferAllocator = ByteBufferAllocator()) {
        self.maxMessageSize = maxMessageSize
        self.buffer = allocator.buffer(capacity: 0)
    }

    package mutating func append(_ bytes: UnsafeRawBufferPointer) {
        buffer.writeBytes(bytes)
    }

    package mutating func append(_ bytes: ByteBuffer) {
        var bytes = bytes
        buffer.writeBuffer(&bytes)
    }

    /// The next complete message, nil when more bytes are needed.
    package mutating func next() throws(Failure) -> ByteBuffer? {
        guard buffer.readableBytes >= 5,
              let flag = buffer.getInteger(at: buffer.readerIndex, as: UInt8.self),
              let length32 = buffer.getInteger(at: buffer.readerIndex + 1, as: UInt32.self)
        else { return nil }
        switch flag {
        case 0: break
        case 1: throw .compressedWithoutEncoding
        default: throw .invalidFlag(flag)
        }
        let length = Int(length32)
        guard length <= maxMessageSize else { throw .tooLarge(length: length, limit: maxMessageSize) }
        guard buffer.readableBytes >= 5 + length else { return nil }
        buffer.moveReaderIndex(forwardBy: 5)
        let message = buffer.readSlice(length: length)!
        if buffer.readableBytes == 0 {
            buffer.clear()
        } else if buffer.readerIndex > 65_536 {
            buffer.discardReadBytes()
        }
        return message
    }

    /// Appends `bytes` and hands each complete message to `handle` while
    /// `accepting()` holds. Returns the failure that ends the call, if any.
    package mutating func feed(
        _ bytes: UnsafeRawBufferPointer, while accepting: () -> Bool, _ handle: (ByteBuffer) -> Void
    ) -> Failure? {
        append(bytes)
        do {
            while accepting(), let message = try next() { handle(message) }
        } catch {
            return error
        }
        return nil
    }

    /// The peer ended the stream: the failure if a message is cut short.
    package func unfinished() -> Failure? {
        do {
            try checkComplete()
            return nil
        } catch {
            return error
        }
    }

    package var hasBufferedBytes: Bool { buffer.readableBytes > 0 }

    /// Call when the peer ended the stream: fails if a message is cut short.
    package func checkComplete() throws(Failure) {
        guard buffer.readableBytes > 0 else { return }
        if buffer.readableBytes < 5 {
            throw .truncated(missing: 5 - buffer.readableBytes)
        }
        let length = Int(buffer.getInteger(at: buffer.readerIndex + 1, as: UInt32.self)!)
        throw .truncated(missing: 5 + length - buffer.readableBytes)
    }
}
