// Tickgate micro-benchmarks (ordo-one/benchmark). Run from Benchmarks/ with
// `./run-micro.sh` or `swift package --disable-sandbox benchmark`; see
// Benchmarks/README.md, "Micro-benchmarks".
import Benchmark

let benchmarks: @Sendable () -> Void = {
    // Wall clock and CPU time, malloc calls (counted by ordo-one's
    // malloc-interposer: the `MallocInterposer` trait), throughput. Each
    // benchmark stops at whichever of maxDuration / maxIterations comes first;
    // with these settings the suite measures for about 10 s in all.
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .cpuTotal, .mallocCountTotal, .throughput],
        warmupIterations: 3,
        maxDuration: .seconds(2),
        maxIterations: 2_000
    )

    registerCodecBenchmarks()
    registerFanoutBenchmarks()
}
