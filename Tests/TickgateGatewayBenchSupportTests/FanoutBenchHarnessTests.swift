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
        // Open windows: every live tick went from the batch to the socket
        // buffer in its own pass, nothing was copied into a stream's queue.
        #expect(harness.deliveryBytesHeld == 0)
    }

    /// Streams whose window closes in the middle of a pass keep what they
    /// could not send: copied into their own queues before the batch goes
    /// (a stream that copied every tick in up front would hold nothing
    /// borrowed and count 0 here).
    @Test func whatAClosedWindowLeavesIsCopiedInWhenThePassEnds() throws {
        // 20 ticks (~120 bytes each) for 10 streams, each allowed 1,000 bytes.
        let harness = try FanoutBenchHarness(connections: 2, streamsPerConnection: 5, symbols: 1, symbolsPerStream: 1, streamWindow: 1_000)
        let batch = try harness.makeBatch(ticks: 20)
        #expect(harness.deliveries(of: batch) == 200)
        let bytes = harness.deliver(batch)
        #expect(bytes >= 10 * 900 && bytes < 10 * 1_200, "each stream sent about its window (\(bytes) bytes)")
        let held = harness.deliveryBytesHeld
        #expect(held > 10 * 1_000, "the rest waits, copied in (\(held) bytes)")
        // The next pass adds to what waits (still no window): held grows by
        // the whole batch, since nothing of it can be sent.
        _ = harness.deliver(batch)
        #expect(harness.deliveryBytesHeld > held + 10 * 20 * 100)
    }
}
