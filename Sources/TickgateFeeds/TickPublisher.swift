public import Logging
import NIOCore
import Synchronization
public import TickgateKafka
public import TickgateModel

/// Publishes ticks into Kafka keyed by symbol, so each symbol keeps its
/// order in one partition. Stamps the publish time (t1) just before handing
/// the tick to librdkafka. Not thread-safe: one publishing thread.
public final class TickPublisher: @unchecked Sendable {
    public let producer: KafkaProducer
    private var scratch = ByteBufferAllocator().buffer(capacity: 256)
    private let lastPublished = Mutex<[String: Int64]>([:])

    /// Seconds since each symbol's last tick was handed to Kafka.
    public func staleness(now: Int64 = WallClock.nowNanos()) -> [String: Double] {
        lastPublished.withLock { $0.mapValues { Double(max(0, now - $0)) / 1e9 } }
    }

    public init(configuration: KafkaConfiguration, topic: String, logger: Logger) throws(KafkaError) {
        self.producer = try KafkaProducer(configuration: configuration, topic: topic, logger: logger)
    }

    public func publish(_ tick: Tick) throws(KafkaError) {
        var tick = tick
        tick.publishTimeNanos = WallClock.nowNanos()
        scratch.clear()
        WireCodec.encode(tick, into: &scratch)
        lastPublished.withLock { $0[tick.symbol] = tick.publishTimeNanos }
        var symbol = tick.symbol
        let result: Result<Void, KafkaError> = symbol.withUTF8 { key in
            scratch.withUnsafeReadableBytes { value in
                Result { () throws(KafkaError) in try producer.send(key: UnsafeRawBufferPointer(key), value: value) }
            }
        }
        try result.get()
    }
}
