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
    /// The partition each symbol was last read from (reader thread only;
    /// behind a lock for Sendable's sake, uncontended).
    private let partitions = Mutex<[String: Int32]>([:])

    init(loops: [Loop], stats: GatewayStats, metrics: GatewayMetrics, logger: Logger) {
        self.loops = loops
        self.stats = stats
        self.metrics = metrics
        self.log = RateLimitedLogger(logger: logger)
    }

    func handle(_ records: UnsafeBufferPointer<KafkaRecord>) {
        var buffer = ByteBufferAllocator().buffer(capacity: records.count * 192)
        var entries: [TickFrameBatch.Entry] = []
        entries.reserveCapacity(records.count)
        var malformed = 0
        var firstReceive: Int64 = 0
        var lastTicks: [String: Int64] = [:]
        for record in records {
            let start = buffer.writerIndex
            let stamp = KafkaStamp(
                partition: record.partition, offset: record.offset,
                kafkaTimeMillis: record.timestampMillis, receiveTimeNanos: WallClock.nowNanos())
            if firstReceive == 0 { firstReceive = stamp.receiveTimeNanos }
            do {
                let tick = try TickTranscoder.transcodeTimed(kafkaPayload: record.value, stamp: stamp, into: &buffer)
                entries.append(.init(symbol: tick.symbol, start: start, length: buffer.writerIndex - start))
                if lastTicks.updateValue(stamp.receiveTimeNanos, forKey: tick.symbol) == nil {
                    notePartition(record.partition, of: tick.symbol)
                }
                metrics.recordKafkaHop(nanos: stamp.receiveTimeNanos - tick.publishTimeNanos)
                metrics.recordGatewayInside(nanos: tick.dispatchTimeNanos - stamp.receiveTimeNanos)
            } catch {
                buffer.moveWriterIndex(to: start)
                malformed += 1
                log.log(level: .warning, kind: "malformed", "skipping Kafka message at partition \(record.partition) offset \(record.offset): \(error)")
            }
        }
        stats.ticksConsumed.add(entries.count, ordering: .relaxed)
        stats.recordLastTicks(lastTicks)
        if malformed > 0 { stats.ticksMalformed.add(malformed, ordering: .relaxed) }
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

    private func notePartition(_ partition: Int32, of symbol: String) {
        partitions.withLock { map in
            if map[symbol] != partition { map[symbol] = partition }
        }
    }

    /// Kafka lost ticks of a partition (retention ran ahead of the reader,
    /// or the log was truncated): every stream subscribed to a symbol of
    /// that partition is told, by ending it DATA_LOSS.
    func handle(_ gap: KafkaGap) {
        let symbols = partitions.withLock { map in Set(map.filter { $0.value == gap.partition }.keys) }
        guard !symbols.isEmpty else { return }
        let status = GRPCStatus(.dataLoss, "Kafka no longer holds ticks of this stream's symbols (\(gap))")
        for loop in loops where loop.inbox.push(.lost(symbols: symbols, status: status)) {
            wakeUp(loop)
        }
    }

    private func wakeUp(_ loop: Loop) {
        let fanout = loop.fanout
        let inbox = loop.inbox
        loop.eventLoop.execute { fanout.value.drain(inbox) }
    }
}
