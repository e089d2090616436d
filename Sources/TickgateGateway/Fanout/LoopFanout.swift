import NIOCore
import TickgateModel
import Synchronization

/// Everything the gateway routes on one event loop: the symbol table of the
/// loop's streams and the connections that have bytes to write. Ticks arrive
/// once per Kafka batch; delivering to a stream is a memcpy into its pending
/// buffer, with no encode, allocation or lock.
final class LoopFanout {
    let eventLoop: any EventLoop
    let stats: GatewayStats
    /// nil in the micro-benchmark harness.
    let metrics: GatewayMetrics?
    /// nil when publishing through the gateway is off.
    let publish: PublishCoordinator?
    /// Subscribed symbols reported stale, with their last tick time (t3).
    private(set) var staleSymbols: [String: Int64] = [:]
    var staleAfterNanos: Int64? = nil
    var table = SubscriptionTable<GatewayStream>()
    private var dirtyConnections: [GatewayConnectionHandler] = []

    init(eventLoop: any EventLoop, stats: GatewayStats, metrics: GatewayMetrics? = nil, publish: PublishCoordinator? = nil) {
        self.eventLoop = eventLoop
        self.stats = stats
        self.metrics = metrics
        self.publish = publish
    }

    /// Delivers every batch taken in this loop turn, then writes each
    /// connection once.
    func deliver(_ batches: [TickFrameBatch]) {
        var deliveries = 0
        for batch in batches {
            batch.buffer.withUnsafeReadableBytes { raw in
                for entry in batch.entries {
                    guard let subscribers = table.subscribers(of: entry.symbol) else { continue }
                    if !staleSymbols.isEmpty, staleSymbols.removeValue(forKey: entry.symbol) != nil {
                        // Back to life: say so before its first tick.
                        subscribers.forEach {
                            $0.sendStatus(symbol: entry.symbol, stale: false, lastTickTimeNanos: batch.firstReceiveNanos)
                        }
                    }
                    let bytes = UnsafeRawBufferPointer(rebasing: raw[entry.start..<(entry.start + entry.length)])
                    subscribers.forEach { $0.enqueueTick(bytes) }
                    deliveries &+= subscribers.count
                }
            }
        }
        flushDirtyConnections()
        if deliveries > 0 {
            stats.deliveries.add(deliveries, ordering: .relaxed)
            if let metrics, let first = batches.first?.firstReceiveNanos, first > 0 {
                metrics.recordGatewayToWrite(nanos: WallClock.nowNanos() - first)
            }
        }
    }

    /// Once a second: subscribed symbols whose last tick is older than
    /// `staleAfterNanos` are reported stale to their subscribers, once.
    func checkStaleness(now: Int64) {
        guard let limit = staleAfterNanos else { return }
        let lastTicks = stats.lastTickTimes()
        table.forEachSymbol { symbol, subscribers in
            guard staleSymbols[symbol] == nil, let last = lastTicks[symbol], now - last > limit else { return }
            staleSymbols[symbol] = last
            subscribers.forEach { $0.sendStatus(symbol: symbol, stale: true, lastTickTimeNanos: last) }
        }
        flushDirtyConnections()
    }

    private var flushScheduled = false

    /// For bytes queued outside a read or a delivery (a publish summary, a
    /// reset): flush the dirty connections on the next loop turn.
    func scheduleFlush() {
        guard !flushScheduled else { return }
        flushScheduled = true
        eventLoop.assumeIsolatedUnsafeUnchecked().execute {
            self.flushScheduled = false
            self.flushDirtyConnections()
        }
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

