public import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOWebSocket
import Synchronization
public import TickgateModel
import TickgateTLS

/// Runs one venue's WebSocket feed: connects, subscribes, reads trades,
/// answers pings, keeps the connection alive, and reconnects with jittered
/// exponential backoff when it drops or goes silent. Parsed ticks go to a
/// ``BoundedTickQueue`` (which a dedicated thread publishes to Kafka);
/// duplicates are dropped and the venue's sequence gaps are reported.
public final class WebSocketFeed<Venue: VenueProtocol>: Sendable {
    public struct Options: Sendable {
        public var url: String
        public var symbols: [Symbol]
        /// First reconnect delay; doubles up to `maxBackoff`, ±50% jitter.
        public var initialBackoff: Duration = .milliseconds(500)
        public var maxBackoff: Duration = .seconds(30)
        /// No message for this long: send the venue's keep-alive at half,
        /// reconnect at full.
        public var silenceTimeout: Duration = .seconds(30)
        /// Stop after this many connections (tests); nil = forever.
        public var maxConnections: Int? = nil
        /// Extra trusted CA certificates (PEM) for `wss://`, besides the system's.
        public var trustedCAFile: String? = nil

        public init(url: String, symbols: [Symbol]) {
            self.url = url
            self.symbols = symbols
        }
    }

    public let stats = FeedStats()
    /// The adapter's name in logs and metrics: the venue's.
    public let adapterName: String
    private let venue: Mutex<Venue>
    private let options: Options
    private let queue: BoundedTickQueue
    private let logger: Logger
    private let state = Mutex(FeedState())

    struct FeedState {
        var duplicates = DuplicateFilter(capacity: 100_000)
        var sequences: [Symbol: UInt64] = [:]
    }

    public init(venue: Venue, options: Options, queue: BoundedTickQueue, logger: Logger) {
        self.venue = Mutex(venue)
        self.adapterName = venue.venue
        self.options = options
        self.queue = queue
        self.logger = logger
    }

    /// Runs until cancelled (or `maxConnections` is reached).
    public func run() async throws {
        let url = try WebSocketURL(parsing: venue.withLock { $0.url(base: options.url, symbols: options.symbols) })
        let tls = url.secure ? try TLSContext(.client(serverName: url.host, trustedCAFile: options.trustedCAFile)) : nil
        var attempt = 0
        var connections = 0
        while !Task.isCancelled {
            connections += 1
            let venueName = adapterName
            do {
                let received = try await runConnection(url, tls: tls)
                if received > 0 { attempt = 0 }
                logger.warning("\(venueName): connection to \(url) ended after \(received) message(s); reconnecting")
            } catch {
                stats.recordError("\(error)")
                logger.warning("\(venueName): \(url): \(error)")
            }
            if let max = options.maxConnections, connections >= max { return }
            stats.reconnects.add(1, ordering: .relaxed)
            venue.withLock { $0.resetSequences() }
            let delay = backoff(attempt: attempt)
            attempt += 1
            try await Task.sleep(for: delay)
        }
    }

    func backoff(attempt: Int) -> Duration {
        let base = options.initialBackoff * (1 << min(attempt, 16))
        let capped = min(base, options.maxBackoff)
        return capped * Double.random(in: 0.5...1.5)
    }

    /// One connection; returns the number of messages it received.
    private func runConnection(_ url: WebSocketURL, tls: TLSContext?) async throws -> Int {
        let channel = try await Self.connect(url, tls: tls)
        let subscribe = venue.withLock { $0.subscribeMessages(symbols: options.symbols) }
        let keepAlive = venue.withLock { $0.keepAliveMessage }
        let lastMessage = LastMessageClock()
        var received = 0
        try await channel.executeThenClose { inbound, outbound in
            for text in subscribe { try await outbound.write(Self.textFrame(text)) }
            // Watchdog: keep-alive at half the silence timeout, close at full.
            let silence = options.silenceTimeout
            let watchdog = Task {
                while !Task.isCancelled {
                    try await Task.sleep(for: silence / 4)
                    let quiet = lastMessage.quietFor
                    if quiet >= silence {
                        outbound.finish()
                        return
                    }
                    if quiet >= silence / 2, let keepAlive {
                        try? await outbound.write(Self.textFrame(keepAlive))
                    }
                }
            }
            defer { watchdog.cancel() }
            var fragments: ByteBuffer? = nil
            for try await frame in inbound {
                lastMessage.touch()
                switch frame.opcode {
                case .text, .continuation:
                    var data = frame.unmaskedData
                    if frame.opcode == .continuation, fragments != nil {
                        fragments!.writeBuffer(&data)
                    } else {
                        fragments = data
                    }
                    guard frame.fin, let whole = fragments else { continue }
                    fragments = nil
                    received += 1
                    await handle(String(buffer: whole))
                case .ping:
                    try await outbound.write(WebSocketFrame(fin: true, opcode: .pong, maskKey: .random(), data: frame.unmaskedData))
                case .connectionClose:
                    return
                default:
                    break
                }
            }
        }
        return received
    }

    func handle(_ text: String) async {
        stats.messages.add(1, ordering: .relaxed)
        let events = venue.withLock { $0.parse(text) }
        let venueName = adapterName
        for event in events {
            switch event {
            case .tick(let tick):
                let accepted: Tick? = state.withLock { state in
                    if !tick.tradeID.isEmpty,
                       !state.duplicates.admit("\(tick.symbol.rawValue)|\(tick.tradeID)") {
                        return nil
                    }
                    let sequence = (state.sequences[tick.symbol] ?? 0) + 1
                    state.sequences[tick.symbol] = sequence
                    return Tick(
                        symbol: tick.symbol.rawValue, venue: venueName, price: tick.price, size: tick.size,
                        side: tick.side, sequence: sequence, tradeID: tick.tradeID, venueTimeNanos: tick.venueTimeNanos)
                }
                guard let accepted else {
                    stats.duplicates.add(1, ordering: .relaxed)
                    continue
                }
                stats.ticks.add(1, ordering: .relaxed)
                await queue.put(accepted)
            case .gap(let symbol, let expected, let got):
                stats.gaps.add(1, ordering: .relaxed)
                stats.missing.add(Int(got - expected), ordering: .relaxed)
                logger.warning("\(venueName): \(symbol) sequence gap: expected trade \(expected), got \(got) (\(got - expected) missing)")
            case .malformed(let message):
                if stats.malformed.add(1, ordering: .relaxed).newValue <= 5 {
                    logger.warning("\(venueName): malformed message skipped: \(message.prefix(200))")
                }
            case .venueError(let message):
                stats.venueErrors.add(1, ordering: .relaxed)
                logger.error("\(venueName) reported an error: \(message)")
            case .subscribed(let what):
                stats.subscriptions.add(1, ordering: .relaxed)
                logger.info("\(venueName): subscribed \(what)")
            case .heartbeat, .ignored:
                break
            }
        }
    }

    static func textFrame(_ text: String) -> WebSocketFrame {
        WebSocketFrame(fin: true, opcode: .text, maskKey: .random(), data: ByteBuffer(string: text))
    }

    enum Upgrade: Sendable {
        case websocket(NIOAsyncChannel<WebSocketFrame, WebSocketFrame>)
        case refused
    }

    static func connect(_ url: WebSocketURL, tls: TLSContext?) async throws -> NIOAsyncChannel<WebSocketFrame, WebSocketFrame> {
        let upgrade: EventLoopFuture<Upgrade> = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connectTimeout(.seconds(10))
            .connect(host: url.host, port: url.port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let tls { try channel.pipeline.syncOperations.addHandler(try tls.makeHandler()) }
                    let upgrader = NIOTypedWebSocketClientUpgrader<Upgrade>(maxFrameSize: 1 << 22) { channel, _ in
                        channel.eventLoop.makeCompletedFuture {
                            .websocket(try NIOAsyncChannel<WebSocketFrame, WebSocketFrame>(wrappingChannelSynchronously: channel))
                        }
                    }
                    var headers = HTTPHeaders()
                    headers.add(name: "Host", value: url.port == 80 || url.port == 443 ? url.host : "\(url.host):\(url.port)")
                    headers.add(name: "Content-Length", value: "0")
                    let head = HTTPRequestHead(version: .http1_1, method: .GET, uri: url.path, headers: headers)
                    let configuration = NIOTypedHTTPClientUpgradeConfiguration<Upgrade>(
                        upgradeRequestHead: head, upgraders: [upgrader],
                        notUpgradingCompletionHandler: { $0.eventLoop.makeSucceededFuture(.refused) })
                    return try channel.pipeline.syncOperations.configureUpgradableHTTPClientPipeline(
                        configuration: .init(upgradeConfiguration: configuration))
                }
            }
        switch try await upgrade.get() {
        case .websocket(let channel): return channel
        case .refused: throw FeedError.upgradeRefused(url.description)
        }
    }
}

/// When the last frame arrived (monotonic), for the silence watchdog.
final class LastMessageClock: Sendable {
    private let nanos = Atomic<Int64>(monotonicNanos())

    func touch() { nanos.store(monotonicNanos(), ordering: .relaxed) }

    var quietFor: Duration { .nanoseconds(monotonicNanos() - nanos.load(ordering: .relaxed)) }
}
