import Logging
import Synchronization
import Testing
import TickgateFeeds
import TickgateKafka
import TickgateModel
import TickgateTestSupport

/// The synthetic feed's bursts: extra ticks at once, on top of the rate.
@Suite(.serialized, .timeLimit(.minutes(1)))
struct BurstTests {
    @Test func burstsAddTicksOnTopOfTheSteadyRate() async throws {
        let broker = try EmbeddedBroker(logger: .quiet)
        defer { broker.close() }
        try broker.createTopic("ticks", partitions: 1)
        let kafka = KafkaConfiguration(brokers: broker.bootstrapServers)
        let publisher = try await runOnDedicatedThread(name: "t") { () throws(KafkaError) in
            try TickPublisher(configuration: kafka, topic: "ticks", logger: .quiet)
        }
        let feed = Mutex(SyntheticFeed(symbols: [Symbol("BTC-USD")], seed: 1))
        var options = IngestRun.Options(ratePerSecond: 10, duration: .milliseconds(1200))
        options.burstSize = 50
        options.burstEvery = .milliseconds(500)
        let run = IngestRun(publisher: publisher, options: options, logger: .quiet) { now, _ in
            feed.withLock { $0.next(now: now) }
        }
        let report = try await runOnDedicatedThread(name: "t") { () throws(KafkaError) in try run.finish() }
        // Two bursts of 50 (at 0.5 s and 1.0 s) plus about 12 steady ticks.
        #expect(report.published >= 105 && report.published <= 125, "\(report.published)")
        #expect(report.delivered == report.published && report.failed == 0)
        publisher.producer.close()
    }
}
