import Foundation
import Histogram
public import Logging
import NIOCore
import NIOPosix
import Synchronization
import TickgateFeeds
import TickgateKafka
import TickgateModel
import TickgateTLS

public struct BenchOptions: Sendable {
    public var scenario: BenchScenario
    /// nil: an embedded broker inside the bench process.
    public var brokers: String?
    public var kafkaProperties: [(key: String, value: String)] = []
    public var topic: String = "ticks"
    /// nil: start `tickgate serve` as a child process.
    public var gateway: (host: String, port: Int)?
    public var gatewayThreads: Int = 1
    /// CPU the child gateway is pinned to (taskset); nil: not pinned.
    public var gatewayCPU: Int? = 1
    /// The `tickgate` executable to start the gateway from.
    public var executable: String
    public var outputDirectory: String
    public var command: String = ""
    /// Streams that subscribe to every symbol and never read (`stall`).
    public var stalledStreams: Int = 0
    /// Measure over TLS: a started gateway gets a certificate made for the
    /// run (the openssl command); a given one needs `tlsCAFile`.
    public var tls = false
    public var tlsCAFile: String?
    /// What the load client's streams speak (gRPC, gRPC-Web, SSE).
    public var wire: BenchProtocol = .grpc
    /// Event loops of the load client (its connections spread over them).
    /// One loop decoding 1M deliveries/s saturates its core, and what it
    /// has not read yet would count as time the gateway added.
    public var clientThreads: Int = 2

    public init(scenario: BenchScenario, executable: String, outputDirectory: String) {
        self.scenario = scenario
        self.executable = executable
        self.outputDirectory = outputDirectory
    }
}

/// Runs one scenario end to end and measures it.
public enum BenchRunner {
    public static func run(
        _ options: BenchOptions, logger: Logger, progress: @escaping @Sendable (String) -> Void
    ) async throws -> (BenchResult, HopHistograms) {
        let scenario = options.scenario
        try scenario.validate()
        try FileManager.default.createDirectory(atPath: options.outputDirectory, withIntermediateDirectories: true)

        // Kafka: embedded unless told otherwise.
        var broker: EmbeddedBroker? = nil
        let brokers: String
        if let given = options.brokers {
            brokers = given
        } else {
            let embedded = try EmbeddedBroker(logger: logger)
            try embedded.createTopic(options.topic, partitions: scenario.partitions)
            broker = embedded
            brokers = embedded.bootstrapServers
        }
        defer { broker?.close() }
        let kafka = KafkaConfiguration(brokers: brokers, properties: options.kafkaProperties)

        // The gateway: a child process unless one is given.
        var child: GatewayProcess? = nil
        let host: String
        let port: Int
        var tlsClient: TLSContext? = nil
        // Every bench connection comes from this one address: lift the
        // per-address limit (1,000 by default) above what the run opens.
        let opened = scenario.connections + options.stalledStreams + 16
        var gatewayArguments = [
            "--max-connections-per-address", String(opened), "--max-connections", String(max(opened, 20_000)),  // 20,000: serve's default
        ]
        if options.tls {
            if options.stalledStreams > 0 { throw BenchError.gateway("the stalled streams do not speak TLS; run stall without --tls") }
            var caFile = options.tlsCAFile
            if options.gateway == nil {
                let (certificate, key) = try BenchCertificate.make(in: options.outputDirectory + "/tls")
                gatewayArguments += ["--tls-cert", certificate, "--tls-key", key]
                caFile = certificate
            }
            tlsClient = try TLSContext(.grpcClient(serverName: options.gateway?.host ?? "127.0.0.1", trustedCAFile: caFile))
        }
        if let given = options.gateway {
            (host, port) = given
        } else {
            let launched = try await GatewayProcess.launch(
                executable: options.executable, brokers: brokers, topic: options.topic,
                threads: options.gatewayThreads, cpu: options.gatewayCPU,
                logPath: options.outputDirectory + "/gateway.log", extraArguments: gatewayArguments)
            child = launched
            (host, port) = ("127.0.0.1", launched.port)
        }
        defer { child?.stop() }
        let rssBefore = child?.stats?.rssKiB

        let floor = try await KafkaFloor(configuration: kafka, topic: options.topic, logger: logger)
        let clientThreads = max(1, options.clientThreads)
        let group = MultiThreadedEventLoopGroup(numberOfThreads: clientThreads)
        progress("connecting \(scenario.connections) connection(s), \(scenario.streams) stream(s) to \(host):\(port)")
        let client = try await LoadClient.connect(
            scenario: scenario, host: host, port: port, loops: Array(group.makeIterator()), tls: tlsClient, protocol: options.wire)
        let subscribed = try await waitUntil(timeout: .seconds(120)) {
            try await client.total { $0.acks } >= scenario.streams
        }
        guard subscribed else { throw BenchError.timeout("not every stream was acknowledged") }
        let rssAfter = child?.stats?.rssKiB
        var stalledChannels: [any Channel] = []
        if options.stalledStreams > 0 {
            progress("opening \(options.stalledStreams) stalled stream(s), each on every symbol, never read")
            let names = (0..<scenario.symbols).map(BenchScenario.symbolName)
            for _ in 0..<options.stalledStreams {
                stalledChannels.append(try await StalledClient.open(host: host, port: port, symbols: names, group: group))
            }
        }

        // The measured window opens after the warm-up.
        let publisher = try await runOnDedicatedThread(name: "bench-connect") { () throws(KafkaError) in
            try TickPublisher(configuration: kafka, topic: options.topic, logger: logger)
        }
        let startWall = WallClock.nowNanos()
        let measureFrom = startWall + Int64(scenario.warmupSeconds * 1e9)
        let measureUntil = measureFrom + Int64(scenario.durationSeconds * 1e9)
        _ = try await client.eachRecorder {
            $0.measureFromNanos = measureFrom
            $0.measureUntilNanos = measureUntil
        }
        floor.setWindow(from: measureFrom, until: measureUntil)
        let symbols = (0..<scenario.symbols).map { try! Symbol(validating: BenchScenario.symbolName($0)) }
        let feed = Mutex((SyntheticFeed(symbols: symbols, seed: 1), 0))
        let run = IngestRun(
            publisher: publisher,
            options: .init(ratePerSecond: scenario.rate, duration: .nanoseconds(Int64((scenario.warmupSeconds + scenario.durationSeconds) * 1e9))),
            logger: logger
        ) { now, scheduled in
            feed.withLock { state in
                var tick = state.0.next(symbolIndex: state.1 % scenario.symbols, now: now)
                state.1 += 1
                tick.venueTimeNanos = scheduled
                return tick
            }
        }
        let finished = Task { try await runOnDedicatedThread(name: "bench-wait") { () throws(KafkaError) in try run.finish() } }

        var cpuAtStart: Double? = nil
        var cpuAtEnd: Double? = nil
        var rssAtStart: Int? = nil
        var rssAtEnd: Int? = nil
        let began = ContinuousClock.now
        while true {
            try await Task.sleep(for: .seconds(1))
            let now = WallClock.nowNanos()
            if cpuAtStart == nil, now >= measureFrom {
                let stats = child?.stats
                cpuAtStart = stats?.cpuSeconds
                rssAtStart = stats?.rssKiB
            }
            if cpuAtEnd == nil, now >= measureUntil {
                let stats = child?.stats
                cpuAtEnd = stats?.cpuSeconds
                rssAtEnd = stats?.rssKiB
            }
            let each = try await client.eachRecorder { ($0.received, $0.endToEnd.valueAtPercentile(99)) }
            let received = each.reduce(0) { $0 + $1.0 }
            let p99 = each.map(\.1).max() ?? 0
            let elapsed = Double((ContinuousClock.now - began).components.seconds)
            progress("\(Int(elapsed)) s  received \(received)  (\(received / max(1, Int(elapsed))) /s)  p99 t1→t5 \(formatMicros(p99))" + (now < measureFrom ? "  (warm-up)" : ""))
            if now >= measureUntil + 200_000_000 { break }
        }
        let report = try await finished.value
        let published = report.published
        let perSymbol = (0..<scenario.symbols).map { published / scenario.symbols + ($0 < published % scenario.symbols ? 1 : 0) }
        var expected = 0
        for stream in 0..<scenario.streams {
            for symbol in scenario.symbolIndices(ofStream: stream) { expected += perSymbol[symbol] }
        }
        // Drain: until every expected delivery arrived, or nothing moved for 3 s.
        var last = -1
        var stalled = ContinuousClock.now
        while ContinuousClock.now - stalled < .seconds(3) {
            let got = try await client.total { $0.distinctReceived }
            if got >= expected { break }
            if got != last {
                last = got
                stalled = .now
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        let final = child?.stats
        let snapshot = try await client.eachRecorder { recorder in
            BenchRecorder.Totals(recorder)
        }.reduce(into: BenchRecorder.Totals()) { $0.add($1) }
        var histograms = snapshot.histograms
        histograms.byHop[.kafkaFloor] = await floor.finish()
        await client.close()
        for channel in stalledChannels { try? await channel.close() }
        try? await group.shutdownGracefully()
        publisher.producer.close()

        let cpu = cpuAtStart.flatMap { start in cpuAtEnd.map { $0 - start } }
        let measured = snapshot.measured
        let result = BenchResult(
            scenario: scenario, startedAt: ISO8601DateFormatter().string(from: Date()),
            machine: machineDescription(), command: options.command,
            latencies: Hop.allCases.map { latency(hop: $0, histograms.byHop[$0]!) },
            publishedTicks: published, publishedPerSecond: Double(published) / (scenario.warmupSeconds + scenario.durationSeconds),
            measuredDeliveries: measured, deliveriesPerSecond: Double(snapshot.arrivedInWindow) / scenario.durationSeconds,
            offeredDeliveriesPerSecond: scenario.offeredDeliveriesPerSecond,
            gatewayCPUSeconds: cpu,
            gatewayMicrosPerDelivery: cpu.map { snapshot.arrivedInWindow > 0 ? $0 * 1e6 / Double(snapshot.arrivedInWindow) : 0 },
            gatewayPeakRSSKiB: final?.peakRSSKiB,
            gatewayRSSPerConnectionKiB: rssBefore.flatMap { before in rssAfter.map { Double($0 - before) / Double(scenario.connections) } },
            lost: max(0, expected - snapshot.distinctReceived), duplicated: snapshot.duplicates, outOfOrder: snapshot.outOfOrder, unexpected: snapshot.unexpected,
            unstamped: snapshot.unstamped, requestErrors: snapshot.errors, stalledStreams: options.stalledStreams, tls: options.tls, clientThreads: clientThreads,
            gatewayRSSAtWindowStartKiB: rssAtStart, gatewayRSSAtWindowEndKiB: rssAtEnd)
        return (result, histograms)
    }

    static func latency(hop: Hop, _ h: Histogram<UInt64>) -> BenchResult.Latency {
        let empty = h.totalCount == 0
        func micros(_ p: Double) -> Double { empty ? 0 : Double(h.valueAtPercentile(p)) / 1000 }
        return .init(
            hop: hop.rawValue, count: h.totalCount, p50Micros: micros(50), p90Micros: micros(90),
            p99Micros: micros(99), p999Micros: micros(99.9), maxMicros: empty ? 0 : Double(h.max) / 1000)
    }

    static func waitUntil(timeout: Duration, _ condition: @Sendable () async throws -> Bool) async throws -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if try await condition() { return true }
            try await Task.sleep(for: .milliseconds(50))
        }
        return try await condition()
    }

    static func machineDescription() -> String {
        let cpu = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8))?
            .split(separator: "\n").first { $0.hasPrefix("model name") }?
            .split(separator: ":").last.map { $0.trimmingCharacters(in: .whitespaces) } ?? "unknown CPU"
        return "\(ProcessInfo.processInfo.activeProcessorCount) cores, \(cpu), \(ProcessInfo.processInfo.physicalMemory >> 30) GiB"
    }
}

func formatMicros(_ nanos: UInt64) -> String {
    nanos >= 1_000_000 ? String(format: "%.2f ms", Double(nanos) / 1e6) : String(format: "%.0f µs", Double(nanos) / 1e3)
}
