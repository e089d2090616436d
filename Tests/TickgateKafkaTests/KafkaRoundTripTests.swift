import Logging
import Synchronization
import Testing
import TickgateKafka
import TickgateModel
import TickgateTestSupport

@Suite(.serialized, .timeLimit(.minutes(2)))
struct KafkaRoundTripTests {
    @Test func everyPublishedTickIsReadOnceInOrderPerSymbol() async throws {
        let broker = try EmbeddedBroker(logger: .quiet)
        defer { broker.close() }
        try broker.createTopic("ticks", partitions: 4)
        let kafka = KafkaConfiguration(brokers: broker.bootstrapServers)
        let reader = try await runOnDedicatedThread(name: "t") { () throws(KafkaError) in
            try KafkaPartitionReader(configuration: kafka, topic: "ticks", logger: .quiet)
        }
        #expect(reader.partitionCount == 4)
        #expect(reader.startOffsets == [0, 0, 0, 0])
        let seen = Mutex<[(String, UInt64, Int32)]>([])
        reader.start { records in
            for record in records {
                let tick = try! WireCodec.decodeTick(Array(record.value))
                let key = String(decoding: record.key, as: UTF8.self)
                #expect(key == tick.symbol)
                seen.withLock { $0.append((tick.symbol, tick.sequence, record.partition)) }
            }
        }
        let producer = try KafkaProducer(configuration: kafka, topic: "ticks", logger: .quiet)
        let ticks = makeTicks(symbols: ["BTC-USD", "ETH-USD", "SOL-USD", "XRP-USD", "ADA-USD"], perSymbol: 200)
        for tick in ticks {
            try producer.send(key: tick.symbol, value: WireCodec.encode(tick))
        }
        try producer.flush(timeout: .seconds(20))
        #expect(producer.delivered == ticks.count)
        #expect(producer.failed == 0)
        let all = await eventually { seen.withLock { $0.count } >= ticks.count }
        #expect(all)
        let records = seen.withLock { $0 }
        #expect(records.count == ticks.count, "no duplicates")
        for symbol in Set(records.map(\.0)) {
            let mine = records.filter { $0.0 == symbol }
            #expect(mine.map(\.1) == Array(1...200), "\(symbol) in order")
            #expect(Set(mine.map(\.2)).count == 1, "\(symbol) stays in one partition")
        }
        producer.close()
        reader.close()
    }

    @Test func unreachableBrokersFailWithinTheTimeout() async {
        let kafka = KafkaConfiguration(brokers: "127.0.0.1:1", connectTimeout: .seconds(2))
        let started = ContinuousClock.now
        await #expect {
            _ = try await runOnDedicatedThread(name: "t") { () throws(KafkaError) in
                try KafkaPartitionReader(configuration: kafka, topic: "ticks", logger: .quiet)
            }
        } throws: { error in
            guard case .brokersUnreachable(let brokers, _) = error as? KafkaError else { return false }
            return brokers == "127.0.0.1:1"
        }
        #expect(ContinuousClock.now - started < .seconds(8))
    }

    @Test func invalidPropertyIsAClearError() {
        #expect(throws: KafkaError.self) {
            _ = try KafkaProducer(
                configuration: KafkaConfiguration(brokers: "127.0.0.1:1", properties: [("no.such.property", "1")]),
                topic: "ticks", logger: .quiet)
        }
        #expect(throws: KafkaError.self) { _ = try KafkaConfiguration.parseProperty("novalue") }
    }
}
