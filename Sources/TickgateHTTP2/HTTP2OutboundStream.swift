package import NIOCore

/// What one stream has still to send: gRPC message bytes waiting for
/// flow-control window, and the trailers that close the stream. The owner
/// appends to `pending`; the session drains it into DATA frames.
package final class HTTP2OutboundStream {
    package internal(set) var streamID: Int32 = -1
    /// Bytes not yet handed to nghttp2. Many gRPC messages may wait here and
    /// leave together in one DATA frame.
    #if DEBUG
    package var pending: ByteBuffer
    #else
    @exclusivity(unchecked) package var pending: ByteBuffer
    #endif
    /// Trailers to send once `pending` is empty (server side).
    package private(set) var trailers: [HTTP2Header]? = nil
    /// No data follows what is pending: end the stream after it.
    package private(set) var finished = false
    /// nghttp2 was told there is nothing to send (`NGHTTP2_ERR_DEFERRED`) and
    /// must be resumed when bytes arrive.
    var deferred = false
    /// The session stopped serving this stream.
    package internal(set) var closed = false

    package init(allocator: ByteBufferAllocator = ByteBufferAllocator(), initialCapacity: Int = 0) {
        self.pending = allocator.buffer(capacity: initialCapacity)
    }

    /// Sends what is pending, then ends the stream (with `trailers`, if any).
    package func finish(trailers: [HTTP2Header]?) {
        guard !finished else { return }
        self.trailers = trailers
        self.finished = true
    }

    /// Drops whatever is still pending (the stream is being reset).
    package func discardPending() {
        pending.clear()
    }

    /// Read bytes at the front are given back once they outweigh what is
    /// still unread (and a few KiB): a reader that always leaves a little
    /// pending must not make the buffer grow with every byte it took. The
    /// move costs at most what was read since the last one, so it is
    /// amortised; the capacity stays within a small multiple of the most
    /// that was ever pending at once.
    package func compactPending() {
        if pending.readableBytes == 0 {
            pending.clear()
        } else if pending.readerIndex >= Self.compactionFloor && pending.readerIndex >= pending.readableBytes {
            pending.discardReadBytes()
        }
    }

    static let compactionFloor = 16 * 1024
}
