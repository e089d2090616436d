import Benchmark
@_spi(Benchmarks) import TickgateGateway

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
/// per iteration moves more than `allowedDelta` from the stored value in
/// Thresholds/. `allowedDelta` is a tenth of the deliveries per iteration,
/// so one extra allocation per delivery (+deliveries) always fails.
func fanoutConfiguration(deliveries: Int, maxIterations: Int) -> Benchmark.Configuration {
    .init(
        metrics: [.wallClock, .cpuTotal, .mallocCountTotal, .throughput, nanosPerDelivery],
        warmupIterations: 3,
        scalingFactor: .one,
        maxDuration: .seconds(2),
        maxIterations: maxIterations,
        thresholds: [.mallocCountTotal: .init(absolute: [.p90: deliveries / 10])]
    )
}

func registerFanoutBenchmarks() {
    // 4. 1,000 streams (10 connections × 100), 100 symbols, 10 symbols per
    // stream: each symbol has 100 subscribers. A batch of 100 ticks (one per
    // symbol) = 10,000 deliveries: subscriber lookup plus fan-out.
    registerFanout(
        "SubscriberLookup+Fanout", deliveries: 10_000, maxIterations: 500,
        FanoutFixture {
            let harness = try FanoutBenchHarness(connections: 10, streamsPerConnection: 100, symbols: 100, symbolsPerStream: 10)
            return (harness, try harness.makeBatch(ticks: 100))
        })

    // 5. One tick to 1,000 streams (50 connections × 20), all on one symbol.
    registerFanout(
        "Fanout1Tick1000Streams", deliveries: 1_000, maxIterations: 2_000,
        FanoutFixture {
            let harness = try FanoutBenchHarness(connections: 50, streamsPerConnection: 20, symbols: 1, symbolsPerStream: 1)
            return (harness, try harness.makeBatch(ticks: 1))
        })
}

private func registerFanout(_ name: String, deliveries: Int, maxIterations: Int, _ fixture: FanoutFixture) {
    Benchmark(name, configuration: fanoutConfiguration(deliveries: deliveries, maxIterations: maxIterations)) { benchmark in
        let (harness, batch) = try fixture.prepare()
        guard fixture.deliveries == deliveries else {
            throw FanoutSetupError(detail: "\(name): \(fixture.deliveries) deliveries per batch, expected \(deliveries)")
        }
        benchmark.startMeasurement()
        let start = ContinuousClock.now
        blackHole(harness.deliver(batch))
        let elapsed = ContinuousClock.now - start
        benchmark.stopMeasurement()
        let nanos = elapsed.components.seconds * 1_000_000_000 + elapsed.components.attoseconds / 1_000_000_000
        benchmark.measurement(nanosPerDelivery, Int((Double(nanos) / Double(deliveries)).rounded()))
    }
}

struct FanoutSetupError: Error, CustomStringConvertible {
    let detail: String
    var description: String { detail }
}
