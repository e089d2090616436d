import NIOCore

/// Ticks from one Kafka batch, each already encoded once as a complete gRPC
/// message, in one buffer shared read-only by every event loop.
struct TickFrameBatch: Sendable {
    struct Entry: Sendable {
        var symbol: String
        var start: Int
        var length: Int
    }

    var buffer: ByteBuffer
    var entries: [Entry]
    /// t3 of the batch's first tick: the loop reports receive → write per turn.
    var firstReceiveNanos: Int64 = 0
}
