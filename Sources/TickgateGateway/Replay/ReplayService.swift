import Synchronization
import Logging
import NIOCore
import TickgateKafka
import TickgateModel

/// Replays one symbol's ticks from Kafka for a resuming (or time-started)
/// subscription: on a dedicated thread, never on an event loop, within
/// the gateway's ``ReplayBudget``. The ticks come back framed exactly as
/// live ones (same transcoder, same Kafka stamps), so a replay on any
/// gateway instance answers the same position with the same ticks.
final class ReplayService: Sendable {
    struct Job: Sendable {
        enum Start: Sendable, Equatable {
            /// After the tick at this offset (a resume position).
            case after(Int64)
            /// The first tick at or after this time (Unix ms).
            case since(Int64)
        }

        var symbol: String
        /// Only this venue's ticks; empty: every venue.
        var venue: String
        var partition: Int32
        var start: Start
        /// The last offset to replay: where live delivery takes over.
        var through: Int64
        /// A position Kafka no longer holds: go on live instead of from the earliest.
        var liveWhenMissing: Bool
    }

    struct Outcome: Sendable {
        var symbol: String
        var recovered: Bool
        var fromOffset: Int64
        var reason: String
        /// The replayed ticks, framed like live ones.
        var batch: TickFrameBatch
        /// Every offset through this one was looked at (`through`, unless the read failed).
        var coveredThrough: Int64
        /// Kafka could not be read: the subscription cannot be stitched.
        var failure: String?
    }

    let budget: ReplayBudget
    private let kafka: KafkaConfiguration
    private let topic: String
    private let keys: MarketKeys
    private let logger: Logger
    /// Idle consumer handles, reused by later replays.
    private let idle = Mutex<[KafkaRangeReader]>([])
    private let closed = Atomic<Bool>(false)

    init(kafka: KafkaConfiguration, topic: String, keys: MarketKeys, budget: ReplayBudget, logger: Logger) {
        self.kafka = kafka
        self.topic = topic
        self.keys = keys
        self.budget = budget
        self.logger = logger
    }

    /// Runs `jobs` one after another on a thread of their own; `completion`
    /// runs there when all are done. The caller took a slot of the budget
    /// (``ReplayBudget/tryStart()``); it is given back here.
    func run(_ jobs: [Job], completion: @escaping @Sendable ([Outcome]) -> Void) {
        DedicatedThread(name: "replay") { [self] in
            let outcomes = jobs.map(replay)
            budget.finished()
            // A gateway shutting down has no loop to hand them to.
            if !closed.load(ordering: .relaxed) { completion(outcomes) }
        }.detach()
    }

    private func reader() throws(KafkaError) -> KafkaRangeReader {
        if let reused = idle.withLock({ $0.popLast() }) { return reused }
        return try KafkaRangeReader(configuration: kafka, topic: topic, logger: logger)
    }

    private func replay(_ job: Job) -> Outcome {
        var outcome = Outcome(
            symbol: job.symbol, recovered: true, fromOffset: 0, reason: "", batch: TickFrameBatch(buffer: ByteBuffer(), entries: []),
            coveredThrough: job.through, failure: nil)
        let reader: KafkaRangeReader
        do {
            reader = try self.reader()
        } catch {
            outcome.failure = "\(error)"
            return outcome
        }
        defer {
            if closed.load(ordering: .relaxed) { reader.close() } else { idle.withLock { $0.append(reader) } }
        }
        let marks: (low: Int64, high: Int64)
        switch reader.watermarks(partition: job.partition) {
        case .success(let found): marks = found
        case .failure(let error):
            outcome.failure = "\(error)"
            return outcome
        }
        var from: Int64
        switch job.start {
        case .after(let offset):
            from = offset + 1
        case .since(let millis):
            switch reader.offset(atTimeMillis: millis, partition: job.partition) {
            case .success(let found): from = found
            case .failure(let error):
                outcome.failure = "\(error)"
                return outcome
            }
        }
        if from < marks.low {
            outcome.recovered = false
            outcome.reason = "Kafka no longer holds offsets \(from)..<\(marks.low) of partition \(job.partition)"
            from = job.liveWhenMissing ? job.through + 1 : marks.low
        }
        let span = budget.limits.maxSpan
        if job.through - from + 1 > span {
            outcome.recovered = false
            outcome.reason = "more than \(span) offsets to replay: going on from the last \(span)"
            from = job.through - span + 1
        }
        outcome.fromOffset = from
        guard from <= job.through else { return outcome }
        var buffer = ByteBufferAllocator().buffer(capacity: 4096)
        var entries: [TickFrameBatch.Entry] = []
        let symbolBytes = Array(job.symbol.utf8)
        let perStream = Double(max(1, budget.limits.ticksPerSecondPerStream))
        let started = WallClock.nowNanos()
        var scanned = 0
        let result = reader.read(partition: job.partition, from: from, through: job.through) { records in
            for record in records {
                // The key is the symbol: most of a partition is skipped unread.
                guard record.key.elementsEqual(symbolBytes) else { continue }
                let start = buffer.writerIndex
                let stamp = KafkaStamp(
                    partition: record.partition, offset: record.offset, kafkaTimeMillis: record.timestampMillis,
                    receiveTimeNanos: WallClock.nowNanos())
                guard let tick = try? TickTranscoder.transcodeTimed(kafkaPayload: record.value, stamp: stamp, into: &buffer),
                      tick.symbol == job.symbol, job.venue.isEmpty || tick.venue == job.venue,
                      let key = keys.id(of: .init(venue: tick.venue, symbol: tick.symbol))
                else {
                    buffer.moveWriterIndex(to: start)
                    continue
                }
                entries.append(.init(
                    key: key, partition: record.partition, offset: record.offset, start: start, length: buffer.writerIndex - start))
            }
            scanned += records.count
            // Paced: the gateway's bucket, and this replay's own rate.
            var wait = budget.take(records.count)
            let ahead = Int64(Double(scanned) / perStream * 1e9) - (WallClock.nowNanos() - started)
            wait = max(wait, ahead)
            if wait > 0 { sleepNanos(wait) }
            return !closed.load(ordering: .relaxed)
        }
        if case .failure(let error) = result {
            // What was read is delivered; the rest of the range is given up
            // on (and said so): live ticks after it still follow.
            outcome.failure = "\(error)"
        }
        outcome.batch = TickFrameBatch(buffer: buffer, entries: entries)
        return outcome
    }

    func close() {
        closed.store(true, ordering: .relaxed)
        let readers = idle.withLock { readers in
            defer { readers.removeAll() }
            return readers
        }
        for reader in readers { reader.close() }
    }
}

#if canImport(Glibc)
import Glibc
#endif

private func sleepNanos(_ nanos: Int64) {
    var spec = timespec(tv_sec: Int(nanos / 1_000_000_000), tv_nsec: Int(nanos % 1_000_000_000))
    nanosleep(&spec, nil)
}
