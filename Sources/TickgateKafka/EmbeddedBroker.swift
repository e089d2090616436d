import CRDKafka
public import Logging

/// librdkafka's mock cluster: real Kafka protocol over TCP on loopback,
/// hosted inside this process. The demo, tests and benchmarks use it; every
/// command also runs against a real cluster given `--brokers`.
public final class EmbeddedBroker: @unchecked Sendable {
    /// `127.0.0.1:port[,…]`, ephemeral ports chosen by librdkafka.
    public let bootstrapServers: String
    private let host: RDKafkaClient
    private let cluster: OpaquePointer
    private var closed = false

    public init(brokerCount: Int = 1, logger: Logger) throws(KafkaError) {
        let conf = try makeRDKafkaConf(defaults: [("log_level", "3")], user: nil)
        self.host = try RDKafkaClient(kind: .producer, conf: conf, logger: logger)
        guard let cluster = rd_kafka_mock_cluster_new(host.handle, Int32(brokerCount)) else {
            host.destroy()
            throw .broker("could not start the mock cluster")
        }
        self.cluster = cluster
        self.bootstrapServers = String(cString: rd_kafka_mock_cluster_bootstraps(cluster))
    }

    /// Creates `topic` (the mock does not support the CreateTopics API).
    public func createTopic(_ topic: String, partitions: Int) throws(KafkaError) {
        let err = rd_kafka_mock_topic_create(cluster, topic, Int32(partitions), 1)
        guard err == RD_KAFKA_RESP_ERR_NO_ERROR else {
            throw .broker("create topic \(topic): \(rdKafkaErrorString(err))")
        }
    }

    /// Fault injection: takes broker `id` (1-based) down or up.
    public func setBroker(_ id: Int32, up: Bool) {
        if up {
            rd_kafka_mock_broker_set_up(cluster, id)
        } else {
            rd_kafka_mock_broker_set_down(cluster, id)
        }
    }

    public func close() {
        guard !closed else { return }
        closed = true
        rd_kafka_mock_cluster_destroy(cluster)
        host.destroy()
    }

    deinit { close() }
}
