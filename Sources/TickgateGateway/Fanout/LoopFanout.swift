import NIOCore
import Synchronization

/// Everything the gateway routes on one event loop: the symbol table of the
/// loop's streams and the connections that have bytes to write. Ticks arrive
/// once per Kafka batch; delivering to a stream is a memcpy into its pending
/// buffer, with no encode, allocation or lock.
final class LoopFanout {
    let eventLoop: any EventLoop
    let stats: GatewayStats
    var table = SubscriptionTable<GatewayStream>()
    private var dirtyConnections: [GatewayConnectionHandler] = []

    init(eventLoop: any EventLoop, stats: GatewayStats) {
        self.eventLoop = eventLoop
        self.stats = stats
    }

    func deliver(_ batch: TickFrameBatch) {
        var deliveries = 0
        batch.buffer.withUnsafeReadableBytes { raw in
            for entry in batch.entries {
                guard let subscribers = table.subscribers(of: entry.symbol) else { continue }
                let bytes = UnsafeRawBufferPointer(rebasing: raw[entry.start..<(entry.start + entry.length)])
                for stream in subscribers.list {
                    stream.enqueueTick(bytes)
                }
                deliveries &+= subscribers.list.count
            }
        }
        flushDirtyConnections()
        if deliveries > 0 { stats.deliveries.add(deliveries, ordering: .relaxed) }
    }

    func markDirty(_ connection: GatewayConnectionHandler) {
        guard !connection.isDirty else { return }
        connection.isDirty = true
        dirtyConnections.append(connection)
    }

    /// One write per connection per batch.
    func flushDirtyConnections() {
        guard !dirtyConnections.isEmpty else { return }
        // A flush can mark connections dirty again (a stream reset as too
        // slow queues its RST_STREAM): those join this same pass.
        var index = 0
        while index < dirtyConnections.count {
            let connection = dirtyConnections[index]
            connection.isDirty = false
            connection.flush()
            index += 1
        }
        dirtyConnections.removeAll(keepingCapacity: true)
    }
}

/// Batches handed to a loop and not yet delivered; bounds the reader.
final class InFlightCounter: Sendable {
    let value = Atomic<Int>(0)
}
