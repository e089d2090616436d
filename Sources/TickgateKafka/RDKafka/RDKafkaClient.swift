import CRDKafka
import Logging
import TickgateModel

/// One `rd_kafka_t` handle: the only type that holds a librdkafka client.
/// librdkafka's own log lines and errors go to the given swift-log logger
/// (rate-limited per kind) and to `onError`, which counts them.
final class RDKafkaClient: @unchecked Sendable {
    enum Kind { case producer, consumer }

    private let handle: OpaquePointer
    private let callbacks: Unmanaged<RDKafkaCallbacks>
    private var destroyed = false

    /// `onDelivery` gets each message's result and the token it was produced
    /// with; `onError` every client-level error librdkafka reports (broker
    /// down, transport failures), by kind.
    init(
        kind: Kind, conf: OpaquePointer, logger: Logger,
        onDelivery: (@Sendable (KafkaError?, UInt64) -> Void)? = nil,
        onError: (@Sendable (KafkaErrorKind, String) -> Void)? = nil
    ) throws(KafkaError) {
        let box = Unmanaged.passRetained(RDKafkaCallbacks(logger: logger, onDelivery: onDelivery, onError: onError))
        rd_kafka_conf_set_opaque(conf, box.toOpaque())
        rd_kafka_conf_set_log_cb(conf) { rk, level, facility, message in
            guard let rk, let opaque = rd_kafka_opaque(rk) else { return }
            let box = Unmanaged<RDKafkaCallbacks>.fromOpaque(opaque).takeUnretainedValue()
            let facility = facility.map { String(cString: $0) } ?? ""
            let text = "librdkafka \(facility): \(message.map { String(cString: $0) } ?? "")"
            box.log(level: level <= 3 ? .error : level <= 5 ? .notice : .debug, kind: "log-\(facility)", text)
        }
        rd_kafka_conf_set_error_cb(conf) { _, err, reason, opaque in
            guard let opaque else { return }
            let box = Unmanaged<RDKafkaCallbacks>.fromOpaque(opaque).takeUnretainedValue()
            let code = rd_kafka_resp_err_t(err)
            let kind = KafkaErrorKind(code)
            let reason = reason.map { String(cString: $0) } ?? ""
            box.onError?(kind, reason)
            box.log(level: .warning, kind: kind.name, "kafka: \(rdKafkaErrorString(code)): \(reason)")
        }
        if onDelivery != nil {
            rd_kafka_conf_set_dr_msg_cb(conf) { _, message, opaque in
                guard let opaque, let message else { return }
                let box = Unmanaged<RDKafkaCallbacks>.fromOpaque(opaque).takeUnretainedValue()
                let err = message.pointee.err
                let token = UInt64(UInt(bitPattern: message.pointee._private))
                box.onDelivery?(err == RD_KAFKA_RESP_ERR_NO_ERROR ? nil : .produce(rdKafkaErrorString(err)), token)
            }
        }
        var errstr = [CChar](repeating: 0, count: 512)
        guard let rk = rd_kafka_new(kind == .producer ? RD_KAFKA_PRODUCER : RD_KAFKA_CONSUMER, conf, &errstr, errstr.count) else {
            rd_kafka_conf_destroy(conf)
            box.release()
            throw .clientCreation(stringFromErrorBuffer(errstr))
        }
        self.handle = rk
        self.callbacks = box
    }

    /// Destroys the handle; the callbacks box is released exactly once.
    /// Idempotent.
    func destroy() {
        guard !destroyed else { return }
        destroyed = true
        rd_kafka_destroy(handle)
        callbacks.release()
    }

    deinit { destroy() }

    /// The partition count of `topic`, waiting at most `timeoutMillis` for
    /// the brokers to answer.
    func partitionCount(topic: String, brokers: String, timeoutMillis: Int32) throws(KafkaError) -> Int {
        let deadline = ContinuousClock.now + .milliseconds(Int(timeoutMillis))
        var lastError = "no answer"
        while true {
            let remaining = max(100, Int32(clamping: (deadline - .now).components.seconds * 1000))
            switch fetchPartitionCount(topic: topic, timeoutMillis: min(remaining, 2000)) {
            case .success(let count):
                return count
            case .failure(let failure):
                lastError = failure.detail
                if failure.unknownTopic && ContinuousClock.now >= deadline {
                    throw .topicNotFound(topic: topic, brokers: brokers)
                }
            }
            if ContinuousClock.now >= deadline {
                throw .brokersUnreachable(brokers: brokers, detail: "\(lastError) (waited \(timeoutMillis) ms)")
            }
            rd_kafka_poll(handle, 100)
        }
    }

    struct MetadataFailure: Error {
        var detail: String
        var unknownTopic: Bool
    }

    /// One metadata request for `topic`.
    func fetchPartitionCount(topic: String, timeoutMillis: Int32) -> Result<Int, MetadataFailure> {
        var metadata: UnsafePointer<rd_kafka_metadata>? = nil
        let rkt = rd_kafka_topic_new(handle, topic, nil)
        let err = rd_kafka_metadata(handle, 0, rkt, &metadata, timeoutMillis)
        rd_kafka_topic_destroy(rkt)
        guard err == RD_KAFKA_RESP_ERR_NO_ERROR, let metadata else {
            return .failure(MetadataFailure(detail: rdKafkaErrorString(err), unknownTopic: false))
        }
        defer { rd_kafka_metadata_destroy(metadata) }
        guard metadata.pointee.topic_cnt > 0 else {
            return .failure(MetadataFailure(detail: "no metadata for \(topic)", unknownTopic: false))
        }
        let t = metadata.pointee.topics[0]
        if t.err == RD_KAFKA_RESP_ERR_NO_ERROR && t.partition_cnt > 0 { return .success(Int(t.partition_cnt)) }
        return .failure(MetadataFailure(detail: rdKafkaErrorString(t.err), unknownTopic: t.err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART))
    }

    // MARK: producer

    func makeTopic(_ name: String) -> RDKafkaTopic { RDKafkaTopic(client: handle, name: name) }

    /// Serves delivery reports and errors for up to `timeoutMillis`.
    func poll(timeoutMillis: Int32) { rd_kafka_poll(handle, timeoutMillis) }

    func flush(timeoutMillis: Int32) { _ = rd_kafka_flush(handle, timeoutMillis) }

    /// Messages queued locally or in flight.
    var outQueueLength: Int { Int(rd_kafka_outq_len(handle)) }

    // MARK: consumer

    /// Low and high watermark of a partition, asked of its leader.
    func queryWatermarks(topic: String, partition: Int32, timeoutMillis: Int32) -> Result<(low: Int64, high: Int64), KafkaConsumerError> {
        queryWatermarks(topic: topic, partitions: [partition], timeoutMillis: timeoutMillis).map { $0[0] }
    }

    /// Low and high watermarks of `partitions`, in their order: two
    /// ListOffsets rounds (earliest, then latest), one request per leader
    /// each, within `timeoutMillis` in all.
    ///
    /// Not `rd_kafka_query_watermark_offsets`: in librdkafka 2.0.2 it waits
    /// for its answers with no deadline, and a request queued for a leader
    /// that is down is never answered, so it can block for ever
    /// (librdkafka #2588, fixed in 2.3.0). `rd_kafka_offsets_for_times`
    /// sends the same requests and keeps its timeout.
    func queryWatermarks(topic: String, partitions: [Int32], timeoutMillis: Int32) -> Result<[(low: Int64, high: Int64)], KafkaConsumerError> {
        let deadline = ContinuousClock.now + .milliseconds(Int(timeoutMillis))
        let lows: [Int64]
        switch logicalOffsets(topic: topic, partitions: partitions, RDKafkaOffset.beginning, timeoutMillis: timeoutMillis) {
        case .success(let found): lows = found
        case .failure(let error): return .failure(error)
        }
        return logicalOffsets(topic: topic, partitions: partitions, RDKafkaOffset.end, timeoutMillis: millisLeft(until: deadline)).map { highs in
            // An empty partition answers 0 for both; a log whose start
            // passed its end in between answers the end for both.
            zip(lows, highs).map { (min($0, $1), $1) }
        }
    }

    /// The high watermark (next offset to be written) of each partition.
    func queryHighWatermarks(topic: String, partitions: [Int32], timeoutMillis: Int32) -> Result<[Int64], KafkaConsumerError> {
        logicalOffsets(topic: topic, partitions: partitions, RDKafkaOffset.end, timeoutMillis: timeoutMillis)
    }

    /// One ListOffsets round: each partition's offset for `timestamp`, a
    /// time in milliseconds or ``RDKafkaOffset``'s `beginning`/`end`.
    /// `nil` for a partition with no message at or after that time.
    private func listOffsets(
        topic: String, partitions: [Int32], at timestamp: Int64, timeoutMillis: Int32
    ) -> Result<[Int64?], KafkaConsumerError> {
        guard !partitions.isEmpty else { return .success([]) }
        let list = rd_kafka_topic_partition_list_new(Int32(partitions.count))!
        defer { rd_kafka_topic_partition_list_destroy(list) }
        for partition in partitions {
            rd_kafka_topic_partition_list_add(list, topic, partition).pointee.offset = timestamp
        }
        let err = rd_kafka_offsets_for_times(handle, list, timeoutMillis)
        guard err == RD_KAFKA_RESP_ERR_NO_ERROR else {
            return .failure(KafkaConsumerError(partition: partitions[0], kind: KafkaErrorKind(err), detail: rdKafkaErrorString(err)))
        }
        var offsets: [Int64?] = []
        offsets.reserveCapacity(partitions.count)
        for index in 0..<Int(list.pointee.cnt) {
            let found = list.pointee.elems[index]
            guard found.err == RD_KAFKA_RESP_ERR_NO_ERROR else {
                return .failure(KafkaConsumerError(partition: found.partition, kind: KafkaErrorKind(found.err), detail: rdKafkaErrorString(found.err)))
            }
            offsets.append(found.offset >= 0 ? found.offset : nil)
        }
        return .success(offsets)
    }

    /// A ListOffsets round for a logical offset (`beginning`, `end`): every
    /// partition has an answer, or the round failed.
    private func logicalOffsets(topic: String, partitions: [Int32], _ logical: Int64, timeoutMillis: Int32) -> Result<[Int64], KafkaConsumerError> {
        switch listOffsets(topic: topic, partitions: partitions, at: logical, timeoutMillis: timeoutMillis) {
        case .failure(let error):
            return .failure(error)
        case .success(let found):
            if let missing = found.firstIndex(of: nil) {
                return .failure(KafkaConsumerError(partition: partitions[missing], kind: KafkaErrorKind(RD_KAFKA_RESP_ERR__BAD_MSG), detail: "no offset in the answer"))
            }
            return .success(found.map { $0! })
        }
    }

    /// The first offset of `partition` whose time stamp is at or after
    /// `millis` (Kafka's ListOffsets by time); the end offset when none is.
    func offsetForTime(topic: String, partition: Int32, millis: Int64, timeoutMillis: Int32) -> Result<Int64, KafkaConsumerError> {
        let deadline = ContinuousClock.now + .milliseconds(Int(timeoutMillis))
        switch listOffsets(topic: topic, partitions: [partition], at: millis, timeoutMillis: timeoutMillis) {
        case .failure(let error):
            return .failure(error)
        case .success(let found):
            if let offset = found[0] { return .success(offset) }
            // No message at or after that time: the end.
            return queryHighWatermarks(topic: topic, partitions: [partition], timeoutMillis: millisLeft(until: deadline)).map { $0[0] }
        }
    }

    /// What is left of a deadline, for librdkafka's timeouts (at least 1 ms).
    private func millisLeft(until deadline: ContinuousClock.Instant) -> Int32 {
        Int32(clamping: max(1, (deadline - .now).wholeMilliseconds))
    }

    /// Routes the consumer's events to its queue (``consumerQueue()``).
    func redirectEventsToConsumerQueue() { rd_kafka_poll_set_consumer(handle) }

    func consumerQueue() -> RDKafkaQueue { RDKafkaQueue(rd_kafka_queue_get_consumer(handle)!) }

    /// Adds partitions to the manual assignment, each at its offset (or
    /// ``RDKafkaOffset``'s logical ones), keeping what is assigned already.
    func assign(topic: String, _ positions: [(partition: Int32, offset: Int64)], incremental: Bool) throws(KafkaError) {
        let list = rd_kafka_topic_partition_list_new(Int32(positions.count))!
        defer { rd_kafka_topic_partition_list_destroy(list) }
        for position in positions {
            rd_kafka_topic_partition_list_add(list, topic, position.partition).pointee.offset = position.offset
        }
        if incremental {
            if let error = rd_kafka_incremental_assign(handle, list) {
                let text = String(cString: rd_kafka_error_string(error))
                rd_kafka_error_destroy(error)
                throw .clientCreation("assign: \(text)")
            }
        } else {
            let err = rd_kafka_assign(handle, list)
            guard err == RD_KAFKA_RESP_ERR_NO_ERROR else { throw .clientCreation("assign: \(rdKafkaErrorString(err))") }
        }
    }

    /// Starts assigned partitions over at new offsets. A partition whose
    /// position left the log has stopped fetching (`auto.offset.reset` is
    /// `error`), and a seek does not restart it: it is taken out of the
    /// assignment and put back at the new offset.
    func reassign(topic: String, _ positions: [(partition: Int32, offset: Int64)]) throws(KafkaError) {
        let list = rd_kafka_topic_partition_list_new(Int32(positions.count))!
        defer { rd_kafka_topic_partition_list_destroy(list) }
        for position in positions {
            rd_kafka_topic_partition_list_add(list, topic, position.partition).pointee.offset = position.offset
        }
        if let error = rd_kafka_incremental_unassign(handle, list) {
            let text = String(cString: rd_kafka_error_string(error))
            rd_kafka_error_destroy(error)
            throw .clientCreation("unassign: \(text)")
        }
        try assign(topic: topic, positions, incremental: true)
    }

    func closeConsumer() { _ = rd_kafka_consumer_close(handle) }

    // MARK: embedded broker

    /// A mock cluster hosted by this handle's threads.
    func makeMockCluster(brokers: Int) -> RDKafkaMockCluster? {
        rd_kafka_mock_cluster_new(handle, Int32(brokers)).map(RDKafkaMockCluster.init)
    }
}

/// Logical offsets librdkafka understands in an assignment.
enum RDKafkaOffset {
    static let beginning = Int64(RD_KAFKA_OFFSET_BEGINNING)
    static let end = Int64(RD_KAFKA_OFFSET_END)
}

/// What librdkafka's C callbacks reach through the handle's opaque pointer.
final class RDKafkaCallbacks: @unchecked Sendable {
    let onDelivery: (@Sendable (KafkaError?, UInt64) -> Void)?
    let onError: (@Sendable (KafkaErrorKind, String) -> Void)?
    private let logLimiter: RateLimitedLogger

    init(logger: Logger, onDelivery: (@Sendable (KafkaError?, UInt64) -> Void)?, onError: (@Sendable (KafkaErrorKind, String) -> Void)?) {
        self.logLimiter = RateLimitedLogger(logger: logger)
        self.onDelivery = onDelivery
        self.onError = onError
    }

    func log(level: Logger.Level, kind: String, _ text: String) {
        logLimiter.log(level: level, kind: kind, text)
    }
}
