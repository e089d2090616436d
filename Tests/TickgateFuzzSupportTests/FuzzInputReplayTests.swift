import Foundation
import Testing
import TickgateFuzzSupport

/// Every input the fuzzers found a crash with (Fuzz/Crashers/) and every
/// seed (Fuzz/Corpus/) goes through its harness's code again, without the
/// fuzzer: a regression traps here.
@Suite struct FuzzInputReplayTests {
    static let fuzz = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Fuzz")

    static func inputs(_ kind: String, _ name: String) -> [Data] {
        let directory = fuzz.appendingPathComponent(kind).appendingPathComponent(name)
        let files = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        return files.sorted().compactMap { try? Data(contentsOf: directory.appendingPathComponent($0)) }
    }

    static func run(_ name: String, _ data: Data) {
        data.withUnsafeBytes { bytes in
            switch name {
            case "gateway": FuzzTargets.gatewayConnection(bytes)
            case "web": FuzzTargets.webConnection(bytes)
            case "replay": FuzzTargets.replay(bytes)
            case "json": FuzzTargets.jsonLine(bytes)
            default: FuzzTargets.venue(name, bytes)
            }
        }
    }

    @Test(arguments: ["gateway", "web", "binance", "coinbase", "kraken", "replay", "json"])
    func seedsAndCrashersRunClean(_ name: String) {
        let seeds = Self.inputs("Corpus", name)
        #expect(!seeds.isEmpty, "Fuzz/Corpus/\(name) has seeds")
        for input in seeds + Self.inputs("Crashers", name) { Self.run(name, input) }
    }

    @Test func theCrashersFoundSoFarAreKept() {
        let kept = ["binance", "coinbase", "kraken", "replay"].map { Self.inputs("Crashers", $0).count }
        #expect(kept.allSatisfy { $0 >= 1 }, "\(kept)")
    }
}
