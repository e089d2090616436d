// swift-tools-version:6.1
import PackageDescription

// Micro-benchmarks for Tickgate, run with ordo-one/benchmark
// (`swift package benchmark`, see README.md). A separate package, as in
// swift-nio's and swift-kafka-client's Benchmarks/, so that the benchmark
// dependency and its malloc interposer never reach the gateway's own build.
//
// Traits: only `MallocInterposer`, i.e. malloc/free counts come from the
// ordo-one/malloc-interposer package (Swift 6.3+); jemalloc is not used.
// Naming traits here turns off the package's other default trait,
// `RuntimeInterposer` (the Linux 6.3 ARC-counting interposer): these
// benchmarks do not measure retain/release counts.
let package = Package(
    name: "TickgateBenchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "tickgate", path: ".."),
        .package(url: "https://github.com/ordo-one/benchmark.git", exact: "1.38.1", traits: ["MallocInterposer"]),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.3"),
    ],
    targets: [
        .executableTarget(
            name: "TickgateMicroBenchmarks",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "TickgateModel", package: "tickgate"),
                .product(name: "TickgateGatewayBenchSupport", package: "tickgate"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            path: "Benchmarks/TickgateMicroBenchmarks",
            swiftSettings: [.swiftLanguageMode(.v6)],
            plugins: [
                .plugin(name: "BenchmarkPlugin", package: "benchmark")
            ]
        ),
    ]
)
