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

    /// Fault injection: the next `count` Fetch, Produce and ListOffsets
    /// requests fail with retriable errors (NOT_LEADER_FOR_PARTITION,
    /// REQUEST_TIMED_OUT), as during a broker's restart.
    public func failNextRequests(count: Int) {
        cluster.failRequests(apiKey: KafkaAPIKey.fetch, count: count, error: .notLeaderForPartition)
        cluster.failRequests(apiKey: KafkaAPIKey.produce, count: count, error: .requestTimedOut)
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
