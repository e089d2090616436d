import Logging
import Synchronization
import Testing
@testable import TickgateKafka
import TickgateModel
import TickgateTestSupport

@Suite(.serialized, .timeLimit(.minutes(2)))
struct KafkaRangeReaderTests {
    @Test func theKeyPartitionerAgreesWithLibrdkafkasMurmur2() async throws {
        let broker = try EmbeddedBroker(logger: .quiet)
        defer { broker.close() }
        try broker.createTopic("ticks", partitions: 7)
        let kafka = KafkaConfiguration(brokers: broker.bootstrapServers)
        let producer = try KafkaProducer(configuration: kafka, topic: "ticks", logger: .quiet)
        let symbols = (0..<60).map { "S\($0)-USD" }
        for symbol in symbols { try producer.send(key: symbol, value: Array(symbol.utf8)) }
        try producer.flush(timeout: .seconds(20))
        producer.close()
        let reader = try KafkaRangeReader(configuration: kafka, topic: "ticks", logger: .quiet)
        defer { reader.close() }
        var placed: [String: Int32] = [:]
        for partition in Int32(0)..<7 {
            let high = try reader.watermarks(partition: partition).get().high
            _ = reader.read(partition: partition, from: 0, through: high - 1) { records in
                for record in records { placed[String(decoding: record.key, as: UTF8.self)] = record.partition }
                return true
            }
        }
        #expect(placed.count == 60)
        for symbol in symbols {
            #expect(placed[symbol] == KafkaKeyPartitioner.partition(of: symbol, partitions: 7), "\(symbol)")
        }
        #expect(Set(placed.values).count > 3, "spread over the partitions")
    }

    @Test func readsExactlyTheRangeAndFindsOffsetsByTime() async throws {
        let broker = try EmbeddedBroker(logger: .quiet)
        defer { broker.close() }
        try broker.createTopic("ticks", partitions: 1)
        let kafka = KafkaConfiguration(brokers: broker.bootstrapServers)
        let producer = try KafkaProducer(configuration: kafka, topic: "ticks", logger: .quiet)
        for index in 0..<50 { try producer.send(key: "K-X", value: Array("\(index)".utf8)) }
        try producer.flush(timeout: .seconds(20))
        try await Task.sleep(for: .milliseconds(30))
        let middle = WallClock.nowNanos() / 1_000_000
        try await Task.sleep(for: .milliseconds(30))
        for index in 50..<80 { try producer.send(key: "K-X", value: Array("\(index)".utf8)) }
        try producer.flush(timeout: .seconds(20))
        producer.close()
        let reader = try KafkaRangeReader(configuration: kafka, topic: "ticks", logger: .quiet)
        defer { reader.close() }
        for (from, through) in [(Int64(10), Int64(19)), (0, 0), (75, 79), (40, 60)] {
            var offsets: [Int64] = []
            let result = reader.read(partition: 0, from: from, through: through) { records in
                offsets += records.map(\.offset)
                return true
            }
            #expect(throws: Never.self) { try result.get() }
            #expect(offsets == Array(from...through), "\(from)...\(through)")
        }
        #expect(try reader.offset(atTimeMillis: middle, partition: 0).get() == 50)
        #expect(try reader.offset(atTimeMillis: 0, partition: 0).get() == 0)
        #expect(try reader.offset(atTimeMillis: middle + 60_000, partition: 0).get() == 80, "none that late: the end")
    }
}

@Suite(.serialized, .timeLimit(.minutes(1)))
struct ReaderReachabilityTests {
    /// Found with the health service: during the embedded broker's outage
    /// the reader's watermark queries stalled instead of failing, so it
    /// went on saying the brokers were reachable.
    /// A started reader of `partitions` new partitions on `broker`,
    /// refreshing its watermarks every `refresh`.
    private func startReader(on broker: EmbeddedBroker, partitions: Int, refresh: Duration) async throws -> KafkaPartitionReader {
        try broker.createTopic("ticks", partitions: partitions)
        let kafka = KafkaConfiguration(brokers: broker.bootstrapServers, connectTimeout: .seconds(2))
        var options = KafkaPartitionReader.Options()
        options.watermarkRefresh = refresh
        let chosen = options
        let reader = try await runOnDedicatedThread(name: "t") { () throws(KafkaError) in
            try KafkaPartitionReader(configuration: kafka, topic: "ticks", options: chosen, logger: .quiet)
        }
        reader.start { _ in }
        return reader
    }

    @Test func theReaderSaysWhenTheBrokersCannotBeAsked() async throws {
        let broker = try EmbeddedBroker(logger: .quiet)
        defer { broker.close() }
        let reader = try await startReader(on: broker, partitions: 2, refresh: .milliseconds(100))
        defer { reader.close() }
        #expect(await eventually { reader.brokersReachable })
        broker.setBroker(1, up: false)
        let down = await eventually(timeout: .seconds(15)) { !reader.brokersReachable }
        #expect(down, "an outage must show")
        broker.setBroker(1, up: true)
        let up = await eventually(timeout: .seconds(30)) { reader.brokersReachable }
        #expect(up)
    }

    /// Defect: a reader closed after its brokers went away never returned.
    /// librdkafka 2.0.2's `rd_kafka_query_watermark_offsets` ignores its
    /// timeout while the partition's leader is down (librdkafka #2588, fixed
    /// in 2.3.0), so the watch thread stayed in it and `close()` joined that
    /// thread for ever: a gateway stopped during an outage hung.
    @Test func closingWhileTheBrokersAreGoneReturns() async throws {
        let broker = try EmbeddedBroker(logger: .quiet)
        let reader = try await startReader(on: broker, partitions: 3, refresh: .milliseconds(50))
        #expect(await eventually { reader.watermarkAge < .milliseconds(500) }, "refreshing while the broker is up")
        broker.close()
        // The refresh fails and says so (it used to stall instead).
        #expect(await eventually(timeout: .seconds(20)) { !reader.brokersReachable })
        #expect(reader.errorCounts.values.reduce(0, +) > 0)
        await runOnDedicatedThread(name: "close") { reader.close() }
    }
}
