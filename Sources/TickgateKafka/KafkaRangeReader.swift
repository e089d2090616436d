public import Logging

/// Reads a range of one partition, on the caller's thread (a dedicated
/// one: every call blocks): the gateway's replays for resuming and
/// time-started subscriptions. One consumer handle, reused for every read;
/// no consumer group is joined.
public final class KafkaRangeReader: @unchecked Sendable {
    public let topic: String
    private let client: RDKafkaClient
    private let queue: RDKafkaQueue
    private let timeoutMillis: Int32
    private var closed = false

    public init(configuration: KafkaConfiguration, topic: String, logger: Logger) throws(KafkaError) {
        let groupID = "tickgate-replay-\(UInt64.random(in: 0...UInt64.max))"
        // The end of the partition is reported, so that a range whose last
        // offsets hold no message a consumer sees (transaction markers,
        // compaction) ends there instead of at the timeout.
        let conf = try makeRDKafkaConf(
            defaults: KafkaPartitionReader.defaultProperties + [("group.id", groupID), ("enable.partition.eof", "true")],
            user: configuration)
        let client = try RDKafkaClient(kind: .consumer, conf: conf, logger: logger)
        client.redirectEventsToConsumerQueue()
        self.client = client
        self.queue = client.consumerQueue()
        self.topic = topic
        self.timeoutMillis = configuration.connectTimeoutMillis
    }

    deinit { close() }

    /// Oldest and next offset of `partition`, asked of its leader.
    public func watermarks(partition: Int32) -> Result<(low: Int64, high: Int64), KafkaError> {
        client.queryWatermarks(topic: topic, partition: partition, timeoutMillis: timeoutMillis)
            .mapError { .brokersUnreachable(brokers: topic, detail: "offsets of \(topic)[\(partition)]: \($0.detail)") }
    }

    /// The first offset of `partition` at or after `millis` (Unix ms).
    ///
    /// Kafka's ListOffsets by time answers it; when the broker says there
    /// is none although the partition's last message is that recent (a
    /// broker that does not look up times, such as the embedded one), the
    /// offset is found by a binary search over the messages' own time
    /// stamps (which assumes them non-decreasing, as CreateTime from one
    /// producer per symbol, or LogAppendTime, are).
    public func offset(atTimeMillis millis: Int64, partition: Int32) -> Result<Int64, KafkaError> {
        let answer = client.offsetForTime(topic: topic, partition: partition, millis: millis, timeoutMillis: timeoutMillis)
            .mapError { KafkaError.brokersUnreachable(brokers: topic, detail: "offset of \(topic)[\(partition)] by time: \($0.detail)") }
        guard case .success(let found) = answer else { return answer }
        let marks: (low: Int64, high: Int64)
        switch watermarks(partition: partition) {
        case .success(let got): marks = got
        case .failure(let error): return .failure(error)
        }
        guard found >= marks.high, marks.low < marks.high else { return .success(found) }
        func time(at offset: Int64) -> Result<Int64, KafkaError> {
            var stamp: Int64 = -1
            let read = read(partition: partition, from: offset, through: offset, maxBatch: 1) { records in
                stamp = records.last?.timestampMillis ?? -1
                return false
            }
            return read.map { stamp }
        }
        switch time(at: marks.high - 1) {
        case .failure(let error): return .failure(error)
        case .success(let last) where last < millis: return .success(marks.high)
        case .success: break
        }
        var low = marks.low
        var high = marks.high - 1
        while low < high {
            let middle = low + (high - low) / 2
            switch time(at: middle) {
            case .failure(let error): return .failure(error)
            case .success(let stamp):
                if stamp >= millis { high = middle } else { low = middle + 1 }
            }
        }
        return .success(low)
    }

    /// Reads `partition` from `from` through `through` (both inclusive),
    /// handing each batch to `onRecords` (valid only during the call).
    /// `onRecords` returns false to stop early. Fails when the brokers do
    /// not deliver within the timeout, or the range left the log.
    public func read(
        partition: Int32, from: Int64, through: Int64, maxBatch: Int = 512,
        onRecords: (UnsafeBufferPointer<KafkaRecord>) -> Bool
    ) -> Result<Void, KafkaError> {
        guard from <= through else { return .success(()) }
        do {
            try client.assign(topic: topic, [(partition, from)], incremental: false)
        } catch {
            return .failure(error)
        }
        defer { try? client.assign(topic: topic, [], incremental: false) }
        var batch = RDKafkaMessageBatch(capacity: maxBatch)
        var idleMillis: Int32 = 0
        var failure: KafkaError? = nil
        var atEnd = false
        var next = from
        while failure == nil {
            let got = batch.fill(from: queue, waitMillis: 100) { error in
                guard error.partition == partition else { return }
                if error.kind.isPartitionEnd {
                    // Only an end reached after the range's start counts.
                    if error.offset < 0 || error.offset >= next { atEnd = true }
                } else {
                    failure = .brokersUnreachable(brokers: topic, detail: "\(error)")
                }
            }
            guard got else {
                idleMillis += 100
                if idleMillis >= timeoutMillis {
                    return .failure(.brokersUnreachable(brokers: topic, detail: "\(topic)[\(partition)] gave nothing for \(timeoutMillis) ms at offset \(from)"))
                }
                continue
            }
            idleMillis = 0
            // Only this partition's records of the range (a message fetched
            // for an earlier assignment is never taken for one of this).
            let inRange = batch.dataRecords.filter { $0.partition == partition && $0.offset >= next && $0.offset <= through }
            if let last = inRange.last {
                next = last.offset + 1
                let keepGoing = inRange.withUnsafeBufferPointer { onRecords($0) }
                guard keepGoing else { return .success(()) }
            }
            if next > through || atEnd { return .success(()) }
            batch.release()
        }
        return .failure(failure!)
    }

    public func close() {
        guard !closed else { return }
        closed = true
        queue.destroy()
        client.destroy()
    }
}
