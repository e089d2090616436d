import NIOCore

/// Ticks from one Kafka batch, each already encoded once as a complete gRPC
/// message, in one buffer shared read-only by every event loop.
struct TickFrameBatch: Sendable {
    struct Entry: Sendable {
        /// The (venue, symbol) number (``MarketKeys``).
        var key: Int32
        var partition: Int32
        var offset: Int64
        var start: Int
        var length: Int
        /// Read back from Kafka at start-up for the last-value cache: not
        /// delivered live.
        var warmup = false
    }

    var buffer: ByteBuffer
    var entries: [Entry]
    /// t3 of the batch's first tick: the loop reports receive → write per turn.
    var firstReceiveNanos: Int64 = 0
}
