#if canImport(Glibc)
import Glibc
#endif
public import Logging
public import TickgateFeeds
public import TickgateGateway
public import TickgateKafka
public import TickgateModel

/// An embedded broker, a topic, a gateway on a free port and a publisher:
/// the whole path in one process, for integration tests.
public final class GatewayHarness: Sendable {
    public let broker: EmbeddedBroker
    public let gateway: Gateway
    public let publisher: TickPublisher
    public let topic: String

    public static func start(
        partitions: Int = 6, brokers: Int = 1, catalog: Set<String>? = nil,
        configure: @Sendable (inout GatewayConfiguration) -> Void = { _ in }
    ) async throws -> GatewayHarness {
        let logger = Logger.quiet
        let broker = try EmbeddedBroker(brokerCount: brokers, logger: logger)
        let topic = "ticks"
        try broker.createTopic(topic, partitions: partitions)
        let kafka = KafkaConfiguration(brokers: broker.bootstrapServers, connectTimeout: .seconds(10))
        var configuration = GatewayConfiguration(kafka: kafka)
        configuration.port = 0
        configuration.topic = topic
        configuration.eventLoopThreads = 2
        configuration.symbolCatalog = catalog
        configuration.metricsHost = "127.0.0.1"
        configuration.metricsPort = 0
        configure(&configuration)
        let gateway = try await Gateway.start(configuration: configuration, logger: logger)
        let publisher = try await runOnDedicatedThread(name: "test-publisher") { () throws(KafkaError) in
            try TickPublisher(configuration: kafka, topic: topic, logger: logger)
        }
        return GatewayHarness(broker: broker, gateway: gateway, publisher: publisher, topic: topic)
    }

    private init(broker: EmbeddedBroker, gateway: Gateway, publisher: TickPublisher, topic: String) {
        self.broker = broker
        self.gateway = gateway
        self.publisher = publisher
        self.topic = topic
    }

    public var port: Int { gateway.port }

    /// Another gateway on the same broker and topic (a second instance, or
    /// the same one after a restart).
    public func startAnotherGateway(
        configure: @Sendable (inout GatewayConfiguration) -> Void = { _ in }
    ) async throws -> Gateway {
        var configuration = gateway.configuration
        configuration.port = 0
        configuration.metricsHost = nil
        configure(&configuration)
        return try await Gateway.start(configuration: configuration, logger: .quiet)
    }

    /// Publishes every tick and waits until Kafka acknowledged them all.
    public func publishAndFlush(_ ticks: [Tick]) async throws {
        let publisher = self.publisher
        try await runOnDedicatedThread(name: "test-publish") { () throws(KafkaError) in
            for tick in ticks { try publisher.publish(tick) }
            try publisher.producer.flush(timeout: .seconds(20))
        }
    }

    public func stop() async {
        publisher.producer.close()
        await gateway.shutdown()
        broker.close()
    }
}

extension Logger {
    /// Errors only, so test output stays readable.
    public static var quiet: Logger {
        var logger = Logger(label: "tickgate.test")
        logger.logLevel = .error
        return logger
    }
}

/// `count` synthetic ticks over `symbols`, round robin, sequence from 1.
public func makeTicks(symbols: [String], perSymbol: Int, seed: UInt64 = 7) -> [Tick] {
    var feed = SyntheticFeed(symbols: symbols.map { try! Symbol(validating: $0) }, seed: seed)
    var ticks: [Tick] = []
    for _ in 0..<perSymbol {
        for index in symbols.indices {
            ticks.append(feed.next(symbolIndex: index, now: WallClock.nowNanos()))
        }
    }
    return ticks
}

/// Polls `condition` until it holds or `timeout` passes.
public func eventually(
    timeout: Duration = .seconds(10), _ condition: @Sendable () async throws -> Bool
) async rethrows -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if try await condition() { return true }
        try? await Task.sleep(for: .milliseconds(20))
    }
    return try await condition()
}

/// True under scripts/sanitize.sh (it sets the sanitizer's options): memory
/// bounds do not hold there (freed memory stays resident in quarantine).
public let runningUnderSanitizer: Bool = getenv("ASAN_OPTIONS") != nil || getenv("TSAN_OPTIONS") != nil
