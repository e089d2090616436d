// swift-tools-version:6.1
import PackageDescription

// libFuzzer harnesses for Tickgate's input paths. A separate package (as
// Benchmarks/ is) so that the fuzzer's flags never reach the gateway's own
// build: `run.sh` builds it with `-sanitize=fuzzer,address` for every Swift
// target, so the library code is instrumented for coverage, not only the
// harness. Each harness is a few lines over `TickgateFuzzSupport`, with a
// main that hands over to libFuzzer's driver.
let harnesses = ["FuzzGateway", "FuzzWeb", "FuzzBinance", "FuzzCoinbase", "FuzzKraken", "FuzzReplay", "FuzzJSON"]

let package = Package(
    name: "TickgateFuzz",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "tickgate", path: ".."),
    ],
    targets: [.target(name: "CLibFuzzer")] + harnesses.map { name in
        .executableTarget(
            name: name,
            dependencies: ["CLibFuzzer", .product(name: "TickgateFuzzSupport", package: "tickgate")],
            swiftSettings: [.swiftLanguageMode(.v6)])
    }
)
