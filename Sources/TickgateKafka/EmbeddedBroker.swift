public import Logging

/// librdkafka's mock cluster: real Kafka protocol over TCP on loopback,
/// hosted inside this process. The demo, tests and benchmarks use it; every
/// command also runs against a real cluster given `--brokers`.
public final class EmbeddedBroker: @unchecked Sendable {
    /// `127.0.0.1:port[,…]`, ephemeral ports chosen by librdkafka.
    public let bootstrapServers: String
    private let host: RDKafkaClient
    private let cluster: RDKafkaMockCluster
    private var closed = false

    public init(brokerCount: Int = 1, logger: Logger) throws(KafkaError) {
        let conf = try makeRDKafkaConf(defaults: [("log_level", "3")], user: nil)
        self.host = try RDKafkaClient(kind: .producer, conf: conf, logger: logger)
        guard let cluster = host.makeMockCluster(brokers: brokerCount) else {
            host.destroy()
            throw .broker("could not start the mock cluster")
        }
        self.cluster = cluster
        self.bootstrapServers = cluster.bootstrapServers
    }

    /// Creates `topic` (the mock does not support the CreateTopics API).
    public func createTopic(_ topic: String, partitions: Int) throws(KafkaError) {
        try cluster.createTopic(topic, partitions: partitions, replicationFactor: 1)
    }

    /// Fault injection: takes broker `id` (1-based) down or up.
    public func setBroker(_ id: Int32, up: Bool) {
        cluster.setBroker(id, up: up)
    }

    /// Fault injection: the next `count` Fetch requests answer
    /// OFFSET_OUT_OF_RANGE, as a broker does when a consumer's position
    /// left the log.
    public func failNextFetches(count: Int) {
        cluster.failRequests(apiKey: KafkaAPIKey.fetch, count: count, error: .offsetOutOfRange)
    }

    /// Fault injection: every request to broker `id` (1-based) takes
    /// `millis` longer (0: as fast as it can).
    public func setRoundTrip(broker id: Int32, millis: Int) {
        cluster.setRoundTrip(broker: id, millis: millis)
    }

    /// Fault injection: the leader of `partition` moves to broker `id`.
    public func setLeader(topic: String, partition: Int32, broker id: Int32) {
        cluster.setLeader(topic: topic, partition: partition, broker: id)
    }

    /// Fault injection: the next `count` Fetch and ListOffsets requests
    /// (what a consumer sends) fail with NOT_LEADER_FOR_PARTITION, a
    /// retriable error, as during a broker's restart.
    ///
    /// Produce requests are left alone on purpose. librdkafka 2.0.2's mock
    /// checks an idempotent producer's sequence numbers only for
    /// transactional producers: when a Produce answered with an injected
    /// error that may have been persisted (REQUEST_TIMED_OUT) has a later
    /// request of the same partition in flight, the mock appends the later
    /// one, and librdkafka then counts the first one's messages as
    /// delivered (its implicit ack, right against a real broker, which
    /// refuses the later request as out of order). The mock then holds
    /// fewer ticks than were acknowledged: seen as 2 of 400 missing in a
    /// loaded run, the offsets absent from the log.
    public func failNextReads(count: Int) {
        cluster.failRequests(apiKey: KafkaAPIKey.fetch, count: count, error: .notLeaderForPartition)
        cluster.failRequests(apiKey: KafkaAPIKey.listOffsets, count: count, error: .notLeaderForPartition)
    }

    /// Idempotent.
    public func close() {
        guard !closed else { return }
        closed = true
        cluster.destroy()
        host.destroy()
    }

    deinit { close() }
}
