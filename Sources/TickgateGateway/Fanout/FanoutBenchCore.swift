public import NIOCore
import Logging
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
    private let configuration: GatewayConfiguration

    public init(eventLoop: any EventLoop) {
        self.fanout = LoopFanout(eventLoop: eventLoop, stats: GatewayStats())
        var configuration = GatewayConfiguration(kafka: KafkaConfiguration(brokers: "unused:1"))
        configuration.maxPendingBytesPerStream = 64 << 20
        self.configuration = configuration
    }

    /// A gateway connection handler serving this fan-out.
    public func makeConnectionHandler() -> any ChannelHandler {
        GatewayConnectionHandler(configuration: configuration, fanout: fanout, logger: Logger(label: "bench"))
    }

    /// Subscriptions held by the streams of every handler made here.
    public var subscriptionCount: Int { fanout.table.count }

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
            let symbol = try payload.withUnsafeBytes { raw in
                try TickTranscoder.transcode(
                    kafkaPayload: raw,
                    stamp: KafkaStamp(partition: 3, offset: 1_000_000 + Int64(index), kafkaTimeMillis: now / 1_000_000, receiveTimeNanos: now + 2_000),
                    into: &buffer)
            }
            entries.append(.init(symbol: symbol, start: start, length: buffer.writerIndex - start))
        }
        return Batch(batch: TickFrameBatch(buffer: buffer, entries: entries))
    }

    /// Deliveries one batch makes.
    public func deliveries(of batch: Batch) -> Int {
        batch.batch.entries.reduce(0) { $0 + (fanout.table.subscribers(of: $1.symbol)?.count ?? 0) }
    }

    /// The measured step: route, copy to every subscribed stream, one
    /// write per connection.
    public func deliver(_ batch: Batch) {
        fanout.deliver([.ticks(batch.batch)])
    }
}
