// swift-tools-version:6.1
import PackageDescription

// One settings block for every Swift target (as grpc-swift-2 does).
let swiftSettings: [SwiftSetting] = [
    .swiftLanguageMode(.v6),
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("InternalImportsByDefault"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

let nioCore = Target.Dependency.product(name: "NIOCore", package: "swift-nio")
let nioPosix = Target.Dependency.product(name: "NIOPosix", package: "swift-nio")
let logging = Target.Dependency.product(name: "Logging", package: "swift-log")

var targets: [Target] = [
    // ---- C libraries (Debian's -dev packages) ----
    .systemLibrary(
        name: "CRDKafka", path: "Sources/CLibraries/CRDKafka",
        pkgConfig: "rdkafka", providers: [.apt(["librdkafka-dev"])]),
    .systemLibrary(
        name: "CNGHTTP2", path: "Sources/CLibraries/CNGHTTP2",
        pkgConfig: "libnghttp2", providers: [.apt(["libnghttp2-dev"])]),
    .systemLibrary(
        name: "COpenSSL", path: "Sources/CLibraries/COpenSSL",
        pkgConfig: "openssl", providers: [.apt(["libssl-dev"])]),
    .systemLibrary(
        name: "CProtobufC", path: "Sources/CLibraries/CProtobufC",
        pkgConfig: "libprotobuf-c", providers: [.apt(["libprotobuf-c-dev"])]),
    // protoc-c output for Protos/ (regenerate with scripts/generate-protos.sh).
    .target(name: "CTickgateProto", dependencies: ["CProtobufC"]),

    // ---- Swift modules ----
    // Symbols, exact decimals, ticks, stream messages and their protobuf-c codec.
    .target(name: "TickgateModel", dependencies: ["CTickgateProto", "CProtobufC", nioCore]),
    // librdkafka: producer, partition reader, embedded broker.
    .target(name: "TickgateKafka", dependencies: ["CRDKafka", "TickgateModel", logging]),
    // nghttp2 sessions and the gRPC-over-HTTP/2 protocol pieces shared by server and client.
    .target(name: "TickgateHTTP2", dependencies: ["CNGHTTP2", "TickgateModel", nioCore]),
    // The gateway: Kafka → subscription registry → gRPC streams.
    .target(
        name: "TickgateGateway",
        dependencies: [
            "TickgateModel", "TickgateKafka", "TickgateHTTP2", "TickgateMetrics", "TickgateTLS", nioCore, nioPosix, logging,
            .product(name: "NIOHTTP1", package: "swift-nio"),
            .product(name: "CoreMetrics", package: "swift-metrics"),
            .product(name: "Prometheus", package: "swift-prometheus"),
        ],
        // The live page (GET /), compiled into the binary.
        resources: [.embedInCode("Web/Resources/index.html")]),
    // What the fuzz harnesses (Fuzz/, a separate package built with
    // libFuzzer) feed bytes into.
    .target(
        name: "TickgateFuzzSupport",
        dependencies: [
            "TickgateGateway", "TickgateFeeds", "TickgateModel", nioCore,
            .product(name: "NIOEmbedded", package: "swift-nio"),
        ]),
    // The micro-benchmarks' harness: the gateway's delivery path in embedded
    // channels (NIOEmbedded stays out of the gateway itself).
    .target(
        name: "TickgateGatewayBenchSupport",
        dependencies: [
            "TickgateGateway", "TickgateHTTP2", "TickgateModel", nioCore,
            .product(name: "NIOEmbedded", package: "swift-nio"),
        ]),
    // GET /metrics over HTTP/1.1 (Prometheus text format).
    .target(
        name: "TickgateMetrics",
        dependencies: [
            nioCore, nioPosix, .product(name: "NIOHTTP1", package: "swift-nio"),
            .product(name: "CoreMetrics", package: "swift-metrics"),
            .product(name: "Prometheus", package: "swift-prometheus"),
        ]),
    // TLS through OpenSSL: a NIO handler over memory BIOs.
    .target(name: "TickgateTLS", dependencies: ["COpenSSL", nioCore]),
    // Feed adapters that publish ticks into Kafka.
    .target(
        name: "TickgateFeeds",
        dependencies: [
            "TickgateModel", "TickgateKafka", "TickgateTLS", "TickgateMetrics", logging, nioCore, nioPosix,
            .product(name: "CoreMetrics", package: "swift-metrics"),
            .product(name: "Prometheus", package: "swift-prometheus"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
            .product(name: "NIOWebSocket", package: "swift-nio"),
        ]),
    // Client library for app developers.
    .target(name: "TickgateClient", dependencies: ["TickgateModel", "TickgateHTTP2", "TickgateTLS", nioCore, nioPosix]),
    // `tickgate bench`: load client, feeder, Kafka floor, per-hop histograms, report.
    .target(
        name: "TickgateBench",
        dependencies: [
            "TickgateModel", "TickgateKafka", "TickgateHTTP2", "TickgateFeeds", "TickgateTLS", nioCore, nioPosix, logging,
            .product(name: "Histogram", package: "hdrhistogram-swift"),
        ]),
    // The `tickgate` command.
    .executableTarget(
        name: "TickgateCLI",
        dependencies: [
            "TickgateModel", "TickgateKafka", "TickgateGateway", "TickgateFeeds", "TickgateClient", "TickgateBench",
            "TickgateMetrics", "TickgateTLS",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            nioCore, nioPosix, logging,
        ]),

    // ---- Tests ----
    .target(
        name: "TickgateTestSupport",
        dependencies: [
            "TickgateModel", "TickgateKafka", "TickgateGateway", "TickgateClient", "TickgateHTTP2", "TickgateFeeds",
            "TickgateTLS", nioCore, nioPosix, logging,
            .product(name: "NIOHTTP1", package: "swift-nio"),
            .product(name: "NIOWebSocket", package: "swift-nio"),
        ],
        path: "Tests/TickgateTestSupport"),
    .testTarget(name: "TickgateModelTests", dependencies: ["TickgateModel", nioCore]),
    .testTarget(name: "TickgateClientTests", dependencies: ["TickgateClient", "TickgateModel"]),
    .testTarget(name: "TickgateTLSTests", dependencies: ["TickgateTLS", nioCore]),
    .testTarget(name: "TickgateFuzzSupportTests", dependencies: ["TickgateFuzzSupport"]),
    .testTarget(
        name: "TickgateHTTP2Tests",
        dependencies: ["TickgateHTTP2", "TickgateModel", nioCore, .product(name: "NIOEmbedded", package: "swift-nio")]),
    .testTarget(name: "TickgateKafkaTests", dependencies: ["TickgateKafka", "TickgateModel", "TickgateTestSupport", logging]),
    .testTarget(
        name: "TickgateFeedsTests",
        dependencies: [
            "TickgateFeeds", "TickgateModel", "TickgateKafka", "TickgateClient", "TickgateTestSupport", "TickgateTLS", logging,
        ]),
    .testTarget(
        name: "TickgateBenchTests",
        dependencies: [
            "TickgateBench", "TickgateModel", "TickgateTestSupport", "TickgateGateway", "TickgateKafka", nioCore, logging,
            .product(name: "Histogram", package: "hdrhistogram-swift"),
        ]),
    .testTarget(name: "TickgateGatewayBenchSupportTests", dependencies: ["TickgateGatewayBenchSupport"]),
    .testTarget(
        name: "TickgateGatewayTests",
        dependencies: ["TickgateGateway", "TickgateModel", "TickgateHTTP2", "TickgateClient", "TickgateTLS", "TickgateTestSupport", nioCore]),
]

for index in targets.indices where targets[index].type != .system {
    if targets[index].type == .regular, targets[index].name.hasPrefix("C") { continue }
    // No unsafe flags anywhere: apps depend on TickgateClient by version,
    // and SwiftPM refuses a dependency whose products carry them.
    targets[index].swiftSettings = (targets[index].swiftSettings ?? []) + swiftSettings
}

let package = Package(
    name: "tickgate",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "tickgate", targets: ["TickgateCLI"]),
        .library(name: "TickgateClient", targets: ["TickgateClient"]),
        .library(name: "TickgateModel", targets: ["TickgateModel"]),
        // For Benchmarks/ (a separate package): the gateway's delivery path
        // in embedded channels.
        .library(name: "TickgateGatewayBenchSupport", targets: ["TickgateGatewayBenchSupport"]),
        // For Fuzz/ (a separate package): entry points for the harnesses.
        .library(name: "TickgateFuzzSupport", targets: ["TickgateFuzzSupport"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.3"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift.git", from: "0.2.0"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
    ],
    targets: targets
)
