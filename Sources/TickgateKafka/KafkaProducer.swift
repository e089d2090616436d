import TickgateModel
public import Logging
import Synchronization

/// A librdkafka producer for one topic: idempotent, `acks=all`, key-hashed
/// partitioning compatible with Java clients, and delivery reports counted
/// on a dedicated polling thread. A failed delivery is counted, logged and
/// reported by ``flush(timeout:)``; it is never dropped silently.
public final class KafkaProducer: @unchecked Sendable {
    /// Tickgate's producer defaults; `-X` properties override them.
    public static let defaultProperties: [(String, String)] = [
        ("enable.idempotence", "true"),   // no duplicates or reordering on retry
        ("acks", "all"),                  // every in-sync replica has the tick
        ("linger.ms", "1"),               // small batches: latency stays ~1 ms
        ("batch.num.messages", "10000"),
        ("queue.buffering.max.messages", "1000000"),
        ("partitioner", "murmur2_random"),  // same key → partition as Java clients
        ("socket.nagle.disable", "true"),
    ]

    public let topic: String
    public let brokers: String
    private let client: RDKafkaClient
    private let topicHandle: RDKafkaTopic
    private let counters: DeliveryCounters
    private let stopping = StopFlag()
    private var pollThread: DedicatedThread?
    private let logger: Logger
    private var closed = false

    /// `onDelivery`, if given, hears about every message sent with a token
    /// (``trySend(key:value:token:)``): nil for delivered, or the error. It
    /// runs on the producer's polling thread.
    public init(
        configuration: KafkaConfiguration, topic: String, logger: Logger,
        onDelivery: (@Sendable (UInt64, KafkaError?) -> Void)? = nil
    ) throws(KafkaError) {
        let conf = try makeRDKafkaConf(defaults: Self.defaultProperties, user: configuration)
        let counters = DeliveryCounters()
        let failureLog = RateLimitedLogger(logger: logger)
        let client = try RDKafkaClient(kind: .producer, conf: conf, logger: logger, onDelivery: { error, token in
            counters.record(error)
            if let error { failureLog.log(level: .error, kind: "delivery", "kafka delivery failed: \(error)") }
            if let onDelivery, token != 0 { onDelivery(token, error) }
        })
        let topicHandle = client.makeTopic(topic)
        do {
            _ = try client.partitionCount(topic: topic, brokers: configuration.brokers, timeoutMillis: configuration.connectTimeoutMillis)
        } catch {
            // Nothing else owns these yet: free them here, once.
            topicHandle.destroy()
            client.destroy()
            throw error
        }
        self.client = client
        self.topicHandle = topicHandle
        self.counters = counters
        self.topic = topic
        self.brokers = configuration.brokers
        self.logger = logger
        let stopping = self.stopping
        self.pollThread = DedicatedThread(name: "kafka-producer") {
            while !stopping.isSet {
                client.poll(timeoutMillis: 50)
            }
        }
    }

    /// Queues one message without ever blocking (for event loops): a full
    /// local queue is `.queueFull`. `token` (not 0) comes back to `onDelivery`.
    public func trySend(key: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer, token: UInt64) throws(KafkaError) {
        try topicHandle.produce(key: key, value: value, token: token)
    }

    /// Queues one message. Blocks (serving delivery reports) while
    /// librdkafka's local queue is full, so a fast feed is slowed, not
    /// dropped; each time that starts is logged and counted.
    public func send(key: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer) throws(KafkaError) {
        var waited = false
        defer {
            if waited { logger.notice("Kafka's local queue has room again; publishing resumed") }
        }
        while true {
            do {
                try topicHandle.produce(key: key, value: value, token: 0)
                return
            } catch .queueFull {
                if !waited {
                    waited = true
                    queueFullEpisodes.add(1, ordering: .relaxed)
                    logger.warning("Kafka is not keeping up: librdkafka's local queue is full (\(pending) message(s)); the feed waits instead of dropping")
                }
                client.poll(timeoutMillis: 1)
            }
        }
    }

    public func send(key: String, value: [UInt8]) throws(KafkaError) {
        var key = key
        let result: Result<Void, KafkaError> = key.withUTF8 { keyBytes in
            value.withUnsafeBytes { valueBytes in
                Result { () throws(KafkaError) in try send(key: UnsafeRawBufferPointer(keyBytes), value: valueBytes) }
            }
        }
        try result.get()
    }

    /// Times `send` had to wait for room in librdkafka's queue.
    public var queueFullCount: Int { queueFullEpisodes.load(ordering: .relaxed) }
    private let queueFullEpisodes = Atomic<Int>(0)

    public var delivered: Int { counters.delivered.load(ordering: .relaxed) }
    public var failed: Int { counters.failed.load(ordering: .relaxed) }
    /// Messages queued locally or in flight, not yet acknowledged.
    public var pending: Int { client.outQueueLength }

    /// Waits until every queued message is acknowledged or has failed, then
    /// throws if any failed or some are still pending at the deadline.
    public func flush(timeout: Duration) throws(KafkaError) {
        client.flush(timeoutMillis: Int32(clamping: timeout.wholeMilliseconds))
        if pending > 0 { throw .flushTimedOut(pending: pending) }
        if failed > 0 { throw .deliveryFailed(count: failed, firstError: counters.firstError ?? "unknown") }
    }

    /// Stops the polling thread and destroys the client. Flush first to be
    /// sure every message was delivered. Idempotent.
    public func close() {
        guard !closed else { return }
        closed = true
        stopping.set()
        pollThread?.join()
        topicHandle.destroy()
        client.destroy()
    }

    deinit { close() }
}

final class DeliveryCounters: Sendable {
    let delivered = Atomic<Int>(0)
    let failed = Atomic<Int>(0)
    private let firstErrorText = Mutex<String?>(nil)

    var firstError: String? { firstErrorText.withLock { $0 } }

    func record(_ error: KafkaError?) {
        if let error {
            failed.add(1, ordering: .relaxed)
            firstErrorText.withLock { if $0 == nil { $0 = "\(error)" } }
        } else {
            delivered.add(1, ordering: .relaxed)
        }
    }
}
