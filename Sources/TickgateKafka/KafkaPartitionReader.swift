import CRDKafka
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
/// is joined, so every gateway instance sees every symbol), starting at the
/// live end, on a dedicated thread. Batches go to `onBatch` on that thread.
public final class KafkaPartitionReader: @unchecked Sendable {
    /// Tickgate's consumer defaults; `-X` properties override them.
    public static let defaultProperties: [(String, String)] = [
        ("enable.auto.commit", "false"),        // nothing is committed: no group state
        ("enable.auto.offset.store", "false"),
        ("enable.partition.eof", "false"),
        ("fetch.wait.max.ms", "1"),             // broker answers an empty fetch within 1 ms
        ("fetch.error.backoff.ms", "10"),
        ("socket.nagle.disable", "true"),
        ("auto.offset.reset", "latest"),
    ]

    public let topic: String
    public let partitionCount: Int
    /// The offsets reading started at, per partition.
    public let startOffsets: [Int64]
    private let client: RDKafkaClient
    private let queue: OpaquePointer
    private let stopping = StopFlag()
    /// Next offset to read and messages read, per partition; updated once
    /// per batch by the reading thread.
    private let progress: ReaderProgress
    private var thread: DedicatedThread?
    private let logger: Logger
    private var closed = false

    /// Where reading starts in every partition.
    public enum StartPosition: Sendable {
        /// The live end (the gateway).
        case end
        /// The oldest message kept (checks and tests that read a topic whole).
        case beginning
    }

    /// Connects, finds the partitions and assigns each at its current end
    /// (or beginning). Throws a clear error when the brokers do not answer
    /// in time.
    public init(configuration: KafkaConfiguration, topic: String, start: StartPosition = .end, logger: Logger) throws(KafkaError) {
        // librdkafka needs a group.id to assign, even though no group is joined.
        let groupID = "tickgate-gateway-\(UInt64.random(in: 0...UInt64.max))"
        let conf = try makeRDKafkaConf(defaults: Self.defaultProperties + [("group.id", groupID)], user: configuration)
        let client = try RDKafkaClient(kind: .consumer, conf: conf, logger: logger)
        let partitions: Int
        do {
            partitions = try client.partitionCount(topic: topic, brokers: configuration.brokers, timeoutMillis: configuration.connectTimeoutMillis)
        } catch {
            client.destroy()
            throw error
        }
        rd_kafka_poll_set_consumer(client.handle)
        // Resolve the live end explicitly, so that everything produced after
        // this initialiser returns is read: no race with an async lookup.
        var offsets: [Int64] = []
        let list = rd_kafka_topic_partition_list_new(Int32(partitions))!
        defer { rd_kafka_topic_partition_list_destroy(list) }
        for partition in 0..<partitions {
            var low: Int64 = 0
            var high: Int64 = 0
            let err = rd_kafka_query_watermark_offsets(client.handle, topic, Int32(partition), &low, &high, configuration.connectTimeoutMillis)
            guard err == RD_KAFKA_RESP_ERR_NO_ERROR else {
                client.destroy()
                throw .brokersUnreachable(brokers: configuration.brokers, detail: "offsets of \(topic)[\(partition)]: \(rdKafkaErrorString(err))")
            }
            let offset = start == .end ? high : low
            offsets.append(offset)
            rd_kafka_topic_partition_list_add(list, topic, Int32(partition)).pointee.offset = offset
        }
        let err = rd_kafka_assign(client.handle, list)
        guard err == RD_KAFKA_RESP_ERR_NO_ERROR else {
            client.destroy()
            throw .clientCreation("assign: \(rdKafkaErrorString(err))")
        }
        self.client = client
        self.queue = rd_kafka_queue_get_consumer(client.handle)
        self.topic = topic
        self.partitionCount = partitions
        self.startOffsets = offsets
        self.logger = logger
        self.progress = ReaderProgress(next: offsets)
    }

    /// Messages read so far, per partition.
    public var consumedPerPartition: [Int] { progress.state.withLock { $0.consumed } }

    /// Consumer lag per partition: the broker's high watermark (as last
    /// reported in fetch responses; no request is made) minus the next
    /// offset to read.
    public func lag() -> [Int64] {
        let next = progress.state.withLock { $0.next }
        return next.indices.map { partition in
            var low: Int64 = 0
            var high: Int64 = 0
            guard rd_kafka_get_watermark_offsets(client.handle, topic, Int32(partition), &low, &high) == RD_KAFKA_RESP_ERR_NO_ERROR,
                  high >= 0 else { return 0 }
            return max(0, high - next[partition])
        }
    }

    /// Starts the reading thread. `onBatch` runs on it, once per batch of up
    /// to `maxBatch` messages; it must not block for long.
    public func start(maxBatch: Int = 1024, onBatch: @escaping @Sendable (UnsafeBufferPointer<KafkaRecord>) -> Void) {
        precondition(thread == nil, "already started")
        let queue = self.queue
        let stopping = self.stopping
        let logger = self.logger
        let queueBox = SendablePointer(queue)
        let progress = self.progress
        thread = DedicatedThread(name: "kafka-reader") {
            let queue = queueBox.pointer
            let messages = UnsafeMutablePointer<UnsafeMutablePointer<rd_kafka_message_t>?>.allocate(capacity: maxBatch)
            let records = UnsafeMutablePointer<KafkaRecord>.allocate(capacity: maxBatch)
            defer {
                messages.deallocate()
                records.deallocate()
            }
            var errorsLogged = 0
            while !stopping.isSet {
                // consume_batch_queue waits until the batch is full or its
                // timeout ends, so wait for one message only, then take what
                // is already there without waiting.
                guard let first = rd_kafka_consume_queue(queue, 100) else { continue }
                messages[0] = first
                let more = maxBatch > 1 ? rd_kafka_consume_batch_queue(queue, 0, messages + 1, maxBatch - 1) : 0
                let count = 1 + max(0, more)
                var n = 0
                for index in 0..<count {
                    let message = messages[index]!.pointee
                    if message.err != RD_KAFKA_RESP_ERR_NO_ERROR {
                        if errorsLogged < 20 {
                            errorsLogged += 1
                            logger.warning("kafka read error on partition \(message.partition): \(rdKafkaErrorString(message.err))")
                        }
                        continue
                    }
                    var timestampType = RD_KAFKA_TIMESTAMP_NOT_AVAILABLE
                    let timestamp = rd_kafka_message_timestamp(messages[index], &timestampType)
                    (records + n).initialize(to: KafkaRecord(
                        partition: message.partition, offset: message.offset, timestampMillis: timestamp,
                        key: UnsafeRawBufferPointer(start: message.key, count: message.key_len),
                        value: UnsafeRawBufferPointer(start: message.payload, count: message.len)))
                    n += 1
                }
                if n > 0 {
                    progress.state.withLock { state in
                        for index in 0..<n {
                            let record = records[index]
                            guard record.partition >= 0, Int(record.partition) < state.next.count else { continue }
                            state.next[Int(record.partition)] = max(state.next[Int(record.partition)], record.offset + 1)
                            state.consumed[Int(record.partition)] += 1
                        }
                    }
                    onBatch(UnsafeBufferPointer(start: records, count: n))
                }
                for index in 0..<count { rd_kafka_message_destroy(messages[index]) }
            }
        }
    }

    /// Stops the thread and closes the client. Idempotent.
    public func close() {
        guard !closed else { return }
        closed = true
        stopping.set()
        thread?.join()
        rd_kafka_queue_destroy(queue)
        _ = rd_kafka_consumer_close(client.handle)
        client.destroy()
    }

    deinit { close() }
}

/// A C pointer handed to a dedicated thread that alone uses it.
struct SendablePointer: @unchecked Sendable {
    let pointer: OpaquePointer
    init(_ pointer: OpaquePointer) { self.pointer = pointer }
}

/// Per-partition reading progress, shared with the reading thread.
final class ReaderProgress: Sendable {
    let state: Mutex<(next: [Int64], consumed: [Int])>

    init(next: [Int64]) {
        state = Mutex((next, Array(repeating: 0, count: next.count)))
    }
}
