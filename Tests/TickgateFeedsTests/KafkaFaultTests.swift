import Logging
import Synchronization
import Testing
import TickgateFeeds
import TickgateKafka
import TickgateModel
import TickgateTestSupport

/// Publishing while the broker is down loses nothing and duplicates nothing:
/// the idempotent producer keeps and retries, and Kafka ends up with every
/// tick exactly once, in order per symbol.
@Suite(.serialized, .timeLimit(.minutes(3)))
struct KafkaFaultTests {
    @Test func brokerDownForFiveSecondsLosesAndDuplicatesNothing() async throws {
        let broker = try EmbeddedBroker(logger: .quiet)
        defer { broker.close() }
        try broker.createTopic("ticks", partitions: 3)
        let kafka = KafkaConfiguration(brokers: broker.bootstrapServers)
        let publisher = try await runOnDedicatedThread(name: "t") { () throws(KafkaError) in
            try TickPublisher(configuration: kafka, topic: "ticks", logger: .quiet)
        }
        let symbols = [Symbol("BTC-USD"), Symbol("ETH-USD"), Symbol("SOL-USD")]
        let feed = Mutex((SyntheticFeed(symbols: symbols, seed: 3), 0))
        let count = 4000
        let run = IngestRun(publisher: publisher, options: .init(ratePerSecond: 500, count: count), logger: .quiet) { now, _ in
            feed.withLock { state in
                defer { state.1 += 1 }
                return state.0.next(symbolIndex: state.1 % symbols.count, now: now)
            }
        }
        try await Task.sleep(for: .seconds(1))
        broker.setBroker(1, up: false)
        try await Task.sleep(for: .seconds(1))
        let deliveredEarlyInOutage = publisher.producer.delivered
        try await Task.sleep(for: .seconds(4))
        // The fault was real: nothing was acknowledged while the broker was
        // down, and the ticks published meanwhile waited in the producer.
        #expect(publisher.producer.delivered == deliveredEarlyInOutage)
        #expect(publisher.producer.pending > 1000)
        broker.setBroker(1, up: true)
        let report = try await runOnDedicatedThread(name: "t") { () throws(KafkaError) in try run.finish(flushTimeout: .seconds(60)) }
        #expect(report.published == count)
        #expect(report.delivered == count && report.failed == 0)
        publisher.producer.close()

        let reader = try await runOnDedicatedThread(name: "t") { () throws(KafkaError) in
            try KafkaPartitionReader(configuration: kafka, topic: "ticks", start: .beginning, logger: .quiet)
        }
        let seen = Mutex<[(String, UInt64)]>([])
        reader.start { records in
            let ticks = records.compactMap { try? WireCodec.decodeTick(Array($0.value)) }
            seen.withLock { $0.append(contentsOf: ticks.map { ($0.symbol, $0.sequence) }) }
        }
        let all = await eventually(timeout: .seconds(30)) { seen.withLock { $0.count } >= count }
        #expect(all)
        try await Task.sleep(for: .milliseconds(300))  // anything extra (a duplicate) would show now
        reader.close()
        let records = seen.withLock { $0 }
        #expect(records.count == count, "exactly once: \(records.count) of \(count)")
        for symbol in symbols {
            let sequences = records.filter { $0.0 == symbol.rawValue }.map(\.1)
            #expect(sequences == Array(1...UInt64(sequences.count)), "\(symbol) in order, none missing")
        }
    }
}
