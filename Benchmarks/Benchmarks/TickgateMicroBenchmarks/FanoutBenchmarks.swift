import Benchmark
import TickgateGatewayBenchSupport

/// Time per delivery (one tick's bytes copied to one subscribed stream), in
/// nanoseconds: the iteration's `deliver` time divided by its deliveries.
/// Not scaled (it is already per delivery).
let nanosPerDelivery = BenchmarkMetric.custom("Time per delivery (ns)", polarity: .prefersSmaller, useScalingFactor: false)

/// The harness and its batch. EmbeddedEventLoop may only be used on the
/// thread that created it; ordo-one runs a benchmark's setup hooks from an
/// async context (possibly another thread) but all of its warm-up and measured
/// iterations synchronously on one thread, so the harness is built in the
/// first warm-up iteration, outside the measurements. It is never released:
/// the harness's deinit finishes its channels, which must not happen on
/// another thread either, and the process exits after the run.
final class FanoutFixture {
    let build: () throws -> (FanoutBenchHarness, FanoutBenchHarness.Batch)
    var harness: FanoutBenchHarness?
    var batch: FanoutBenchHarness.Batch?
    var deliveries = 0

    init(_ build: @escaping () throws -> (FanoutBenchHarness, FanoutBenchHarness.Batch)) { self.build = build }

    func prepare() throws -> (FanoutBenchHarness, FanoutBenchHarness.Batch) {
        if let harness, let batch { return (harness, batch) }
        let (harness, batch) = try build()
        self.harness = harness
        self.batch = batch
        self.deliveries = harness.deliveries(of: batch)
        return (harness, batch)
    }
}

/// Fan-out benchmarks: one iteration is one `h.deliver(batch)` — route every
/// tick of the batch to its subscribers, copy its bytes into each stream,
/// write each connection once, drain what the connections wrote.
///
/// `scalingFactor` stays `.one`: ordo-one's scaling factors are powers of
/// 1,000 and an iteration here is 10,000 (or 1,000) deliveries, and scaled
/// malloc counts would be rounded per delivery (to 0). So the table's time,
/// throughput and malloc columns are per iteration, and the custom metric
/// "Time per delivery (ns)" gives the per-delivery cost.
///
/// Allocation tolerance: `thresholds check` fails when the p90 malloc count
/// per iteration differs by more than `allowedMallocDelta` from the value
/// stored in Thresholds/. The counts are exact (p0 = p100; measured: 2 per
/// connection write, none per delivery or tick). The tolerance is half the
/// connections per iteration, so an extra allocation per delivery, per tick
/// or per connection write fails the check.
func fanoutConfiguration(allowedMallocDelta: Int, maxIterations: Int) -> Benchmark.Configuration {
    .init(
        metrics: [.wallClock, threadCPUTime, .mallocCountTotal, .throughput, nanosPerDelivery],
        warmupIterations: 3,
        scalingFactor: .one,
        maxDuration: .seconds(2),
        maxIterations: maxIterations,
        thresholds: [.mallocCountTotal: .init(absolute: [.p90: allowedMallocDelta])]
    )
}

func registerFanoutBenchmarks() {
    // 4. 1,000 streams (10 connections × 100), 100 symbols, 10 symbols per
    // stream: each symbol has 100 subscribers. A batch of 100 ticks (one per
    // symbol) = 10,000 deliveries: subscriber lookup plus fan-out.
    // Tolerance 5: half of 10 connections (100 ticks, 10,000 deliveries).
    registerFanout(
        "SubscriberLookup+Fanout", deliveries: 10_000, allowedMallocDelta: 5, maxIterations: 500,
        FanoutFixture {
            let harness = try FanoutBenchHarness(connections: 10, streamsPerConnection: 100, symbols: 100, symbolsPerStream: 10)
            return (harness, try harness.makeBatch(ticks: 100))
        })

    // 5. One tick to 1,000 streams (50 connections × 20), all on one symbol.
    // Tolerance 25: half of 50 connections (1 tick, 1,000 deliveries).
    registerFanout(
        "Fanout1Tick1000Streams", deliveries: 1_000, allowedMallocDelta: 25, maxIterations: 2_000,
        FanoutFixture {
            let harness = try FanoutBenchHarness(connections: 50, streamsPerConnection: 20, symbols: 1, symbolsPerStream: 1)
            return (harness, try harness.makeBatch(ticks: 1))
        })
}

private func registerFanout(
    _ name: String, deliveries: Int, allowedMallocDelta: Int, maxIterations: Int, _ fixture: FanoutFixture
) {
    let configuration = fanoutConfiguration(allowedMallocDelta: allowedMallocDelta, maxIterations: maxIterations)
    Benchmark(name, configuration: configuration) { benchmark in
        let (harness, batch) = try fixture.prepare()
        guard fixture.deliveries == deliveries else {
            throw FanoutSetupError(detail: "\(name): \(fixture.deliveries) deliveries per batch, expected \(deliveries)")
        }
        let elapsed = measure(benchmark) {
            let start = ContinuousClock.now
            blackHole(harness.deliver(batch))
            return ContinuousClock.now - start
        }
        let nanos = elapsed.components.seconds * 1_000_000_000 + elapsed.components.attoseconds / 1_000_000_000
        benchmark.measurement(nanosPerDelivery, Int((Double(nanos) / Double(deliveries)).rounded()))
    }
}

struct FanoutSetupError: Error, CustomStringConvertible {
    let detail: String
    var description: String { detail }
}
