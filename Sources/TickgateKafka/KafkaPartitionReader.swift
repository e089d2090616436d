import TickgateModel
public import Logging
import Synchronization

/// One message as the reader hands it over. The byte views are valid only
/// during the callback that receives them.
public struct KafkaRecord {
    public var partition: Int32
    public var offset: Int64
    /// Kafka's time stamp in milliseconds (-1 if the broker has none).
    public var timestampMillis: Int64
    public var key: UnsafeRawBufferPointer
    public var value: UnsafeRawBufferPointer
}

/// Reads every partition of a topic by manual assignment (no consumer group
/// is joined, so every gateway instance sees every symbol), on a dedicated
/// thread. Batches go to `onBatch` on that thread.
///
/// A second thread watches the topic: it refreshes each partition's
/// watermarks (for lag, also during an outage), and when the topic gains
/// partitions it adds them to the assignment, read from their beginning.
/// When a partition's position has left the log (retention ran ahead, or
/// the log was truncated) the reader moves to the nearest offset that
/// exists and reports the skipped range as a ``KafkaGap``: never a silent
/// jump.
public final class KafkaPartitionReader: @unchecked Sendable {
    /// Tickgate's consumer defaults; `-X` properties override them.
    public static let defaultProperties: [(String, String)] = [
        ("enable.auto.commit", "false"),        // nothing is committed: no group state
        ("enable.auto.offset.store", "false"),
        ("enable.partition.eof", "false"),
        ("fetch.wait.max.ms", "1"),             // broker answers an empty fetch within 1 ms
        ("fetch.error.backoff.ms", "10"),
        ("socket.nagle.disable", "true"),
        // A position outside the log is an error the reader handles (and
        // reports as a gap) rather than a silent reset.
        ("auto.offset.reset", "error"),
    ]

    /// Where reading starts.
    public enum StartPosition: Sendable {
        /// The live end of every partition (the gateway).
        case end
        /// The oldest message kept (checks and tests that read a topic whole).
        case beginning
        /// These offsets per partition; partitions not listed start at the end.
        case offsets([Int32: Int64])
        /// Up to this many messages before the end of each partition (the
        /// gateway reading back its last-value cache).
        case backFromEnd(Int)
    }

    public struct Options: Sendable {
        /// How often the topic's partition count is checked.
        public var metadataRefresh: Duration = .seconds(5)
        /// How often every partition's watermarks are asked for (lag).
        public var watermarkRefresh: Duration = .seconds(2)
        /// For tests on a broker that cannot add partitions (the embedded
        /// one): behave as if the topic had only this many partitions at
        /// start, so that the rest are discovered as new ones.
        public var assumedInitialPartitions: Int? = nil
        public init() {}
    }

    public let topic: String
    /// The offsets reading started at, per partition (as first assigned).
    public let startOffsets: [Int64]
    /// Each partition's end (high watermark) when reading started.
    public let startHighWatermarks: [Int64]
    private let client: RDKafkaClient
    private let queue: RDKafkaQueue
    private let stopping = StopFlag()
    private let state: ReaderState
    private let options: Options
    private let connectTimeoutMillis: Int32
    private var threads: [DedicatedThread] = []
    private let logger: Logger
    private let log: RateLimitedLogger
    private var closed = false

    /// Connects, finds the partitions and assigns each at its start
    /// position, resolved to a concrete offset before this returns (so that
    /// everything produced afterwards is read: no race with an async
    /// lookup). Throws a clear error when the brokers do not answer in time.
    public init(
        configuration: KafkaConfiguration, topic: String, start: StartPosition = .end, options: Options = Options(),
        logger: Logger
    ) throws(KafkaError) {
        // librdkafka needs a group.id to assign, even though no group is joined.
        let groupID = "tickgate-gateway-\(UInt64.random(in: 0...UInt64.max))"
        let conf = try makeRDKafkaConf(defaults: Self.defaultProperties + [("group.id", groupID)], user: configuration)
        let state = ReaderState()
        let client = try RDKafkaClient(kind: .consumer, conf: conf, logger: logger, onError: { kind, _ in
            state.recordError(kind)
        })
        let partitions: Int
        var offsets: [Int64] = []
        var highs: [Int64] = []
        do throws(KafkaError) {
            let actual = try client.partitionCount(topic: topic, brokers: configuration.brokers, timeoutMillis: configuration.connectTimeoutMillis)
            partitions = min(actual, options.assumedInitialPartitions ?? actual)
            client.redirectEventsToConsumerQueue()
            let all: [(low: Int64, high: Int64)]
            switch client.queryWatermarks(topic: topic, partitions: Array(0..<Int32(partitions)), timeoutMillis: configuration.connectTimeoutMillis) {
            case .success(let found): all = found
            case .failure(let error):
                throw KafkaError.brokersUnreachable(brokers: configuration.brokers, detail: "offsets of \(topic)[\(error.partition)]: \(error.detail)")
            }
            for (index, marks) in all.enumerated() {
                let partition = Int32(index)
                let offset: Int64
                switch start {
                case .end: offset = marks.high
                case .beginning: offset = marks.low
                case .offsets(let wanted): offset = wanted[partition] ?? marks.high
                case .backFromEnd(let count): offset = max(marks.low, marks.high - Int64(max(0, count)))
                }
                offsets.append(offset)
                highs.append(marks.high)
            }
            try client.assign(topic: topic, offsets.enumerated().map { (Int32($0.offset), $0.element) }, incremental: false)
            state.setPartitions(next: offsets, high: highs)
        } catch {
            client.destroy()
            throw error
        }
        self.client = client
        self.queue = client.consumerQueue()
        self.topic = topic
        self.startOffsets = offsets
        self.startHighWatermarks = highs
        self.options = options
        self.connectTimeoutMillis = configuration.connectTimeoutMillis
        self.logger = logger
        self.log = RateLimitedLogger(logger: logger)
        self.state = state
    }

    /// Partitions being read (grows when the topic does).
    public var partitionCount: Int { state.lock.withLock { $0.next.count } }

    /// Messages read so far, per partition.
    public var consumedPerPartition: [Int] { state.lock.withLock { $0.consumed } }

    /// Consumer lag per partition: the high watermark as last asked of the
    /// brokers (every `watermarkRefresh`) minus the next offset to read.
    /// While the brokers cannot be asked it keeps the last answer: see
    /// ``watermarkAge``.
    public func lag() -> [Int64] {
        state.lock.withLock { s in s.next.indices.map { max(0, s.high[$0] - s.next[$0]) } }
    }

    /// How long ago the watermarks were last refreshed.
    public var watermarkAge: Duration { ContinuousClock.now - state.lock.withLock { $0.watermarksAt } }

    /// False while the last watermark refresh failed, or none has succeeded
    /// for three refresh periods (at least 5 s): during an outage a query
    /// can also stall rather than fail, and that must show too.
    public var brokersReachable: Bool {
        let (reachable, at) = state.lock.withLock { ($0.reachable, $0.watermarksAt) }
        let stale = max(.seconds(5), options.watermarkRefresh * 3)
        return reachable && ContinuousClock.now - at < stale
    }

    /// Errors librdkafka reported, by kind, since start.
    public var errorCounts: [KafkaErrorKind: Int] { state.lock.withLock { $0.errors } }

    /// Gaps reported so far.
    public var gapCount: Int { state.lock.withLock { $0.gaps } }

    /// Starts reading. `onBatch` runs on the reading thread, once per batch
    /// of up to `maxBatch` messages, and must not block for long; `onGap`
    /// runs there too, before the first record after a gap.
    public func start(
        maxBatch: Int = 1024,
        onGap: @escaping @Sendable (KafkaGap) -> Void = { _ in },
        onBatch: @escaping @Sendable (UnsafeBufferPointer<KafkaRecord>) -> Void
    ) {
        precondition(threads.isEmpty, "already started")
        threads.append(DedicatedThread(name: "kafka-reader") { [self] in
            readLoop(maxBatch: maxBatch, onGap: onGap, onBatch: onBatch)
        })
        threads.append(DedicatedThread(name: "kafka-watch") { [self] in
            watchLoop()
        })
    }

    private func readLoop(
        maxBatch: Int, onGap: @Sendable (KafkaGap) -> Void, onBatch: (UnsafeBufferPointer<KafkaRecord>) -> Void
    ) {
        var batch = RDKafkaMessageBatch(capacity: maxBatch)
        var resets: [Int32] = []
        while !stopping.isSet {
            let got = batch.fill(from: queue, waitMillis: 100) { error in
                if error.kind.isOffsetReset {
                    resets.append(error.partition)
                } else {
                    state.recordError(error.kind)
                    log.log(level: .warning, kind: error.kind.name, "kafka read error on \(error)")
                }
            }
            if got {
                let records = batch.dataRecords
                if !records.isEmpty {
                    state.advance(records)
                    onBatch(records)
                }
                batch.release()
            }
            if !resets.isEmpty {
                resets = resets.filter { !repositionAfterReset(partition: $0, onGap: onGap) }
                if !resets.isEmpty { sleepWhileRunning(.milliseconds(500)) }
            }
        }
    }

    /// librdkafka stopped fetching `partition`: its position is not in the
    /// log. Goes on at the nearest offset that is, reporting the skip.
    /// Returns false when the brokers could not be asked (retry later).
    private func repositionAfterReset(partition: Int32, onGap: @Sendable (KafkaGap) -> Void) -> Bool {
        state.recordError(.offsetOutOfRange)
        guard case .success(let marks) = client.queryWatermarks(topic: topic, partition: partition, timeoutMillis: 2000) else {
            return false
        }
        let expected = state.lock.withLock { $0.next[Int(partition)] }
        var resume = expected
        var gap: KafkaGap?
        if expected < marks.low {
            resume = marks.low
            gap = KafkaGap(partition: partition, fromOffset: expected, resumeOffset: resume, reason: "retention removed them before they were read")
        } else if expected > marks.high {
            resume = marks.high
            gap = KafkaGap(partition: partition, fromOffset: expected, resumeOffset: resume, reason: "the log was truncated below the read position")
        }
        do {
            try client.reassign(topic: topic, [(partition, resume)])
        } catch {
            log.log(level: .warning, kind: "seek", "kafka: cannot move \(topic)[\(partition)] to offset \(resume): \(error)")
            return false
        }
        if let gap {
            state.lock.withLock { s in
                s.next[Int(partition)] = resume
                s.gaps += 1
            }
            logger.warning("kafka: \(topic) \(gap)")
            onGap(gap)
        }
        return true
    }

    /// Refreshes watermarks and looks for new partitions until stopped.
    private func watchLoop() {
        var lastMetadata = ContinuousClock.now
        while !stopping.isSet {
            sleepWhileRunning(options.watermarkRefresh)
            if stopping.isSet { return }
            refreshWatermarks()
            if ContinuousClock.now - lastMetadata >= options.metadataRefresh {
                lastMetadata = .now
                addNewPartitions()
            }
        }
    }

    private func refreshWatermarks() {
        let highs: [Int64]
        switch client.queryHighWatermarks(topic: topic, partitions: Array(0..<Int32(partitionCount)), timeoutMillis: 1000) {
        case .success(let found):
            highs = found
        case .failure(let error):
            state.recordError(error.kind)
            state.lock.withLock { $0.reachable = false }
            log.log(level: .warning, kind: "watermarks", "kafka: cannot refresh watermarks of \(topic): \(error); lag shows the last known values")
            return
        }
        state.lock.withLock { s in
            for (index, high) in highs.enumerated() where index < s.high.count { s.high[index] = high }
            s.reachable = true
            s.watermarksAt = .now
        }
    }

    private func addNewPartitions() {
        guard case .success(let actual) = client.fetchPartitionCount(topic: topic, timeoutMillis: 2000) else { return }
        let known = partitionCount
        guard actual > known else { return }
        let partitions = Array(Int32(known)..<Int32(actual))
        guard case .success(let marks) = client.queryWatermarks(topic: topic, partitions: partitions, timeoutMillis: 2000) else { return }
        let added = zip(partitions, marks).map { (partition: $0, offset: $1.low) }
        let highs = marks.map(\.high)
        do {
            try client.assign(topic: topic, added, incremental: true)
        } catch {
            log.log(level: .warning, kind: "assign", "kafka: cannot read the new partitions of \(topic): \(error)")
            return
        }
        state.lock.withLock { s in
            s.next += added.map(\.offset)
            s.high += highs
            s.consumed += Array(repeating: 0, count: added.count)
        }
        logger.notice("kafka: \(topic) now has \(actual) partitions; reading partitions \(known)..<\(actual) from their beginning")
    }

    private func sleepWhileRunning(_ duration: Duration) {
        let end = ContinuousClock.now + duration
        while !stopping.isSet, ContinuousClock.now < end {
            sleepMillis(Int(min(50, max(1, (end - .now).wholeMilliseconds))))
        }
    }

    /// Stops the threads and closes the client. Idempotent.
    public func close() {
        guard !closed else { return }
        closed = true
        stopping.set()
        for thread in threads { thread.join() }
        queue.destroy()
        client.closeConsumer()
        client.destroy()
    }

    deinit { close() }
}

/// Per-partition reading progress and error counts, shared by the reading
/// and watching threads; updated once per batch.
final class ReaderState: Sendable {
    struct State {
        var next: [Int64] = []
        var high: [Int64] = []
        var consumed: [Int] = []
        var errors: [KafkaErrorKind: Int] = [:]
        var gaps = 0
        var reachable = true
        var watermarksAt = ContinuousClock.now
    }

    let lock = Mutex(State())

    func setPartitions(next: [Int64], high: [Int64]) {
        lock.withLock { s in
            s.next = next
            s.high = high
            s.consumed = Array(repeating: 0, count: next.count)
        }
    }

    func recordError(_ kind: KafkaErrorKind) {
        lock.withLock { $0.errors[kind, default: 0] += 1 }
    }

    func advance(_ records: UnsafeBufferPointer<KafkaRecord>) {
        lock.withLock { s in
            for record in records {
                let partition = Int(record.partition)
                guard partition >= 0, partition < s.next.count else { continue }
                s.next[partition] = max(s.next[partition], record.offset + 1)
                s.consumed[partition] += 1
            }
        }
    }
}
