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
    @Test func theReaderSaysWhenTheBrokersCannotBeAsked() async throws {
        let broker = try EmbeddedBroker(logger: .quiet)
        defer { broker.close() }
        try broker.createTopic("ticks", partitions: 2)
        let kafka = KafkaConfiguration(brokers: broker.bootstrapServers, connectTimeout: .seconds(2))
        var options = KafkaPartitionReader.Options()
        options.watermarkRefresh = .milliseconds(100)
        let chosen = options
        let reader = try await runOnDedicatedThread(name: "t") { () throws(KafkaError) in
            try KafkaPartitionReader(configuration: kafka, topic: "ticks", options: chosen, logger: .quiet)
        }
        defer { reader.close() }
        reader.start { _ in }
        #expect(await eventually { reader.brokersReachable })
        broker.setBroker(1, up: false)
        let down = await eventually(timeout: .seconds(15)) { !reader.brokersReachable }
        #expect(down, "an outage must show")
        broker.setBroker(1, up: true)
        let up = await eventually(timeout: .seconds(30)) { reader.brokersReachable }
        #expect(up)
    }
}
