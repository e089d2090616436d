public import NIOCore
import Logging
import NIOHTTP1
import TickgateHTTP2
import TickgateKafka
import TickgateModel

/// What the micro-benchmarks' harness (`TickgateGatewayBenchSupport`, which
/// puts these handlers in embedded channels) needs of the real delivery
/// path: a loop's fan-out, its connection handlers, and batches of ticks
/// encoded by the real transcoder. Nothing here is used by the gateway.
@_spi(Benchmarks)
public final class FanoutBenchCore {
    public struct Batch {
        let batch: TickFrameBatch
        public var ticks: Int { batch.entries.count }
    }

    private let fanout: LoopFanout
    private let keys: MarketKeys
    private let configuration: GatewayConfiguration
    private let web: WebEndpoints

    public init(eventLoop: any EventLoop) {
        self.keys = MarketKeys(maxKeys: 100_000)
        self.fanout = LoopFanout(eventLoop: eventLoop, stats: GatewayStats(), keys: keys)
        var configuration = GatewayConfiguration(kafka: KafkaConfiguration(brokers: "unused:1"))
        configuration.maxPendingBytesPerStream = 64 << 20
        configuration.corsOrigins = ["http://app.example"]
        configuration.chartLibraryPath = nil
        self.configuration = configuration
        self.web = WebEndpoints.make(configuration)
    }

    /// A gateway connection handler serving this fan-out (HTTP/2, with the
    /// browsers' endpoints on).
    public func makeConnectionHandler() -> any ChannelHandler {
        GatewayConnectionHandler(
            configuration: configuration, fanout: fanout, logger: Logger(label: "bench"), refusals: RateLimitedLogger(logger: Logger(label: "bench")),
            web: web)
    }

    /// The handlers of an HTTP/1.1 connection (browsers) serving this fan-out.
    public func makeHTTP1Handlers() -> [any ChannelHandler] {
        [
            ByteToMessageHandler(HTTPRequestDecoder(leftOverBytesStrategy: .dropBytes)), HTTPResponseEncoder(),
            HTTP1ConnectionHandler(configuration: configuration, fanout: fanout, logger: Logger(label: "bench"), web: web, refusal: nil),
        ]
    }

    /// Makes the pairs (venue "synthetic") known, as ticks of them would.
    public func register(symbols: [String]) {
        for symbol in symbols { _ = keys.id(of: .init(venue: "synthetic", symbol: symbol)) }
        fanout.learnKeys()
    }

    /// Subscriptions held by the streams of every handler made here.
    public var subscriptionCount: Int { fanout.subscriptionCount }

    /// See ``GatewayStats/deliveryBytesHeld``.
    public var deliveryBytesHeld: Int { fanout.stats.snapshot.deliveryBytesHeld }

    /// `ticks` ticks round robin over `symbols`, each decoded, stamped and
    /// encoded once by the gateway's transcoder.
    public func makeBatch(ticks: Int, symbols: [String]) throws -> Batch {
        var buffer = ByteBufferAllocator().buffer(capacity: ticks * 160)
        var entries: [TickFrameBatch.Entry] = []
        // Real-sized stamps (current Unix nanoseconds): ~120-byte messages.
        let now = WallClock.nowNanos()
        for index in 0..<ticks {
            let tick = Tick(
                symbol: symbols[index % symbols.count], venue: "synthetic", price: ExactDecimal(mantissa: 6_500_012, exponent: -2),
                size: ExactDecimal(mantissa: 12_345, exponent: -8), side: .buy, sequence: UInt64(1_000_000 + index),
                venueTimeNanos: now, publishTimeNanos: now + 1_000)
            let payload = WireCodec.encode(tick)
            let start = buffer.writerIndex
            let offset = 1_000_000 + Int64(index)
            let transcoded = try payload.withUnsafeBytes { raw in
                try TickTranscoder.transcodeTimed(
                    kafkaPayload: raw,
                    stamp: KafkaStamp(partition: 3, offset: offset, kafkaTimeMillis: now / 1_000_000, receiveTimeNanos: now + 2_000),
                    into: &buffer)
            }
            let key = keys.id(of: .init(venue: transcoded.venue, symbol: transcoded.symbol))!
            entries.append(.init(key: key, partition: 3, offset: offset, start: start, length: buffer.writerIndex - start))
        }
        fanout.learnKeys()
        return Batch(batch: TickFrameBatch(buffer: buffer, entries: entries))
    }

    /// Deliveries one batch makes.
    public func deliveries(of batch: Batch) -> Int {
        batch.batch.entries.reduce(0) { total, tick in
            total + (Int(tick.key) < fanout.entries.count ? fanout.entries[Int(tick.key)].subscribers.count : 0)
        }
    }

    /// The measured step: route, copy to every subscribed stream, one
    /// write per connection.
    public func deliver(_ batch: Batch) {
        fanout.deliver([.ticks(batch.batch)])
    }
}
