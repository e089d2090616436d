// Tickgate micro-benchmarks (ordo-one/benchmark). Run from Benchmarks/ with
// `./run-micro.sh` or `swift package --disable-sandbox benchmark`; see
// Benchmarks/README.md, "Micro-benchmarks".
import Benchmark

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

let benchmarks: @Sendable () -> Void = {
    // Wall clock, CPU time, malloc calls (counted by ordo-one's
    // malloc-interposer: the `MallocInterposer` trait) and throughput. Each
    // benchmark stops at whichever of maxDuration / maxIterations comes first
    // (set per benchmark); the whole suite measures for about 10 s.
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, threadCPUTime, .mallocCountTotal, .throughput],
        warmupIterations: 3,
        maxDuration: .seconds(2),
        maxIterations: 1_000
    )

    registerCodecBenchmarks()
    registerFanoutBenchmarks()
}

/// CPU time of the benchmark thread in nanoseconds (CLOCK_THREAD_CPUTIME_ID),
/// read around the measured work. ordo-one's own `cpuTotal` comes from the
/// process's tick-based CPU accounting on Linux (10 ms steps here: every
/// sub-10-ms iteration reads 0 or 10,000 µs), so it is not collected. The
/// measured code is single-threaded, so the thread's CPU time is all of it.
/// Scaled like the time metrics (per operation when `scalingFactor` > 1).
let threadCPUTime = BenchmarkMetric.custom("Time (thread CPU) (ns)", polarity: .prefersSmaller, useScalingFactor: true)

@inline(__always)
func threadCPUNanos() -> Int {
    var ts = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts)
    return Int(ts.tv_sec) * 1_000_000_000 + Int(ts.tv_nsec)
}

/// Runs `body` as the iteration's measured region and records its thread CPU
/// time (the two clock reads are inside the region: ~0.1 % of an iteration).
@inline(__always)
func measure<R>(_ benchmark: Benchmark, _ body: () throws -> R) rethrows -> R {
    benchmark.startMeasurement()
    let cpuStart = threadCPUNanos()
    let result = try body()
    let cpu = threadCPUNanos() - cpuStart
    benchmark.stopMeasurement()
    benchmark.measurement(threadCPUTime, cpu)
    return result
}
