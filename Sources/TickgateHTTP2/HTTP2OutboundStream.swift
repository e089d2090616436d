/// What one stream has still to send: gRPC message bytes waiting for
/// flow-control window, and the trailers that close the stream. The owner
/// appends to `pending`; the session drains it into DATA frames.
package final class HTTP2OutboundStream {
    #if DEBUG
    package internal(set) var streamID: Int32 = -1
    #else
    @exclusivity(unchecked) package internal(set) var streamID: Int32 = -1
    #endif
    /// Bytes not yet handed to nghttp2. Many gRPC messages may wait here and
    /// leave together in one DATA frame.
    package let pending = PendingBytes()
    /// Trailers to send once `pending` is empty (server side).
    #if DEBUG
    package private(set) var trailers: [HTTP2Header]? = nil
    #else
    @exclusivity(unchecked) package private(set) var trailers: [HTTP2Header]? = nil
    #endif
    /// No data follows what is pending: end the stream after it.
    #if DEBUG
    package private(set) var finished = false
    #else
    @exclusivity(unchecked) package private(set) var finished = false
    #endif
    /// nghttp2 was told there is nothing to send (`NGHTTP2_ERR_DEFERRED`) and
    /// must be resumed when bytes arrive.
    #if DEBUG
    var deferred = false
    #else
    @exclusivity(unchecked) var deferred = false
    #endif
    /// Listed with its connection's output for the next flush pass (the
    /// owner's bookkeeping: the session does not read it). The flag lives in
    /// ``PendingBytes/isQueuedForFlush``, which a delivery touches anyway.
    /// The flush pass took the stream off its list.
    @inlinable @inline(__always)
    package func unqueueForFlush() {
        pending.isQueuedForFlush = false
    }

    /// Marks the stream as listed for the next flush; false if it already was.
    @inlinable @inline(__always)
    package func queueForFlush() -> Bool {
        pending.markQueuedForFlush()
    }
    /// The session stopped serving this stream.
    #if DEBUG
    package internal(set) var closed = false
    #else
    @exclusivity(unchecked) package internal(set) var closed = false
    #endif

    // Read on every data-source read and every flush of the stream: loop
    // confined like the rest, so unchecked in release builds too.
    /// gRPC-Web: the trailers go at the end of the body, as a trailer
    /// frame (``GRPCWeb/trailerFrame(_:)``), not as HTTP trailers.
    #if DEBUG
    package var trailersInBody = false
    #else
    @exclusivity(unchecked) package var trailersInBody = false
    #endif
    /// gRPC-Web text mode: the body leaves base64-encoded (each DATA frame
    /// or chunk on its own, padded).
    #if DEBUG
    package var base64Body = false
    #else
    @exclusivity(unchecked) package var base64Body = false
    #endif

    /// Set when what the owner appends is not what leaves: the bytes go
    /// through it to another stream first (Server-Sent Events). The
    /// connection flushes what it returns.
    #if DEBUG
    package var transcoder: (any OutboundTranscoder)? = nil
    #else
    @exclusivity(unchecked) package var transcoder: (any OutboundTranscoder)? = nil
    #endif

    package init() {}

    /// Sends what is pending, then ends the stream (with `trailers`, if any).
    package func finish(trailers: [HTTP2Header]?) {
        guard !finished else { return }
        if trailersInBody {
            pending.writeBytes(GRPCWeb.trailerFrame(trailers ?? []))
            self.trailers = nil
        } else {
            self.trailers = trailers
        }
        self.finished = true
    }

    /// Drops whatever is still pending (the stream is being reset).
    package func discardPending() {
        pending.clear()
    }

    /// After bytes were sent: see ``PendingBytes/compact()``.
    package func compactPending() {
        pending.compact()
    }
}

/// Turns what one call appends to its ``HTTP2OutboundStream`` into what
/// leaves on the wire, in another stream (gRPC messages into Server-Sent
/// Events). Called by the connection before each write.
package protocol OutboundTranscoder: AnyObject {
    /// Moves what it can (bounded) and returns the stream to send from.
    func transcode() -> HTTP2OutboundStream
}
