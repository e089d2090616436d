public import Logging
import NIOCore
public import TickgateKafka
public import TickgateModel

/// Publishes ticks into Kafka keyed by symbol, so each symbol keeps its
/// order in one partition. Stamps the publish time (t1) just before handing
/// the tick to librdkafka. Not thread-safe: one publishing thread.
public final class TickPublisher: @unchecked Sendable {
    public let producer: KafkaProducer
    private var scratch = ByteBufferAllocator().buffer(capacity: 256)

    public init(configuration: KafkaConfiguration, topic: String, logger: Logger) throws(KafkaError) {
        self.producer = try KafkaProducer(configuration: configuration, topic: topic, logger: logger)
    }

    public func publish(_ tick: Tick) throws(KafkaError) {
        var tick = tick
        tick.publishTimeNanos = WallClock.nowNanos()
        scratch.clear()
        WireCodec.encode(tick, into: &scratch)
        var symbol = tick.symbol
        let result: Result<Void, KafkaError> = symbol.withUTF8 { key in
            scratch.withUnsafeReadableBytes { value in
                Result { () throws(KafkaError) in try producer.send(key: UnsafeRawBufferPointer(key), value: value) }
            }
        }
        try result.get()
    }
}
