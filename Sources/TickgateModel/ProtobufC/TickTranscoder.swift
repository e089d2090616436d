public import NIOCore
import CTickgateProto

/// Where and when the gateway read a tick from Kafka.
public struct KafkaStamp: Sendable {
    public var partition: Int32
    public var offset: Int64
    /// t2, Kafka's message time stamp in milliseconds.
    public var kafkaTimeMillis: Int64
    /// t3, when the gateway's reader took the message.
    public var receiveTimeNanos: Int64

    public init(partition: Int32, offset: Int64, kafkaTimeMillis: Int64, receiveTimeNanos: Int64) {
        self.partition = partition
        self.offset = offset
        self.kafkaTimeMillis = kafkaTimeMillis
        self.receiveTimeNanos = receiveTimeNanos
    }
}

/// The gateway's per-tick step: decode the Kafka payload once, stamp the
/// Kafka position and the gateway's times, and encode it once as a complete
/// gRPC message (5-byte length prefix + `ServerMessage{tick}`) whose bytes
/// every subscriber then shares.
public enum TickTranscoder {
    /// What the gateway needs back from one transcode.
    public struct Transcoded: Sendable {
        public var symbol: String
        public var venue: String
        /// t1, for the Kafka-hop histogram.
        public var publishTimeNanos: Int64
        /// t4, as written into the message.
        public var dispatchTimeNanos: Int64
    }

    /// Appends the framed message to `buffer` and returns the tick's symbol,
    /// or throws (writing nothing) when the payload is not a `Tick`.
    public static func transcode(
        kafkaPayload: UnsafeRawBufferPointer, stamp: KafkaStamp, into buffer: inout ByteBuffer
    ) throws(WireError) -> String {
        try transcodeTimed(kafkaPayload: kafkaPayload, stamp: stamp, into: &buffer).symbol
    }

    /// ``transcode(kafkaPayload:stamp:into:)``, also returning t1 and t4.
    public static func transcodeTimed(
        kafkaPayload: UnsafeRawBufferPointer, stamp: KafkaStamp, into buffer: inout ByteBuffer
    ) throws(WireError) -> Transcoded {
        let decoded = withProtobufInput(kafkaPayload) { tickgate__v1__tick__unpack(nil, $0, $1) }
        guard let decoded else { throw WireError(messageType: "Tick", byteCount: kafkaPayload.count) }
        defer { tickgate__v1__tick__free_unpacked(decoded, nil) }
        decoded.pointee.kafka_partition = stamp.partition
        decoded.pointee.kafka_offset = stamp.offset
        decoded.pointee.kafka_time_ms = stamp.kafkaTimeMillis
        decoded.pointee.gateway_receive_time_ns = stamp.receiveTimeNanos
        // The gateway's own per-delivery marks: never taken from Kafka.
        decoded.pointee.snapshot = 0
        decoded.pointee.skipped = 0

        var message = Tickgate__V1__ServerMessage()
        tickgate__v1__server_message__init(&message)
        message.kind_case = TICKGATE__V1__SERVER_MESSAGE__KIND_TICK
        message.tick = decoded
        let dispatchTime = WallClock.nowNanos()
        decoded.pointee.gateway_dispatch_time_ns = dispatchTime
        let size = tickgate__v1__server_message__get_packed_size(&message)
        buffer.writeInteger(UInt8(0))  // not compressed
        buffer.writeInteger(UInt32(size))
        buffer.writeProtobuf(size: size) { tickgate__v1__server_message__pack(&message, $0) }
        return Transcoded(
            symbol: stringFromC(decoded.pointee.symbol), venue: stringFromC(decoded.pointee.venue),
            publishTimeNanos: decoded.pointee.publish_time_ns,
            dispatchTimeNanos: dispatchTime)
    }
}
