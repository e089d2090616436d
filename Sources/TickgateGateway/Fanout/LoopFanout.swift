import NIOCore
import Synchronization
import TickgateHTTP2
import TickgateModel

/// Everything the gateway routes on one event loop: the symbol table of the
/// loop's streams and the connections that have bytes to write. Ticks arrive
/// once per Kafka batch; delivering to a stream is a memcpy into its pending
/// buffer, with no encode, allocation or lock.
///
/// The state touched per delivery (here, in `StreamCall`, its outbound
/// stream and the subscriber lists) is confined to one event loop, so in
/// release builds it opts out of dynamic exclusivity checks with
/// `@exclusivity(unchecked)`, per property (an unsafe compiler flag would
/// stop apps depending on the package). Debug builds keep the checks, and
/// the tests run there.
final class LoopFanout {
    let eventLoop: any EventLoop
    let stats: GatewayStats
    /// nil in the micro-benchmark harness.
    let metrics: GatewayMetrics?
    /// nil when publishing through the gateway is off.
    let publish: PublishCoordinator?
    /// Subscribed symbols reported stale, with their last tick time (t3).
    #if DEBUG
    private(set) var staleSymbols: [String: Int64] = [:]
    #else
    @exclusivity(unchecked) private(set) var staleSymbols: [String: Int64] = [:]
    #endif
    var staleAfterNanos: Int64? = nil
    #if DEBUG
    private(set) var table = SubscriptionTable<StreamCall>()
    #else
    @exclusivity(unchecked) private(set) var table = SubscriptionTable<StreamCall>()
    #endif
    #if DEBUG
    private var dirtyConnections: [GatewayConnectionHandler] = []
    #else
    @exclusivity(unchecked) private var dirtyConnections: [GatewayConnectionHandler] = []
    #endif
    /// Connections of this loop, for shutdown.
    private(set) var connections: [ObjectIdentifier: GatewayConnectionHandler] = [:]
    /// Inside a delivery pass: table removals wait until it is done (the
    /// pass iterates the table's lists). The calls are kept alive here.
    #if DEBUG
    private var delivering = false
    #else
    @exclusivity(unchecked) private var delivering = false
    #endif
    #if DEBUG
    private var deferredRemovals: [(String, StreamCall)] = []
    #else
    @exclusivity(unchecked) private var deferredRemovals: [(String, StreamCall)] = []
    #endif
    /// Most ticks one loop turn delivers; the rest wait for the next turn,
    /// so reads (window updates) and writes interleave with a long burst
    /// and no single turn puts more than this into any one stream.
    static let maxTicksPerTurn = 4096

    init(eventLoop: any EventLoop, stats: GatewayStats, metrics: GatewayMetrics? = nil, publish: PublishCoordinator? = nil) {
        self.eventLoop = eventLoop
        self.stats = stats
        self.metrics = metrics
        self.publish = publish
    }

    // MARK: subscriptions

    func subscribe(_ symbol: String, _ call: StreamCall) {
        table.add(symbol, call)
    }

    func unsubscribe(_ symbol: String, _ call: StreamCall) {
        if delivering {
            deferredRemovals.append((symbol, call))
        } else {
            table.remove(symbol, call)
        }
    }

    func register(_ connection: GatewayConnectionHandler) { connections[ObjectIdentifier(connection)] = connection }
    func unregister(_ connection: GatewayConnectionHandler) { connections[ObjectIdentifier(connection)] = nil }

    /// Starts a graceful drain of every connection; returns how many were open.
    func drainConnections() -> Int {
        let open = Array(connections.values)
        for connection in open { connection.drain(.shutdown) }
        flushDirtyConnections()
        return open.count
    }

    /// The loop's one timer for every connection's limits.
    func tickConnections(now: NIODeadline) {
        for connection in Array(connections.values) { connection.tick(now: now) }
    }

    // MARK: delivery

    /// Drains up to one turn's worth of the inbox, then writes each
    /// connection once; comes back on the next turn for the rest.
    func drain(_ inbox: LoopInbox) {
        let (deliveries, more) = inbox.take(maxTicks: Self.maxTicksPerTurn)
        deliver(deliveries)
        if more {
            eventLoop.assumeIsolatedUnsafeUnchecked().execute { self.drain(inbox) }
        }
    }

    func deliver(_ deliveries: [LoopDelivery]) {
        var count = 0
        var firstReceive: Int64 = 0
        delivering = true
        for delivery in deliveries {
            switch delivery {
            case .ticks(let batch):
                if firstReceive == 0 { firstReceive = batch.firstReceiveNanos }
                count &+= deliver(batch)
            case .lost(let symbols, let status):
                endSubscribers(of: symbols, status)
            }
        }
        delivering = false
        applyDeferredRemovals()
        flushDirtyConnections()
        if count > 0 {
            stats.deliveries.add(count, ordering: .relaxed)
            if let metrics, firstReceive > 0 {
                metrics.recordGatewayToWrite(nanos: WallClock.nowNanos() - firstReceive)
            }
        }
    }

    @inline(__always)
    private func deliver(_ batch: TickFrameBatch) -> Int {
        var count = 0
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
                count &+= subscribers.count
            }
        }
        return count
    }

    /// Ends every call subscribed to any of `symbols`.
    func endSubscribers(of symbols: Set<String>, _ status: GRPCStatus) {
        var calls: [ObjectIdentifier: StreamCall] = [:]
        for symbol in symbols {
            table.subscribers(of: symbol)?.forEach { calls[ObjectIdentifier($0)] = $0 }
        }
        let wasDelivering = delivering
        delivering = true
        for call in calls.values { call.end(status) }
        delivering = wasDelivering
        if !wasDelivering {
            applyDeferredRemovals()
            flushDirtyConnections()
        }
    }

    private func applyDeferredRemovals() {
        guard !deferredRemovals.isEmpty else { return }
        for (symbol, call) in deferredRemovals { table.remove(symbol, call) }
        deferredRemovals.removeAll(keepingCapacity: true)
    }

    /// Once a second: subscribed symbols whose last tick is older than
    /// `staleAfterNanos` are reported stale to their subscribers, once.
    func checkStaleness(now: Int64) {
        guard let limit = staleAfterNanos else { return }
        let lastTicks = stats.lastTickTimes()
        delivering = true
        table.forEachSymbol { symbol, subscribers in
            guard staleSymbols[symbol] == nil, let last = lastTicks[symbol], now - last > limit else { return }
            staleSymbols[symbol] = last
            subscribers.forEach { $0.sendStatus(symbol: symbol, stale: true, lastTickTimeNanos: last) }
        }
        delivering = false
        applyDeferredRemovals()
        flushDirtyConnections()
    }

    // MARK: writing

    #if DEBUG
    private var flushScheduled = false
    #else
    @exclusivity(unchecked) private var flushScheduled = false
    #endif

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
        dirtyConnections.append(connection)
    }

    /// One write per connection per pass.
    func flushDirtyConnections() {
        guard !dirtyConnections.isEmpty else { return }
        // A flush can mark connections dirty again (a stream reset as too
        // slow queues its RST_STREAM): those join this same pass.
        var index = 0
        while index < dirtyConnections.count {
            // Read the element out first: a flush appends to the list.
            let connection = dirtyConnections[index]
            connection.flush()
            index += 1
        }
        dirtyConnections.removeAll(keepingCapacity: true)
    }
}
