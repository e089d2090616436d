import CRDKafka

extension KafkaErrorKind {
    init(_ code: rd_kafka_resp_err_t) {
        self.init(code: code.rawValue, name: String(cString: rd_kafka_err2name(code)))
    }

    init(_ code: Int32) {
        self.init(rd_kafka_resp_err_t(code))
    }

    /// librdkafka could not continue from the position it had (the offset
    /// is no longer, or not yet, in the log) and `auto.offset.reset` is
    /// `error`: the reader decides where to go on.
    var isOffsetReset: Bool { code == RD_KAFKA_RESP_ERR__AUTO_OFFSET_RESET.rawValue }

    static let offsetOutOfRange = KafkaErrorKind(RD_KAFKA_RESP_ERR_OFFSET_OUT_OF_RANGE)
    static let notLeaderForPartition = KafkaErrorKind(RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION)

    /// The consumer reached the partition's end (`enable.partition.eof`).
    var isPartitionEnd: Bool { code == RD_KAFKA_RESP_ERR__PARTITION_EOF.rawValue }
}

func rdKafkaErrorString(_ error: rd_kafka_resp_err_t) -> String {
    String(cString: rd_kafka_err2str(error))
}

/// Kafka protocol request types (API keys) that faults are injected into.
enum KafkaAPIKey {
    static let fetch: Int16 = 1
    static let listOffsets: Int16 = 2
}
