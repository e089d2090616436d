import Testing
import TickgateGatewayBenchSupport

/// The micro-benchmarks' harness must drive the real path: every subscribed
/// stream gets every tick of its symbols, written out as bytes.
@Suite struct FanoutBenchHarnessTests {
    @Test func oneBatchReachesEverySubscriber() throws {
        let harness = try FanoutBenchHarness(connections: 4, streamsPerConnection: 25, symbols: 10, symbolsPerStream: 2)
        let batch = try harness.makeBatch(ticks: 20)
        // 100 streams × 2 symbols over 10 symbols: 20 streams per symbol, 20 ticks.
        #expect(harness.deliveries(of: batch) == 400)
        let bytes = harness.deliver(batch)
        #expect(bytes > 400 * 100, "every delivery was written (\(bytes) bytes)")
        #expect(harness.deliver(batch) > 400 * 100, "and again: nothing got stuck")
    }
}
