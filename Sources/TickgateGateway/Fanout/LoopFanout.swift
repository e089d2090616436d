import NIOCore
import Synchronization
import TickgateHTTP2
import TickgateModel

/// Everything the gateway routes on one event loop: what it knows of each
/// (venue, symbol) (subscribers, last tick, Kafka position) and the
/// connections that have bytes to write. Ticks arrive once per Kafka batch;
/// delivering to a stream records a range of the shared batch in its
/// pending queue, with no copy, encode, allocation or lock; the
/// connection's write copies it once, into the out buffer.
///
/// Snapshots come from the same place: a stream that subscribes on this
/// loop gets the last tick this loop delivered for each pair, and every
/// later tick live, so nothing is missed or repeated between the two.
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
    let keys: MarketKeys
    var staleAfterNanos: Int64? = nil
    /// Pairs not in it are never routed (nil: every pair).
    var symbolCatalog: Set<String>? = nil
    /// Replays for resuming subscriptions (nil in the benchmark harness).
    var replay: ReplayService? = nil
    /// The JSON of ticks that this loop's Server-Sent Events streams took.
    private(set) lazy var tickJSON = TickJSONCache(stats: stats)
    /// What the health service answers (nil in the benchmark harness).
    var health: GatewayHealth? = nil
    /// The topic's partition count, as the reader knows it.
    var partitionCount: @Sendable () -> Int = { 1 }
    /// Per partition, the last offset this loop has handled: everything up
    /// to it was delivered (or is in the cache), everything after comes
    /// live. Starts at each partition's end when the gateway started, less
    /// one (what was before is read back, not delivered live).
    #if DEBUG
    var partitionOffsets: [Int64] = []
    #else
    @exclusivity(unchecked) var partitionOffsets: [Int64] = []
    #endif
    /// Indexed by key number.
    #if DEBUG
    private(set) var entries: ContiguousArray<MarketEntry> = []
    #else
    @exclusivity(unchecked) private(set) var entries: ContiguousArray<MarketEntry> = []
    #endif
    private var entriesBySymbol: [String: [MarketEntry]] = [:]
    /// Streams with symbols or patterns: asked about each pair first seen.
    private let interested = SubscriberList<StreamCall>()
    /// Streams holding rate-capped ticks for later.
    private let capped = SubscriberList<StreamCall>()
    private var rateTimer: Scheduled<Void>? = nil
    /// How often rate-capped ticks are released (one timer per loop).
    static let rateTimerPeriod: TimeAmount = .milliseconds(5)
    #if DEBUG
    private var dirtyConnections: [any ClientConnection] = []
    #else
    @exclusivity(unchecked) private var dirtyConnections: [any ClientConnection] = []
    #endif
    /// Connections of this loop, for shutdown.
    private(set) var connections: [ObjectIdentifier: any ClientConnection] = [:]
    /// Inside a delivery pass: list removals wait until it is done (the
    /// pass iterates the lists). The calls are kept alive here.
    #if DEBUG
    private var delivering = false
    #else
    @exclusivity(unchecked) private var delivering = false
    #endif
    private var deferredRemovals: [(SubscriberList<StreamCall>, StreamCall)] = []
    /// Pending queues that borrowed bytes of the delivery pass's batches.
    /// Unretained: each belongs to a stream call that was in a subscriber
    /// list when it borrowed, and a pass keeps `delivering` set until its
    /// queues are ended, so a call leaving a list in the meantime (a stream
    /// closed by a write) waits in `deferredRemovals`, which keeps it alive.
    #if DEBUG
    private var borrowers: [Unmanaged<PendingBytes>] = []
    #else
    @exclusivity(unchecked) private var borrowers: [Unmanaged<PendingBytes>] = []
    #endif
    /// Subscriptions held (pairs × streams), for the harness and metrics.
    private(set) var subscriptionCount = 0
    /// Most ticks one loop turn delivers; the rest wait for the next turn,
    /// so reads (window updates) and writes interleave with a long burst
    /// and no single turn puts more than this into any one stream.
    static let maxTicksPerTurn = 4096

    init(
        eventLoop: any EventLoop, stats: GatewayStats, keys: MarketKeys, metrics: GatewayMetrics? = nil,
        publish: PublishCoordinator? = nil
    ) {
        self.eventLoop = eventLoop
        self.stats = stats
        self.keys = keys
        self.metrics = metrics
        self.publish = publish
    }

    // MARK: pairs

    /// Pairs first seen by the reader since this loop last looked: known
    /// from here on, and offered to every interested stream.
    func learnKeys() {
        for key in keys.keys(from: entries.count) {
            let entry = MarketEntry(id: Int32(entries.count), venue: key.venue, symbol: key.symbol)
            entries.append(entry)
            entriesBySymbol[key.symbol, default: []].append(entry)
            guard symbolCatalog?.contains(key.symbol) ?? true else { continue }
            let wasDelivering = delivering
            delivering = true
            interested.forEach { $0.newPair(entry) }
            delivering = wasDelivering
        }
        if !delivering { applyDeferredRemovals() }
    }

    func entry(_ id: Int32) -> MarketEntry { entries[Int(id)] }

    /// The pairs `pattern` may match, as the stream's bookkeeping wants them.
    func candidates(for pattern: SymbolPattern) -> [MarketEntry] {
        learnKeys()
        let found: [MarketEntry]
        if let symbol = pattern.exactSymbol {
            found = entriesBySymbol[symbol] ?? []
        } else {
            found = Array(entries)
        }
        guard let catalog = symbolCatalog else { return found }
        return found.filter { catalog.contains($0.symbol) }
    }

    // MARK: subscriptions

    func subscribe(_ id: Int32, _ call: StreamCall, capped isCapped: Bool) {
        let entry = entries[Int(id)]
        if (isCapped ? entry.capped : entry.subscribers).insert(call) { subscriptionCount += 1 }
    }

    func unsubscribe(_ id: Int32, _ call: StreamCall) {
        let entry = entries[Int(id)]
        for list in [entry.subscribers, entry.capped, entry.replaying] where list.contains(call) {
            subscriptionCount -= 1
            remove(call, from: list)
        }
    }

    /// Live ticks of the pair are held for `call` while it replays.
    func subscribeReplaying(_ id: Int32, _ call: StreamCall) {
        if entries[Int(id)].replaying.insert(call) { subscriptionCount += 1 }
    }

    /// The last offset of `partition` this loop has handled.
    func position(of partition: Int32) -> Int64 {
        Int(partition) < partitionOffsets.count ? partitionOffsets[Int(partition)] : -1
    }

    func setInterested(_ call: StreamCall, _ isInterested: Bool) {
        if isInterested { interested.insert(call) } else { remove(call, from: interested) }
    }

    /// The call holds rate-capped ticks: the loop's rate timer releases them.
    func holdsCappedTicks(_ call: StreamCall) {
        capped.insert(call)
        guard rateTimer == nil else { return }
        rateTimer = eventLoop.assumeIsolatedUnsafeUnchecked().scheduleTask(in: Self.rateTimerPeriod) { [self] in
            rateTimer = nil
            releaseCapped()
        }
    }

    private func releaseCapped() {
        let now = WallClock.nowNanos()
        delivering = true
        capped.forEach { call in
            if !call.releaseDue(now: now) { deferredRemovals.append((capped, call)) }
        }
        delivering = false
        applyDeferredRemovals()
        flushDirtyConnections()
        if !capped.isEmpty { holdsCappedTicks(capped.list[0]) }
    }

    private func remove(_ call: StreamCall, from list: SubscriberList<StreamCall>) {
        if delivering {
            deferredRemovals.append((list, call))
        } else {
            list.remove(call)
        }
    }

    func register(_ connection: any ClientConnection) { connections[ObjectIdentifier(connection)] = connection }
    func unregister(_ connection: any ClientConnection) { connections[ObjectIdentifier(connection)] = nil }

    /// Starts a graceful drain of every connection; returns how many were open.
    func drainConnections() -> Int {
        let open = Array(connections.values)
        for connection in open { connection.drain(.shutdown) }
        flushDirtyConnections()
        return open.count
    }

    /// The loop's one timer for every connection's limits and heartbeats.
    func tickConnections(now: NIODeadline) {
        for connection in Array(connections.values) { connection.tick(now: now) }
        flushDirtyConnections()
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

    /// One delivery pass: every tick goes to its subscribers, then each
    /// dirty connection is written once. A live tick's bytes are borrowed
    /// from its batch by each stream, and copied once, from the batch into
    /// the connection's out buffer, by the write; `deliveries` keeps the
    /// batches' storage alive (and unchanged) until the pass ends, when
    /// every queue that still borrows copies in what is unsent. List
    /// removals wait until then (see `borrowers`).
    func deliver(_ deliveries: [LoopDelivery]) {
        var count = 0
        var firstReceive: Int64 = 0
        delivering = true
        for delivery in deliveries {
            switch delivery {
            case .ticks(let batch):
                if firstReceive == 0 { firstReceive = batch.firstReceiveNanos }
                count &+= deliver(batch)
            case .lost(let keys, let status):
                endSubscribers(status) { keys.contains($0.id) }
            case .gap(let partition, let status):
                endSubscribers(status) { $0.partition == partition }
            }
        }
        withExtendedLifetime(deliveries) {
            flushDirtyConnections()
            endPass()
        }
        delivering = false
        applyDeferredRemovals()
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
        let receive = batch.firstReceiveNanos
        batch.buffer.withUnsafeReadableBytes { raw in
            for tick in batch.entries {
                if Int(tick.key) >= entries.count { learnKeys() }
                let entry = entries.withUnsafeBufferPointer { $0[Int(tick.key)] }
                let bytes = UnsafeRawBufferPointer(rebasing: raw[tick.start..<(tick.start &+ tick.length)])
                entry.last.store(bytes)
                entry.partition = tick.partition
                entry.offset = tick.offset
                entry.lastReceiveNanos = receive
                let partition = Int(tick.partition)
                if partition < partitionOffsets.count {
                    if tick.offset > partitionOffsets[partition] { partitionOffsets[partition] = tick.offset }
                } else {
                    notePartition(partition, tick.offset)
                }
                if !entry.replaying.isEmpty {
                    let offset = tick.offset
                    let key = tick.key
                    entry.replaying.forEach { $0.liveWhileResuming(bytes, key: key, offset: offset) }
                }
                // Read back from Kafka at start-up: the cache only.
                guard !tick.warmup else { continue }
                if entry.stale {
                    // Back to life: say so before its first tick.
                    entry.stale = false
                    let status = SymbolStatus(symbol: entry.symbol, venue: entry.venue, stale: false, lastTickTimeNanos: receive)
                    entry.subscribers.forEach { $0.sendStatus(status) }
                    entry.capped.forEach { $0.sendStatus(status) }
                }
                let key = tick.key
                // Only the stream's queue is read; the call only when the
                // queue asks (first borrow since a flush, or refused).
                entry.subscribers.forEachMember { call, pending in
                    let outcome = pending._withUnsafeGuaranteedRef { $0.borrowLive(bytes) }
                    if outcome.rawValue != 0 { call._withUnsafeGuaranteedRef { $0.borrowed(outcome, bytes, key: key) } }
                }
                count &+= entry.subscribers.count
                if !entry.capped.isEmpty {
                    entry.capped.forEach { $0.offerCapped(bytes, key: key, now: receive) }
                }
            }
        }
        return count
    }

    @inline(__always)
    func borrowedInPass(_ pending: Unmanaged<PendingBytes>) {
        borrowers.append(pending)
    }

    /// The pass's batches go: queues that still borrow from them copy in.
    private func endPass() {
        guard !borrowers.isEmpty else { return }
        var held = 0
        borrowers.withUnsafeBufferPointer { listed in
            for pending in listed { held &+= pending._withUnsafeGuaranteedRef { $0.endPass() } }
        }
        borrowers.removeAll(keepingCapacity: true)
        if held > 0 { stats.deliveryBytesHeld.add(held, ordering: .relaxed) }
    }

    @inline(never)
    private func notePartition(_ partition: Int, _ offset: Int64) {
        while partitionOffsets.count <= partition { partitionOffsets.append(-1) }
        partitionOffsets[partition] = max(partitionOffsets[partition], offset)
    }

    /// Ends every call subscribed to a pair `affected` picks.
    func endSubscribers(_ status: GRPCStatus, where affected: (MarketEntry) -> Bool) {
        var calls: [ObjectIdentifier: StreamCall] = [:]
        for entry in entries where affected(entry) {
            entry.subscribers.forEach { calls[ObjectIdentifier($0)] = $0 }
            entry.capped.forEach { calls[ObjectIdentifier($0)] = $0 }
            entry.replaying.forEach { calls[ObjectIdentifier($0)] = $0 }
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
        for (list, call) in deferredRemovals { list.remove(call) }
        deferredRemovals.removeAll(keepingCapacity: true)
    }

    /// Periodically: subscribed pairs whose last tick is older than
    /// `staleAfterNanos` are reported stale to their subscribers, once.
    func checkStaleness(now: Int64) {
        guard let limit = staleAfterNanos else { return }
        delivering = true
        for entry in entries where !entry.stale && entry.hasSubscribers && entry.lastReceiveNanos > 0 {
            guard now - entry.lastReceiveNanos > limit else { continue }
            entry.stale = true
            let status = SymbolStatus(symbol: entry.symbol, venue: entry.venue, stale: true, lastTickTimeNanos: entry.lastReceiveNanos)
            entry.subscribers.forEach { $0.sendStatus(status) }
            entry.capped.forEach { $0.sendStatus(status) }
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

    func markDirty(_ connection: any ClientConnection) {
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
