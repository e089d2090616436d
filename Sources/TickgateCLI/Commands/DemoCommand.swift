import ArgumentParser
import Synchronization
import TickgateFeeds
import TickgateGateway
import TickgateKafka
import TickgateModel

struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Embedded Kafka broker + synthetic feed + gateway, in one process.",
        discussion: "Prints the gateway address and the command to subscribe from a second terminal.")

    @Option(help: "Address the gateway listens on.")
    var listen: HostPort = HostPort(host: "127.0.0.1", port: 50051)

    @Option(help: "Comma-separated symbols the feed publishes and the gateway serves.")
    var symbols: String = SymbolList.demoDefault

    @Option(help: "Ticks per second over all symbols.")
    var rate: Double = 100

    @Option(help: "Partitions of the ticks topic.")
    var partitions: Int = 6

    @Option(help: "Random seed of the synthetic feed.")
    var seed: UInt64 = 42

    @Option(help: "Stop by itself after this many seconds (default: run until Ctrl-C).")
    var duration: Double?

    @Flag(name: .shortAndLong, help: "Log debug detail.")
    var verbose = false

    func validate() throws {
        guard rate > 0, rate <= 1_000_000 else { throw ValidationError("--rate must be in (0, 1000000]") }
        guard (1...256).contains(partitions) else { throw ValidationError("--partitions must be 1…256") }
        _ = try SymbolList.parse([symbols], option: "--symbols")
    }

    func run() async throws {
        let startTime = ContinuousClock.now
        let logger = CLILogging.logger("tickgate.demo", verbose: verbose)
        let symbols = try SymbolList.parse([symbols], option: "--symbols")
        let topic = "ticks"
        let broker: EmbeddedBroker
        do {
            broker = try EmbeddedBroker(logger: logger)
            try broker.createTopic(topic, partitions: partitions)
        } catch {
            throw failure("\(error)")
        }
        let kafka = KafkaConfiguration(brokers: broker.bootstrapServers)
        var configuration = GatewayConfiguration(kafka: kafka)
        configuration.host = listen.host
        configuration.port = listen.port
        configuration.topic = topic
        configuration.symbolCatalog = Set(symbols.map(\.rawValue))
        configuration.metricsHost = listen.host
        configuration.metricsPort = 0
        let gateway: Gateway
        do {
            gateway = try await Gateway.start(configuration: configuration, logger: logger)
        } catch {
            broker.close()
            throw failure("\(error)\(listen.port != 0 ? " (another program on that port? try --listen 127.0.0.1:0)" : "")")
        }
        let publisher = try await connectTickPublisher(kafka, topic: topic, logger: logger)
        let feed = Mutex(SyntheticFeed(symbols: symbols, seed: seed))
        let run = IngestRun(
            publisher: publisher,
            options: .init(ratePerSecond: rate, duration: duration.map { .nanoseconds(Int64($0 * 1e9)) }),
            logger: logger
        ) { now, _ in feed.withLock { $0.next(now: now) } }

        let address = HostPort(host: gateway.host, port: gateway.port)
        let me = CommandLine.arguments.first ?? "tickgate"
        printOut("""
            Tickgate demo
              embedded Kafka broker  \(broker.bootstrapServers)  (topic \(topic), \(partitions) partitions)
              gateway (gRPC, h2c)    \(address)
              live page (browser)    http://\(address)/
              Server-Sent Events     http://\(address)/v1/ticks?symbols=BTC-USD,ETH-USD&snapshot=true
              metrics                http://\(HostPort(host: gateway.host, port: gateway.metricsPort ?? 0))/metrics
              synthetic feed         \(rate) ticks/s over \(symbols.count) symbols: \(symbols.map(\.rawValue).joined(separator: " "))

            Subscribe from a second terminal:
              \(me) subscribe --to \(address) BTC-USD ETH-USD

            Ctrl-C stops.
            """)
        let stopped = Atomic<Bool>(false)
        Termination.onSignal { _ in
            stopped.store(true, ordering: .relaxed)
            run.stop()
        }
        // Status every 10 s until the feed stops (Ctrl-C or --duration).
        let waiter = Task {
            try await runOnDedicatedThread(name: "ingest-wait") { () throws(KafkaError) in try run.finish() }
        }
        var last = gateway.stats.snapshot
        while !stopped.load(ordering: .relaxed) {
            for _ in 0..<20 where !stopped.load(ordering: .relaxed) {
                try? await Task.sleep(for: .milliseconds(500))
                if let duration, ContinuousClock.now - startTime > .nanoseconds(Int64(duration * 1e9)) { stopped.store(true, ordering: .relaxed) }
            }
            let now = gateway.stats.snapshot
            printError("[demo] consumed \(now.ticksConsumed) ticks (+\(now.ticksConsumed - last.ticksConsumed)), \(now.deliveries) deliveries (+\(now.deliveries - last.deliveries)), \(now.streams) stream(s), \(now.subscriptions) subscription(s)")
            last = now
        }
        run.stop()
        let report = try? await waiter.value
        printOut("stopping: published \(report?.published ?? 0) ticks, delivered \(report?.delivered ?? 0), failed \(report?.failed ?? 0)")
        publisher.producer.close()
        await gateway.shutdown()
        broker.close()
    }
}
