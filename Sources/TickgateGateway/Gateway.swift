public import Logging
import Synchronization
import NIOCore
import NIOHTTP1
import NIOPosix
import TickgateHTTP2
import TickgateMetrics
import TickgateModel
import TickgateKafka
public import TickgateTLS

/// The gateway: reads every partition of the ticks topic and streams ticks
/// to gRPC clients over HTTP/2 (h2c with prior knowledge).
public final class Gateway: Sendable {
    public let configuration: GatewayConfiguration
    public let stats: GatewayStats
    /// The address actually bound (the port is resolved when 0 was asked).
    public let host: String
    public let port: Int
    private let group: MultiThreadedEventLoopGroup
    /// Where /metrics is served, if it is.
    public let metricsPort: Int?
    private let serverChannel: any Channel
    private let metricsChannel: (any Channel)?
    private let reader: KafkaPartitionReader
    private let metrics: GatewayMetrics
    private let publish: PublishCoordinator?
    private let loops: [TickIngress.Loop]
    private let replay: ReplayService?
    private let health: GatewayHealth
    private let logger: Logger
    private let tls: ServerTLS?

    private init(
        configuration: GatewayConfiguration, stats: GatewayStats, group: MultiThreadedEventLoopGroup,
        serverChannel: any Channel, metricsChannel: (any Channel)?, reader: KafkaPartitionReader,
        metrics: GatewayMetrics, publish: PublishCoordinator?, loops: [TickIngress.Loop], replay: ReplayService?,
        health: GatewayHealth, logger: Logger, tls: ServerTLS?
    ) {
        self.tls = tls
        self.replay = replay
        self.health = health
        self.loops = loops
        self.publish = publish
        self.configuration = configuration
        self.stats = stats
        self.group = group
        self.serverChannel = serverChannel
        self.metricsChannel = metricsChannel
        self.reader = reader
        self.metrics = metrics
        self.logger = logger
        self.host = configuration.host
        self.port = serverChannel.localAddress?.port ?? configuration.port
        self.metricsPort = metricsChannel?.localAddress?.port
    }

    /// The Prometheus text exposition, as `GET /metrics` serves it.
    public func metricsExposition() -> String {
        String(decoding: metrics.exposition(stats: stats, reader: reader), as: UTF8.self)
    }

    /// Connects to Kafka (bounded by `kafka.connectTimeout`), binds the
    /// listener, then starts reading at the live end of every partition.
    public static func start(configuration: GatewayConfiguration, logger: Logger) async throws -> Gateway {
        let tls = try configuration.tls.map { tls throws(TLSError) in try ServerTLS(tls.configuration) }
        if tls == nil, !Self.isLoopback(configuration.host) {
            logger.warning("listening on \(configuration.host) without TLS: anyone on the network can read the traffic and its API keys (give a certificate and key to serve TLS)")
        }
        let refusals = RateLimitedLogger(logger: logger)
        let reader = try await runOnDedicatedThread(name: "kafka-connect") { () throws(KafkaError) in
            try KafkaPartitionReader(
                configuration: configuration.kafka, topic: configuration.topic,
                start: .backFromEnd(configuration.warmupTicksPerPartition), logger: logger)
        }
        let keys = MarketKeys(maxKeys: configuration.maxMarketKeys)
        let replay: ReplayService? = configuration.maxConcurrentReplays > 0
            ? ReplayService(
                kafka: configuration.kafka, topic: configuration.topic, keys: keys,
                budget: ReplayBudget(limits: .init(
                    maxConcurrent: configuration.maxConcurrentReplays, ticksPerSecond: configuration.replayTicksPerSecond,
                    ticksPerSecondPerStream: configuration.replayTicksPerSecondPerStream, maxSpan: configuration.maxReplaySpan)),
                logger: logger)
            : nil
        // Each loop starts where the reader does: what is before the
        // partitions' ends is the cache read back, not delivered live.
        let startPositions = reader.startHighWatermarks.map { $0 - 1 }
        let partitionCount: @Sendable () -> Int = { [reader] in reader.partitionCount }
        let health = GatewayHealth(brokersReachable: { [reader] in reader.brokersReachable })
        let stats = GatewayStats()
        let metrics = GatewayMetrics()
        var publish: PublishCoordinator? = nil
        if configuration.enablePublish {
            do {
                publish = try await runOnDedicatedThread(name: "kafka-connect") { () throws(KafkaError) in
                    try PublishCoordinator(configuration: configuration.kafka, topic: configuration.topic, logger: logger)
                }
            } catch {
                reader.close()
                throw error
            }
        }
        let publishCoordinator = publish
        let group = MultiThreadedEventLoopGroup(numberOfThreads: max(1, configuration.eventLoopThreads))
        var loops: [TickIngress.Loop] = []
        var fanouts: [ObjectIdentifier: NIOLoopBound<LoopFanout>] = [:]
        for eventLoop in group.makeIterator() {
            let fanout = try await eventLoop.submit {
                let fanout = LoopFanout(eventLoop: eventLoop, stats: stats, keys: keys, metrics: metrics, publish: publishCoordinator)
                fanout.symbolCatalog = configuration.symbolCatalog
                fanout.replay = replay
                fanout.health = health
                fanout.partitionCount = partitionCount
                fanout.partitionOffsets = startPositions
                return NIOLoopBound(fanout, eventLoop: eventLoop)
            }.get()
            fanouts[ObjectIdentifier(eventLoop as AnyObject)] = fanout
            if let staleAfter = configuration.staleAfter {
                let limit = staleAfter.wholeNanoseconds
                try await eventLoop.submit { fanout.value.staleAfterNanos = limit }.get()
                let period: TimeAmount = limit < 2_000_000_000 ? .milliseconds(max(50, limit / 4_000_000)) : .seconds(1)
                eventLoop.scheduleRepeatedTask(initialDelay: period, delay: period) { _ in
                    fanout.value.checkStaleness(now: WallClock.nowNanos())
                }
            }
            // One timer per loop for every connection's idle limit, every
            // stream's heartbeat and every health watcher.
            eventLoop.scheduleRepeatedTask(initialDelay: .seconds(1), delay: .seconds(1)) { _ in
                fanout.value.tickConnections(now: .now())
            }
            loops.append(.init(eventLoop: eventLoop, fanout: fanout, inbox: LoopInbox(maxQueuedTicks: configuration.maxQueuedTicksPerLoop)))
        }
        let fanoutByLoop = fanouts
        let limiter = ConnectionLimiter(maxTotal: configuration.maxConnections, maxPerAddress: configuration.maxConnectionsPerAddress)
        let web = configuration.serveWeb ? WebEndpoints.make(configuration) : nil
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 1024)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelOption(.writeBufferWaterMark, value: .init(low: 256 * 1024, high: 1024 * 1024))
            // Clients send little (requests, WINDOW_UPDATEs): start reads small,
            // so idle connections hold little; the allocator grows when needed.
            .childChannelOption(.recvAllocator, value: AdaptiveRecvByteBufferAllocator(minimum: 64, initial: 512, maximum: 65_536))
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let fanout = fanoutByLoop[ObjectIdentifier(channel.eventLoop as AnyObject)]!.value
                    let address = channel.remoteAddress?.ipAddress ?? ""
                    let refusal = limiter.admit(address)
                    if refusal == nil { channel.closeFuture.whenComplete { _ in limiter.release(address) } }
                    if let tls {
                        try channel.pipeline.syncOperations.addHandler(try tls.context.makeHandler(
                            handshakeTimeout: configuration.handshakeTimeout.map { .nanoseconds($0.wholeNanoseconds) }))
                    }
                    // Over TLS, ALPN h2 is required: HTTP/2 only (browsers
                    // get gRPC-Web, SSE and the page over it).
                    guard let web, tls == nil else {
                        try channel.pipeline.syncOperations.addHandler(GatewayConnectionHandler(
                            configuration: configuration, fanout: fanout, logger: logger, refusals: refusals, refusal: refusal,
                            web: web))
                        return
                    }
                    // Without TLS, HTTP/2 (gRPC, h2c) or HTTP/1.1 (browsers,
                    // gRPC-Web clients): the first bytes tell.
                    try channel.pipeline.syncOperations.addHandler(ProtocolSniffer(
                        timeout: configuration.handshakeTimeout.map { .nanoseconds($0.wholeNanoseconds) },
                        onTimeout: { fanout.stats.handshakesTimedOut.add(1, ordering: .relaxed) },
                        http2: {
                            GatewayConnectionHandler(
                                configuration: configuration, fanout: fanout, logger: logger, refusals: refusals,
                                refusal: refusal, web: web)
                        },
                        http1: {
                            [
                                ByteToMessageHandler(HTTPRequestDecoder(leftOverBytesStrategy: .dropBytes)),
                                HTTPResponseEncoder(),
                                HTTP1ConnectionHandler(configuration: configuration, fanout: fanout, logger: logger, web: web, refusal: refusal),
                            ]
                        }))
                }
            }
        let serverChannel: any Channel
        do {
            serverChannel = try await bootstrap.bind(host: configuration.host, port: configuration.port).get()
        } catch {
            reader.close()
            publishCoordinator?.close()
            try? await group.shutdownGracefully()
            let detail = "\(error)".contains("Address already in use") ? "address already in use" : "\(error)"
            throw GatewayError.cannotListen(host: configuration.host, port: configuration.port, detail: detail)
        }
        var metricsChannel: (any Channel)? = nil
        if let metricsHost = configuration.metricsHost {
            do {
                metricsChannel = try await MetricsServer.bind(host: metricsHost, port: configuration.metricsPort, group: group) {
                    metrics.exposition(stats: stats, reader: reader)
                }
            } catch {
                try? await serverChannel.close()
                reader.close()
                publishCoordinator?.close()
                try? await group.shutdownGracefully()
                let detail = "\(error)".contains("Address already in use") ? "address already in use" : "\(error)"
                throw GatewayError.cannotListen(host: metricsHost, port: configuration.metricsPort, detail: "metrics: \(detail)")
            }
        }
        var warmupEnd: [Int32: Int64] = [:]
        for (partition, (start, high)) in zip(reader.startOffsets, reader.startHighWatermarks).enumerated() where start < high {
            warmupEnd[Int32(partition)] = high
        }
        let oldest = (WallClock.nowNanos() - configuration.warmupWindow.wholeNanoseconds) / 1_000_000
        let ingress = TickIngress(
            loops: loops, keys: keys, stats: stats, metrics: metrics, logger: logger, warmupEnd: warmupEnd,
            warmupOldestMillis: oldest)
        reader.start(onGap: { gap in ingress.handle(gap) }, onBatch: { records in ingress.handle(records) })
        logger.info("gateway listening on \(configuration.host):\(serverChannel.localAddress?.port ?? configuration.port), reading \(reader.partitionCount) partition(s) of \(configuration.topic) from \(configuration.kafka.brokers)")
        return Gateway(
            configuration: configuration, stats: stats, group: group, serverChannel: serverChannel,
            metricsChannel: metricsChannel, reader: reader, metrics: metrics, publish: publishCoordinator,
            loops: loops, replay: replay, health: health, logger: logger, tls: tls)
    }

    /// Reads the certificate and key files again, for connections from now
    /// on (SIGHUP); open connections stay. A bad file changes nothing.
    public func reloadTLS() throws(TLSError) {
        try tls?.reload()
    }

    public var servesTLS: Bool { tls != nil }

    static func isLoopback(_ host: String) -> Bool {
        host == "localhost" || host == "::1" || host.hasPrefix("127.")
    }

    /// Number of partitions being read.
    public var partitionCount: Int { reader.partitionCount }

    /// Graceful shutdown: stop accepting, send every connection GOAWAY and
    /// end its open calls with UNAVAILABLE ("server shutting down", so
    /// clients reconnect elsewhere), wait up to `shutdownGrace` for the
    /// connections to close, then close Kafka and the event loops.
    public func shutdown() async {
        health.startDraining()
        try? await serverChannel.close()
        try? await metricsChannel?.close()
        let open = await withTaskGroup(of: Int.self) { group in
            for loop in loops {
                group.addTask {
                    (try? await loop.eventLoop.submit { loop.fanout.value.drainConnections() }.get()) ?? 0
                }
            }
            return await group.reduce(0, +)
        }
        if open > 0 {
            let deadline = ContinuousClock.now + configuration.shutdownGrace
            while stats.connections.load(ordering: .relaxed) > 0, ContinuousClock.now < deadline {
                try? await Task.sleep(for: .milliseconds(10))
            }
            let left = stats.connections.load(ordering: .relaxed)
            if left > 0 { logger.notice("closing \(left) connection(s) that did not finish draining in time") }
        }
        let reader = self.reader
        let publish = self.publish
        let replay = self.replay
        await runOnDedicatedThread(name: "kafka-close") {
            replay?.close()
            reader.close()
            publish?.close()
        }
        try? await group.shutdownGracefully()
    }
}

public enum GatewayError: Error, CustomStringConvertible {
    case cannotListen(host: String, port: Int, detail: String)

    public var description: String {
        switch self {
        case .cannotListen(let host, let port, let detail):
            return "cannot listen on \(host):\(port): \(detail)"
        }
    }
}
