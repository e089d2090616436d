/// A kind of Kafka error, as librdkafka names it (`_TRANSPORT`,
/// `OFFSET_OUT_OF_RANGE`, `_ALL_BROKERS_DOWN`, …): what `/metrics` counts
/// errors by.
public struct KafkaErrorKind: Hashable, Sendable, CustomStringConvertible {
    /// librdkafka's `rd_kafka_resp_err_t` value.
    public let code: Int32
    public let name: String

    init(code: Int32, name: String) {
        self.code = code
        self.name = name
    }

    public var description: String { name }
}

/// One error the consumer reported for a partition (or for the client,
/// with partition -1).
public struct KafkaConsumerError: Error, Sendable, CustomStringConvertible {
    public var partition: Int32
    public var kind: KafkaErrorKind
    public var detail: String
    public var offset: Int64 = -1

    public var description: String {
        partition >= 0 ? "partition \(partition): \(detail)" : detail
    }
}

/// Offsets of a partition the reader will never deliver: the log no longer
/// held them when it got there (retention ran ahead of it), or they are
/// past the log's end (the log was truncated). Reading goes on at
/// `resumeOffset`.
public struct KafkaGap: Sendable, Equatable, CustomStringConvertible {
    public var partition: Int32
    /// The first offset not delivered.
    public var fromOffset: Int64
    /// Where reading continues: every offset in fromOffset..<resumeOffset is lost.
    public var resumeOffset: Int64
    public var reason: String

    public var description: String {
        "partition \(partition): offsets \(fromOffset)..<\(resumeOffset) skipped (\(reason))"
    }
}
