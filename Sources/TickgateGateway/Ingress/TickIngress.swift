import Synchronization
import Logging
import NIOCore
import TickgateKafka
import TickgateModel

/// Runs on the Kafka reader's thread: turns each Kafka batch into one
/// buffer of gRPC-framed ticks (decode once, stamp, encode once per tick)
/// and hands it to every event loop with one `execute` per loop per batch.
final class TickIngress: Sendable {
    struct Loop: Sendable {
        let eventLoop: any EventLoop
        let fanout: NIOLoopBound<LoopFanout>
        let inbox: LoopInbox
    }

    /// Ticks a loop may have queued before the reader waits for it: a slow
    /// loop makes Kafka lag grow instead of memory.
    static let maxQueuedTicksPerLoop = 65_536

    let loops: [Loop]
    let stats: GatewayStats
    let metrics: GatewayMetrics
    let logger: Logger

    init(loops: [Loop], stats: GatewayStats, metrics: GatewayMetrics, logger: Logger) {
        self.loops = loops
        self.stats = stats
        self.metrics = metrics
        self.logger = logger
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
                lastTicks[tick.symbol] = stamp.receiveTimeNanos
                metrics.recordKafkaHop(nanos: stamp.receiveTimeNanos - tick.publishTimeNanos)
                metrics.recordGatewayInside(nanos: tick.dispatchTimeNanos - stamp.receiveTimeNanos)
            } catch {
                buffer.moveWriterIndex(to: start)
                malformed += 1
                if stats.ticksMalformed.load(ordering: .relaxed) < 10 {
                    logger.warning("skipping Kafka message at partition \(record.partition) offset \(record.offset): \(error)")
                }
            }
        }
        stats.ticksConsumed.add(entries.count, ordering: .relaxed)
        stats.recordLastTicks(lastTicks)
        if malformed > 0 { stats.ticksMalformed.add(malformed, ordering: .relaxed) }
        guard !entries.isEmpty else { return }
        let batch = TickFrameBatch(buffer: buffer, entries: entries, firstReceiveNanos: firstReceive)
        for loop in loops {
            while loop.inbox.queuedTicks >= Self.maxQueuedTicksPerLoop {
                usleepMicros(200)
            }
            if loop.inbox.push(batch) {
                let fanout = loop.fanout
                let inbox = loop.inbox
                loop.eventLoop.execute {
                    fanout.value.deliver(inbox.takeAll())
                }
            }
        }
    }
}

#if canImport(Glibc)
import Glibc
#endif

func usleepMicros(_ micros: Int) {
    usleep(UInt32(micros))
}
