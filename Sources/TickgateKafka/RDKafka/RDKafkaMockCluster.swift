import CRDKafka

/// librdkafka's mock cluster (`rdkafka_mock.h`): Kafka's protocol over TCP
/// on loopback, with fault injection.
final class RDKafkaMockCluster: @unchecked Sendable {
    private let handle: OpaquePointer
    private var destroyed = false

    init(_ handle: OpaquePointer) { self.handle = handle }

    var bootstrapServers: String { String(cString: rd_kafka_mock_cluster_bootstraps(handle)) }

    func createTopic(_ topic: String, partitions: Int, replicationFactor: Int) throws(KafkaError) {
        let err = rd_kafka_mock_topic_create(handle, topic, Int32(partitions), Int32(replicationFactor))
        guard err == RD_KAFKA_RESP_ERR_NO_ERROR else {
            throw .broker("create topic \(topic): \(rdKafkaErrorString(err))")
        }
    }

    func setBroker(_ id: Int32, up: Bool) {
        if up {
            _ = rd_kafka_mock_broker_set_up(handle, id)
        } else {
            _ = rd_kafka_mock_broker_set_down(handle, id)
        }
    }

    /// The next `count` requests of `apiKey` fail with `error`.
    func failRequests(apiKey: Int16, count: Int, error: KafkaErrorKind) {
        var errors = Array(repeating: rd_kafka_resp_err_t(error.code), count: count)
        errors.withUnsafeMutableBufferPointer { buffer in
            rd_kafka_mock_push_request_errors_array(handle, apiKey, count, buffer.baseAddress)
        }
    }

    /// Every request to broker `id` takes `millis` longer.
    func setRoundTrip(broker id: Int32, millis: Int) {
        _ = rd_kafka_mock_broker_set_rtt(handle, id, Int32(clamping: millis))
    }

    /// Partition `partition` of `topic` gets broker `id` as its leader.
    func setLeader(topic: String, partition: Int32, broker id: Int32) {
        _ = rd_kafka_mock_partition_set_leader(handle, topic, partition, id)
    }

    func destroy() {
        guard !destroyed else { return }
        destroyed = true
        rd_kafka_mock_cluster_destroy(handle)
    }
}
