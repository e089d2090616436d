import ArgumentParser
import Foundation
import TickgateBench
import TickgateKafka
import Logging

struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure end-to-end latency hop by hop, throughput and gateway cost in one run.",
        discussion: """
            Starts an embedded broker (or uses --brokers), a gateway in its own process pinned to one
            core (or uses --gateway), a plain Kafka consumer as the floor, a scheduled (open-loop)
            feeder and a load client. Prints a table and writes result.json, one .hgrm per hop and
            latency.svg. Scenarios: \(BenchScenario.all.map(\.name).joined(separator: ", ")); flags override them.
            """)

    @Option(help: "latency, fanout, idle, tiny, or ingest (publish throughput of one tickgate ingest process vs a plain librdkafka producer).")
    var scenario: String = "latency"

    @Option(help: "Kafka bootstrap servers (default: an embedded broker).")
    var brokers: String?

    @Option(name: .customShort("X"), parsing: .unconditionalSingleValue, help: "librdkafka property key=value (repeatable).")
    var properties: [String] = []

    @Option(help: "An already running gateway, host:port (default: start one).")
    var gateway: HostPort?

    @Option(help: "Override: client connections.") var connections: Int?
    @Option(help: "Override: streams over all connections.") var streams: Int?
    @Option(help: "Override: symbols published (M).") var symbols: Int?
    @Option(help: "Override: symbols per stream (K).") var perStream: Int?
    @Option(help: "Override: ticks per second over all symbols.") var rate: Double?
    @Option(help: "Override: measured seconds.") var duration: Double?
    @Option(help: "Override: warm-up seconds.") var warmup: Double?
    @Option(help: "Override: partitions of the embedded topic.") var partitions: Int?

    @Option(help: "Event-loop threads of the started gateway.") var gatewayThreads: Int = 1
    @Option(help: "Event-loop threads of the load client (its connections spread over them).") var clientThreads: Int = 2
    @Option(help: "CPU the started gateway is pinned to (taskset).") var gatewayCPU: Int = 1
    @Flag(help: "Do not pin the started gateway to a CPU.") var noPin = false
    @Option(help: "Directory for the result files.") var out: String = "bench-results"
    @Flag(help: "Measure over TLS (a started gateway gets a certificate made for the run with the openssl command).") var tls = false
    @Option(help: "With --tls and --gateway: the CA (PEM) its certificate chains to.") var caFile: String?

    @Option(name: .customLong("protocol"), help: "What the load client's streams speak: grpc, grpc-web (PriceStream/Watch) or sse (GET /v1/ticks), all over HTTP/2.")
    var wire: String = BenchProtocol.grpc.rawValue
    @Option(help: "ingest scenario: ticks to publish.") var count: Int = 2_000_000

    func run() async throws {
        if scenario == "ingest" { return try await runIngest() }
        guard var chosen = BenchScenario.all.first(where: { $0.name == scenario }) else {
            throw failure("unknown scenario \(scenario); choose one of \(BenchScenario.all.map(\.name).joined(separator: ", "))")
        }
        if let connections { chosen.connections = connections }
        if let streams { chosen.streams = streams }
        if let symbols { chosen.symbols = symbols }
        if let perStream { chosen.symbolsPerStream = perStream }
        if let rate { chosen.rate = rate }
        if let duration { chosen.durationSeconds = duration }
        if let warmup { chosen.warmupSeconds = warmup }
        if let partitions { chosen.partitions = partitions }
        let stamp = ISO8601DateFormatter().string(from: Date()).replacingOccurrences(of: ":", with: "")
        let executable = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        var options = BenchOptions(scenario: chosen, executable: executable, outputDirectory: "\(out)/\(chosen.name)-\(stamp)")
        options.brokers = brokers
        options.kafkaProperties = try properties.map { try KafkaConfiguration.parseProperty($0) }
        options.gateway = gateway.map { ($0.host, $0.port) }
        options.gatewayThreads = gatewayThreads
        guard clientThreads >= 1 else { throw ValidationError("--client-threads must be at least 1") }
        options.clientThreads = clientThreads
        options.gatewayCPU = noPin ? nil : gatewayCPU
        options.command = CommandLine.arguments.joined(separator: " ")
        options.tls = tls || caFile != nil
        options.tlsCAFile = caFile
        guard let chosenWire = BenchProtocol(rawValue: wire) else {
            throw ValidationError("--protocol must be one of \(BenchProtocol.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        options.wire = chosenWire
        let logger = CLILogging.logger("tickgate.bench", verbose: false)
        if chosen.name == "stall" { return try await runStall(options, logger: logger) }
        do {
            let (result, histograms) = try await BenchRunner.run(options, logger: logger) { line in
                printError("[bench] \(line)")
            }
            printOut(BenchReport.table(result))
            let files = try BenchReport.write(result, histograms, to: options.outputDirectory)
            printOut("files: \(files.joined(separator: " "))")
            if result.lost + result.duplicated + result.outOfOrder + result.unexpected > 0 {
                throw failure("the run lost, duplicated or reordered ticks")
            }
            if result.unstamped > 0 || result.requestErrors > 0 {
                throw failure("\(result.unstamped) delivery(ies) lacked gateway time stamps, \(result.requestErrors) request error(s)")
            }
        } catch let error as ExitCode {
            throw error
        } catch {
            throw failure("\(error)")
        }
    }

    /// The same load twice: without, then with one stalled stream among
    /// the measured ones. The others' gateway-added p99 should stay within
    /// 10%, and the gateway's RSS flat.
    private func runStall(_ base: BenchOptions, logger: Logger) async throws {
        var results: [BenchResult] = []
        for stalled in [0, 1] {
            var options = base
            options.stalledStreams = stalled
            options.outputDirectory = base.outputDirectory + (stalled == 0 ? "-baseline" : "-stalled")
            do {
                let (result, histograms) = try await BenchRunner.run(options, logger: logger) { line in
                    printError("[bench \(stalled == 0 ? "baseline" : "stalled")] \(line)")
                }
                printOut(BenchReport.table(result))
                let files = try BenchReport.write(result, histograms, to: options.outputDirectory)
                printOut("files: \(files.joined(separator: " "))")
                if result.lost + result.duplicated + result.outOfOrder + result.unexpected > 0 {
                    throw failure("the \(stalled == 0 ? "baseline" : "stalled") run lost, duplicated or reordered ticks of the measured streams")
                }
                results.append(result)
            } catch let error as ExitCode {
                throw error
            } catch {
                throw failure("\(error)")
            }
        }
        let p99 = results.map { $0.p99Micros(hopPrefix: "t3→t5") ?? 0 }
        let change = p99[0] > 0 ? (p99[1] - p99[0]) / p99[0] * 100 : 0
        printOut("stall: gateway-added (t3→t5) p99 of the \(base.scenario.streams) measured streams: \(formatP99(p99[0])) without, \(formatP99(p99[1])) with one stalled stream (\(change >= 0 ? "+" : "")\(Int(change.rounded()))%)")
        let start = results[1].gatewayRSSAtWindowStartKiB ?? 0
        let end = results[1].gatewayRSSAtWindowEndKiB ?? 0
        printOut("stall: gateway RSS over the stalled run's window: \(start) KiB → \(end) KiB (\(end - start >= 0 ? "+" : "")\(end - start) KiB)")
    }

    private func formatP99(_ micros: Double) -> String {
        micros >= 1000 ? "\((micros / 100).rounded() / 10) ms" : "\(Int(micros.rounded())) µs"
    }

    private func runIngest() async throws {
        let executable = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        let logger = CLILogging.logger("tickgate.bench", verbose: false)
        do {
            let result = try await IngestThroughput.run(
                executable: executable, brokers: brokers, count: count, symbols: symbols ?? 100,
                properties: try properties.map { try KafkaConfiguration.parseProperty($0) },
                partitions: partitions ?? 6, logger: logger) { printError("[bench] \($0)") }
            printOut("ingest throughput: \(result.ticks) ticks over \(result.symbols) symbols\(result.properties.isEmpty ? "" : " with " + result.properties.joined(separator: " "))")
            printOut("  tickgate ingest (own process)      \(Int(result.ingestTicksPerSecond)) ticks/s  (\(String(format: "%.2f", result.ingestSeconds)) s, including start-up and final flush)")
            printOut("  plain librdkafka producer (floor)  \(Int(result.plainTicksPerSecond)) ticks/s  (\(String(format: "%.2f", result.plainSeconds)) s, \(result.plainFailed) failed)")
            let stamp = ISO8601DateFormatter().string(from: Date()).replacingOccurrences(of: ":", with: "")
            let directory = "\(out)/ingest-\(stamp)"
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            try encoder.encode(result).write(to: URL(fileURLWithPath: directory + "/result.json"))
            printOut("files: \(directory)/result.json")
        } catch {
            throw failure("\(error)")
        }
    }
}
