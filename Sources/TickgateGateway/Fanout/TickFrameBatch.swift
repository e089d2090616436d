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
}
