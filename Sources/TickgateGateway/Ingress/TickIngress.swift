import Synchronization
import Logging
import NIOCore
import TickgateHTTP2
import TickgateKafka
import TickgateModel

/// Runs on the Kafka reader's thread: turns each Kafka batch into one
/// buffer of gRPC-framed ticks (decode once, stamp, encode once per tick)
/// and hands it to every event loop with at most one `execute` per loop
/// per batch. It never waits for a loop: a loop that fell behind by more
/// than its inbox holds loses its copy of the batch and tells the streams
/// concerned (``LoopInbox``), while every other loop goes on.
///
/// Ticks below `warmupEnd` (each partition's end when the gateway started)
/// are the last-value cache being read back: the loops store them and do
/// not deliver them live.
final class TickIngress: Sendable {
    struct Loop: Sendable {
        let eventLoop: any EventLoop
        let fanout: NIOLoopBound<LoopFanout>
        let inbox: LoopInbox
    }

    let loops: [Loop]
    let stats: GatewayStats
    let metrics: GatewayMetrics
    let log: RateLimitedLogger
    let keys: MarketKeys
    /// Reader-thread state, behind a lock for Sendable's sake (uncontended).
    private let reader: Mutex<ReaderState>

    private struct ReaderState {
        var keyCache = MarketKeyCache()
        /// Per partition: offsets below this are warm-up.
        var warmupEnd: [Int32: Int64]
        /// Warm-up ticks older than this (Kafka ms) are skipped.
        var warmupOldestMillis: Int64
    }

    init(
        loops: [Loop], keys: MarketKeys, stats: GatewayStats, metrics: GatewayMetrics, logger: Logger,
        warmupEnd: [Int32: Int64] = [:], warmupOldestMillis: Int64 = 0
    ) {
        self.loops = loops
        self.keys = keys
        self.stats = stats
        self.metrics = metrics
        self.log = RateLimitedLogger(logger: logger)
        self.reader = Mutex(ReaderState(warmupEnd: warmupEnd.filter { $0.value > 0 }, warmupOldestMillis: warmupOldestMillis))
        stats.warmingUp.store(!self.reader.withLock { $0.warmupEnd.isEmpty }, ordering: .relaxed)
    }

    func handle(_ records: UnsafeBufferPointer<KafkaRecord>) {
        reader.withLock { state in handle(records, &state) }
    }

    private func handle(_ records: UnsafeBufferPointer<KafkaRecord>, _ state: inout ReaderState) {
        var buffer = ByteBufferAllocator().buffer(capacity: records.count * 192)
        var entries: [TickFrameBatch.Entry] = []
        entries.reserveCapacity(records.count)
        var malformed = 0
        var unroutable = 0
        var live = 0
        var firstReceive: Int64 = 0
        var lastTicks: [String: Int64] = [:]
        for record in records {
            var warmup = false
            if !state.warmupEnd.isEmpty, let end = state.warmupEnd[record.partition] {
                if record.offset + 1 >= end { state.warmupEnd[record.partition] = nil }
                if record.offset < end {
                    warmup = true
                    if record.timestampMillis >= 0 && record.timestampMillis < state.warmupOldestMillis { continue }
                }
                if state.warmupEnd.isEmpty { stats.warmingUp.store(false, ordering: .relaxed) }
            }
            let start = buffer.writerIndex
            let stamp = KafkaStamp(
                partition: record.partition, offset: record.offset,
                kafkaTimeMillis: record.timestampMillis, receiveTimeNanos: WallClock.nowNanos())
            if firstReceive == 0 { firstReceive = stamp.receiveTimeNanos }
            do {
                let tick = try TickTranscoder.transcodeTimed(kafkaPayload: record.value, stamp: stamp, into: &buffer)
                guard let key = state.keyCache.id(venue: tick.venue, symbol: tick.symbol, in: keys) else {
                    buffer.moveWriterIndex(to: start)
                    unroutable += 1
                    log.log(level: .warning, kind: "too-many-keys", "not routing \(tick.venue) \(tick.symbol): the gateway routes at most \(keys.maxKeys) (venue, symbol) pairs (--max-market-keys)")
                    continue
                }
                entries.append(.init(
                    key: key, partition: record.partition, offset: record.offset, start: start,
                    length: buffer.writerIndex - start, warmup: warmup))
                guard !warmup else { continue }
                live += 1
                lastTicks[tick.symbol] = stamp.receiveTimeNanos
                metrics.recordKafkaHop(nanos: stamp.receiveTimeNanos - tick.publishTimeNanos)
                metrics.recordGatewayInside(nanos: tick.dispatchTimeNanos - stamp.receiveTimeNanos)
            } catch {
                buffer.moveWriterIndex(to: start)
                malformed += 1
                log.log(level: .warning, kind: "malformed", "skipping Kafka message at partition \(record.partition) offset \(record.offset): \(error)")
            }
        }
        stats.ticksConsumed.add(live, ordering: .relaxed)
        stats.recordLastTicks(lastTicks)
        if malformed > 0 { stats.ticksMalformed.add(malformed, ordering: .relaxed) }
        if unroutable > 0 { stats.ticksUnroutable.add(unroutable, ordering: .relaxed) }
        guard !entries.isEmpty else { return }
        let batch = TickFrameBatch(buffer: buffer, entries: entries, firstReceiveNanos: firstReceive)
        for loop in loops {
            switch loop.inbox.push(batch) {
            case .queued(let wake):
                if wake { wakeUp(loop) }
            case .dropped:
                stats.ticksDroppedForLoops.add(entries.count, ordering: .relaxed)
                log.log(level: .warning, kind: "loop-behind", "an event loop fell \(loop.inbox.maxQueuedTicks) ticks behind Kafka: dropping its ticks until it catches up; its affected streams are ended UNAVAILABLE")
            }
        }
    }

    /// Kafka lost ticks of a partition (retention ran ahead of the reader,
    /// or the log was truncated): every stream subscribed to a pair of
    /// that partition is told, by ending it DATA_LOSS.
    func handle(_ gap: KafkaGap) {
        let status = GRPCStatus(.dataLoss, "Kafka no longer holds ticks of this stream's symbols (\(gap))")
        for loop in loops where loop.inbox.push(.gap(partition: gap.partition, status: status)) {
            wakeUp(loop)
        }
    }

    private func wakeUp(_ loop: Loop) {
        let fanout = loop.fanout
        let inbox = loop.inbox
        loop.eventLoop.execute { fanout.value.drain(inbox) }
    }
}
