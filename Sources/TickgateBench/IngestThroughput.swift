import Foundation
public import Logging
import NIOCore
import TickgateFeeds
import TickgateKafka
import TickgateModel

/// How fast one `tickgate ingest` process publishes into Kafka, against a
/// plain librdkafka producer (pre-encoded payloads, nothing else per
/// message) on the same broker in the same run: the broker's own ceiling.
public enum IngestThroughput {
    public struct Result: Sendable, Codable {
        public var ticks: Int
        public var symbols: Int
        public var properties: [String]
        public var ingestSeconds: Double
        public var ingestTicksPerSecond: Double
        public var ingestOutput: String
        public var plainSeconds: Double
        public var plainTicksPerSecond: Double
        public var plainFailed: Int
    }

    public static func run(
        executable: String, brokers given: String?, count: Int, symbols: Int,
        properties: [(key: String, value: String)], partitions: Int, logger: Logger,
        progress: @Sendable (String) -> Void
    ) async throws -> Result {
        var broker: EmbeddedBroker? = nil
        let brokers: String
        if let given {
            brokers = given
        } else {
            let embedded = try EmbeddedBroker(logger: logger)
            try embedded.createTopic("ticks", partitions: partitions)
            broker = embedded
            brokers = embedded.bootstrapServers
        }
        defer { broker?.close() }
        let names = (0..<symbols).map { "S\($0)-USD" }

        progress("tickgate ingest: \(count) ticks over \(symbols) symbols, as fast as it goes")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = ["ingest", "--brokers", brokers, "--symbols", names.joined(separator: ","),
                             "--rate", "10000000", "--count", String(count)]
            + properties.flatMap { ["-X", "\($0.key)=\($0.value)"] }
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        let started = ContinuousClock.now
        try process.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        let ingestSeconds = seconds(ContinuousClock.now - started)
        guard process.terminationStatus == 0 else {
            throw BenchError.gateway("tickgate ingest failed (\(process.terminationStatus)): \(output)")
        }

        progress("plain librdkafka producer: \(count) pre-encoded ticks")
        let kafka = KafkaConfiguration(brokers: brokers, properties: properties)
        let plain: (Double, Int) = try await runOnDedicatedThread(name: "plain-producer") { () throws(KafkaError) in
            let producer = try KafkaProducer(configuration: kafka, topic: "ticks", logger: logger)
            defer { producer.close() }
            let payloads = names.map { name in
                WireCodec.encode(Tick(
                    symbol: name, venue: "synthetic", price: ExactDecimal(mantissa: 6_500_012, exponent: -2),
                    size: ExactDecimal(mantissa: 12_345, exponent: -8), side: .buy, sequence: 1_000_000,
                    venueTimeNanos: WallClock.nowNanos(), publishTimeNanos: WallClock.nowNanos()))
            }
            let begin = ContinuousClock.now
            for index in 0..<count {
                let symbol = index % names.count
                try producer.send(key: names[symbol], value: payloads[symbol])
            }
            try producer.flush(timeout: .seconds(120))
            return (seconds(ContinuousClock.now - begin), producer.failed)
        }
        return Result(
            ticks: count, symbols: symbols, properties: properties.map { "\($0.key)=\($0.value)" },
            ingestSeconds: ingestSeconds, ingestTicksPerSecond: Double(count) / ingestSeconds, ingestOutput: output,
            plainSeconds: plain.0, plainTicksPerSecond: Double(count) / plain.0, plainFailed: plain.1)
    }

    static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }
}
