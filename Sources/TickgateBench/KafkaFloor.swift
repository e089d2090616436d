import Histogram
import Logging
import Synchronization
import TickgateKafka
import TickgateModel

/// A plain librdkafka consumer beside the gateway: t1 → its own receive.
/// What the gateway adds is read against this floor, measured in the same run.
final class KafkaFloor: @unchecked Sendable {
    private let reader: KafkaPartitionReader
    private let box = Box()

    /// The histogram is touched only by the reader thread until `finish`
    /// has joined it; the window is atomic.
    private final class Box: @unchecked Sendable {
        var histogram = HopHistograms.make()
        let measureFrom = Atomic<Int64>(.max)
        let measureUntil = Atomic<Int64>(.max)
    }

    init(configuration: KafkaConfiguration, topic: String, logger: Logger) async throws {
        reader = try await runOnDedicatedThread(name: "floor-connect") { () throws(KafkaError) in
            try KafkaPartitionReader(configuration: configuration, topic: topic, logger: logger)
        }
        let box = self.box
        reader.start { records in
            let now = WallClock.nowNanos()
            for record in records {
                guard let tick = TickProbe.probeTick(record.value),
                      tick.publishNanos >= box.measureFrom.load(ordering: .relaxed),
                      tick.publishNanos < box.measureUntil.load(ordering: .relaxed) else { continue }
                box.histogram.recordClamped(now - tick.publishNanos)
            }
        }
    }

    func setWindow(from: Int64, until: Int64) {
        box.measureUntil.store(until, ordering: .relaxed)
        box.measureFrom.store(from, ordering: .relaxed)
    }

    /// Stops the reader and returns what it measured.
    func finish() async -> Histogram<UInt64> {
        let reader = self.reader
        await runOnDedicatedThread(name: "floor-close") { reader.close() }
        return box.histogram
    }
}
