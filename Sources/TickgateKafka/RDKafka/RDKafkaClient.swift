import CRDKafka
import Logging

/// One `rd_kafka_t` handle: the only type that holds a librdkafka client.
/// librdkafka's own log lines and errors go to the given swift-log logger.
final class RDKafkaClient: @unchecked Sendable {
    enum Kind { case producer, consumer }

    let handle: OpaquePointer
    private let callbacks: Unmanaged<RDKafkaCallbacks>
    private var destroyed = false

    /// `onDelivery` gets each message's result and the opaque it was produced with.
    init(kind: Kind, conf: OpaquePointer, logger: Logger, onDelivery: (@Sendable (rd_kafka_resp_err_t, UnsafeMutableRawPointer?) -> Void)? = nil) throws(KafkaError) {
        let box = Unmanaged.passRetained(RDKafkaCallbacks(logger: logger, onDelivery: onDelivery))
        rd_kafka_conf_set_opaque(conf, box.toOpaque())
        rd_kafka_conf_set_log_cb(conf) { rk, level, facility, message in
            guard let rk, let opaque = rd_kafka_opaque(rk) else { return }
            let box = Unmanaged<RDKafkaCallbacks>.fromOpaque(opaque).takeUnretainedValue()
            let text = "librdkafka \(facility.map { String(cString: $0) } ?? ""): \(message.map { String(cString: $0) } ?? "")"
            box.logger.log(level: level <= 3 ? .error : level <= 5 ? .notice : .debug, "\(text)")
        }
        rd_kafka_conf_set_error_cb(conf) { _, err, reason, opaque in
            guard let opaque else { return }
            let box = Unmanaged<RDKafkaCallbacks>.fromOpaque(opaque).takeUnretainedValue()
            box.logger.warning("kafka: \(rdKafkaErrorString(rd_kafka_resp_err_t(err))): \(reason.map { String(cString: $0) } ?? "")")
        }
        if onDelivery != nil {
            rd_kafka_conf_set_dr_msg_cb(conf) { _, message, opaque in
                guard let opaque, let message else { return }
                let box = Unmanaged<RDKafkaCallbacks>.fromOpaque(opaque).takeUnretainedValue()
                box.onDelivery?(message.pointee.err, message.pointee._private)
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
            var metadata: UnsafePointer<rd_kafka_metadata>? = nil
            let remaining = max(100, Int32(clamping: (deadline - .now).components.seconds * 1000))
            let rkt = rd_kafka_topic_new(handle, topic, nil)
            let err = rd_kafka_metadata(handle, 0, rkt, &metadata, min(remaining, 2000))
            rd_kafka_topic_destroy(rkt)
            if err == RD_KAFKA_RESP_ERR_NO_ERROR, let metadata {
                defer { rd_kafka_metadata_destroy(metadata) }
                if metadata.pointee.topic_cnt > 0 {
                    let t = metadata.pointee.topics[0]
                    if t.err == RD_KAFKA_RESP_ERR_NO_ERROR && t.partition_cnt > 0 {
                        return Int(t.partition_cnt)
                    }
                    lastError = rdKafkaErrorString(t.err)
                    if t.err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART && ContinuousClock.now >= deadline {
                        throw .topicNotFound(topic: topic, brokers: brokers)
                    }
                }
            } else {
                lastError = rdKafkaErrorString(err)
            }
            if ContinuousClock.now >= deadline {
                throw .brokersUnreachable(brokers: brokers, detail: "\(lastError) (waited \(timeoutMillis) ms)")
            }
            rd_kafka_poll(handle, 100)
        }
    }
}

/// What librdkafka's C callbacks reach through the handle's opaque pointer.
final class RDKafkaCallbacks: @unchecked Sendable {
    let logger: Logger
    let onDelivery: (@Sendable (rd_kafka_resp_err_t, UnsafeMutableRawPointer?) -> Void)?

    init(logger: Logger, onDelivery: (@Sendable (rd_kafka_resp_err_t, UnsafeMutableRawPointer?) -> Void)?) {
        self.logger = logger
        self.onDelivery = onDelivery
    }
}
