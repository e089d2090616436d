import CRDKafka

/// A consumer's event queue, read by one dedicated thread.
final class RDKafkaQueue: @unchecked Sendable {
    fileprivate let handle: OpaquePointer
    private var destroyed = false

    init(_ handle: OpaquePointer) { self.handle = handle }

    func destroy() {
        guard !destroyed else { return }
        destroyed = true
        rd_kafka_queue_destroy(handle)
    }
}

/// Messages taken from a queue in one go: data records and per-partition
/// errors, valid until ``release()``. One batch is reused for every read.
struct RDKafkaMessageBatch: ~Copyable {
    private let messages: UnsafeMutablePointer<UnsafeMutablePointer<rd_kafka_message_t>?>
    private let records: UnsafeMutablePointer<KafkaRecord>
    let capacity: Int
    private var count = 0
    private(set) var recordCount = 0

    init(capacity: Int) {
        precondition(capacity >= 1)
        self.capacity = capacity
        messages = .allocate(capacity: capacity)
        records = .allocate(capacity: capacity)
    }

    deinit {
        for index in 0..<count { rd_kafka_message_destroy(messages[index]) }
        messages.deallocate()
        records.deallocate()
    }

    /// Waits up to `waitMillis` for one message, then takes whatever else
    /// is queued without waiting. Errors go to `onError`; data stays in the
    /// batch. Returns false when nothing arrived.
    mutating func fill(from queue: RDKafkaQueue, waitMillis: Int32, onError: (KafkaConsumerError) -> Void) -> Bool {
        release()
        // consume_batch_queue waits until the batch is full or its timeout
        // ends, so wait for one message only.
        guard let first = rd_kafka_consume_queue(queue.handle, waitMillis) else { return false }
        messages[0] = first
        let more = capacity > 1 ? rd_kafka_consume_batch_queue(queue.handle, 0, messages + 1, capacity - 1) : 0
        count = 1 + max(0, more)
        for index in 0..<count {
            let message = messages[index]!
            let err = message.pointee.err
            if err != RD_KAFKA_RESP_ERR_NO_ERROR {
                onError(KafkaConsumerError(
                    partition: message.pointee.partition, kind: KafkaErrorKind(err),
                    detail: Self.errorText(message), offset: message.pointee.offset))
                continue
            }
            var timestampType = RD_KAFKA_TIMESTAMP_NOT_AVAILABLE
            let timestamp = rd_kafka_message_timestamp(message, &timestampType)
            (records + recordCount).initialize(to: KafkaRecord(
                partition: message.pointee.partition, offset: message.pointee.offset, timestampMillis: timestamp,
                key: UnsafeRawBufferPointer(start: message.pointee.key, count: message.pointee.key_len),
                value: UnsafeRawBufferPointer(start: message.pointee.payload, count: message.pointee.len)))
            recordCount += 1
        }
        return true
    }

    /// The data records of the last fill.
    var dataRecords: UnsafeBufferPointer<KafkaRecord> { UnsafeBufferPointer(start: records, count: recordCount) }

    /// Gives the messages back to librdkafka.
    mutating func release() {
        for index in 0..<count { rd_kafka_message_destroy(messages[index]) }
        count = 0
        recordCount = 0
    }

    private static func errorText(_ message: UnsafeMutablePointer<rd_kafka_message_t>) -> String {
        var text = rdKafkaErrorString(message.pointee.err)
        if message.pointee.len > 0, let payload = message.pointee.payload {
            let bytes = UnsafeRawBufferPointer(start: payload, count: min(message.pointee.len, 512))
            text += ": " + String(decoding: bytes, as: UTF8.self)
        }
        return text
    }
}
