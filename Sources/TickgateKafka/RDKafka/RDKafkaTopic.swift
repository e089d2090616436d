import CRDKafka

/// One `rd_kafka_topic_t` of a producer: where messages are produced.
final class RDKafkaTopic: @unchecked Sendable {
    private let handle: OpaquePointer
    private var destroyed = false

    init(client: OpaquePointer, name: String) {
        self.handle = rd_kafka_topic_new(client, name, nil)
    }

    /// Queues one message (copied), partitioned by key. `token` comes back
    /// with its delivery report. Never blocks.
    func produce(key: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer, token: UInt64) throws(KafkaError) {
        let result = rd_kafka_produce(
            handle, RD_KAFKA_PARTITION_UA, RD_KAFKA_MSG_F_COPY,
            UnsafeMutableRawPointer(mutating: value.baseAddress), value.count,
            key.baseAddress, key.count, UnsafeMutableRawPointer(bitPattern: UInt(token)))
        guard result != 0 else { return }
        let err = rd_kafka_last_error()
        throw err == RD_KAFKA_RESP_ERR__QUEUE_FULL ? .queueFull : .produce(rdKafkaErrorString(err))
    }

    /// Idempotent; call before the client is destroyed.
    func destroy() {
        guard !destroyed else { return }
        destroyed = true
        rd_kafka_topic_destroy(handle)
    }
}
