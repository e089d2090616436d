package import NIOCore

/// Moves bytes between one NIO channel and one ``NGHTTP2Session``: the
/// driving code the gateway's connections and the client's share. It lives
/// on the channel's event loop.
///
/// Writes are coalesced: frames produced while a read is being parsed go
/// out in one write when the read completes (``readComplete(context:)``),
/// and ``flush(context:)`` writes everything nghttp2 has ready in one
/// channel write. The flush is re-entrancy-safe: NIO may call back into the
/// handler (`channelWritabilityChanged`) from inside `writeAndFlush`, and a
/// flush asked for then only makes the running one take another pass,
/// after the bytes it handed over are gone from its buffer.
package final class HTTP2ChannelDriver {
    package enum FlushOutcome: Equatable {
        /// Bytes went to the channel (or there were none).
        case wrote(bytes: Int)
        /// The channel is not writable: nothing was taken from nghttp2, so
        /// flow-controlled bytes wait where they are (bounded by their owners).
        case notWritable
        /// Asked from inside a running flush: it takes another pass.
        case deferred
        /// nghttp2 failed: close the connection.
        case failed(HTTP2SessionError)
    }

    package let session: NGHTTP2Session
    private let allocator: ByteBufferAllocator
    #if DEBUG
    private var outBuffer: ByteBuffer
    #else
    @exclusivity(unchecked) private var outBuffer: ByteBuffer
    #endif
    #if DEBUG
    private var flushing = false
    #else
    @exclusivity(unchecked) private var flushing = false
    #endif
    #if DEBUG
    private var flushAgain = false
    #else
    @exclusivity(unchecked) private var flushAgain = false
    #endif
    /// Inside ``read(_:)``: flushes wait for the read to complete.
    #if DEBUG
    package private(set) var inRead = false
    #else
    @exclusivity(unchecked) package private(set) var inRead = false
    #endif
    /// An out buffer larger than this and than twice the last write is
    /// given back, so that an idle connection holds little.
    package var retainedBufferCapacity = 16 * 1024

    package init(session: NGHTTP2Session, allocator: ByteBufferAllocator = ByteBufferAllocator()) {
        self.session = session
        self.allocator = allocator
        self.outBuffer = allocator.buffer(capacity: 0)
    }

    /// Feeds bytes read from the socket. Throws when the peer broke the
    /// protocol badly enough that the connection must close.
    package func read(_ bytes: ByteBuffer) throws(HTTP2SessionError) {
        inRead = true
        defer { inRead = false }
        try session.receive(bytes)
    }

    /// Writes whatever nghttp2 has ready, in one channel write per pass.
    /// `beforeSend` runs at the start of each pass (resume streams that
    /// have bytes).
    @discardableResult
    package func flush(context: ChannelHandlerContext, beforeSend: () -> Void = {}) -> FlushOutcome {
        guard !flushing else {
            flushAgain = true
            return .deferred
        }
        flushing = true
        defer { flushing = false }
        var written = 0
        repeat {
            flushAgain = false
            beforeSend()
            guard context.channel.isWritable else { return .notWritable }
            do {
                try session.send(into: &outBuffer)
            } catch {
                return .failed(error)
            }
            let count = outBuffer.readableBytes
            guard count > 0 else { continue }
            written += count
            // NIO gets its own reference to the bytes; ours is emptied
            // before anything (a re-entrant flush included) appends again.
            context.writeAndFlush(NIOAny(outBuffer), promise: nil)
            if outBuffer.capacity > max(retainedBufferCapacity, 2 * count) {
                // Traffic fell: give the storage back, sized for what this
                // write needed (an idle connection holds little).
                outBuffer = allocator.buffer(capacity: count)
            } else {
                // Reuses the storage when the channel wrote it all (NIO
                // let go of it); a new one of the same size (no growth
                // while the next write fills it) when it still holds it.
                outBuffer.clear()
            }
        } while flushAgain
        return .wrote(bytes: written)
    }

    /// Neither side wants the connection any more: close it once written.
    package var isFinished: Bool { session.isFinished }

    /// Frees the session (once nghttp2 has returned, when called from one
    /// of its callbacks). Idempotent. The out buffer goes with the driver:
    /// a flush may still be holding it here.
    package func close() {
        session.close()
    }
}
