import Logging
import Testing
import TickgateBench
import TickgateTestSupport
import TickgateGateway
import TickgateKafka
import Histogram

/// A tiny bench run against an in-process gateway: counts and correctness,
/// never speed.
@Suite(.serialized, .timeLimit(.minutes(2)))
struct TinyBenchRunTests {
    @Test func tinyRunDeliversEverythingOnceInOrder() async throws {
        let harness = try await GatewayHarness.start(partitions: 2)
        var scenario = BenchScenario.tiny
        // Long enough that a loaded box (AddressSanitizer, the suite in
        // parallel) still has deliveries inside the measured window: with
        // 1 s, one fresh-clone ASan run measured none.
        scenario.durationSeconds = 2
        scenario.warmupSeconds = 1
        var options = BenchOptions(scenario: scenario, executable: "unused", outputDirectory: "/tmp/tickgate-bench-test")
        options.brokers = harness.broker.bootstrapServers
        options.gateway = ("127.0.0.1", harness.port)
        // Its two connections on two loops: what each loop's recorder saw
        // is merged, and a recorder left out would show as lost deliveries.
        options.clientThreads = 2
        let (result, histograms) = try await BenchRunner.run(options, logger: .quiet) { _ in }
        #expect(result.lost == 0 && result.duplicated == 0 && result.outOfOrder == 0 && result.unexpected == 0)
        #expect(result.unstamped == 0 && result.requestErrors == 0)
        #expect(result.publishedTicks > 0)
        #expect(result.clientThreads == 2)
        // Every tick of every subscribed symbol reached each of its streams.
        let expected = result.publishedTicks * scenario.streams * scenario.symbolsPerStream / scenario.symbols
        #expect(abs(Int(harness.gateway.stats.snapshot.deliveries) - expected) <= scenario.streams)
        #expect(result.measuredDeliveries > 0)
        #expect(histograms.byHop[.endToEnd]!.totalCount == UInt64(result.measuredDeliveries))
        #expect(histograms.byHop[.kafkaFloor]!.totalCount > 0)
        let files = try BenchReport.write(result, histograms, to: options.outputDirectory)
        #expect(files.contains { $0.hasSuffix("latency.svg") } && files.contains { $0.hasSuffix("result.json") })
        await harness.stop()
    }
}
