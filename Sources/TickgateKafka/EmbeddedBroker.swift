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

    /// Idempotent.
    public func close() {
        guard !closed else { return }
        closed = true
        cluster.destroy()
        host.destroy()
    }

    deinit { close() }
}
