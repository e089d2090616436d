import NIOCore
import Logging
import NIOEmbedded
import TickgateHTTP2
import TickgateKafka
import TickgateModel

/// The gateway's real delivery path without sockets or Kafka, for
/// micro-benchmarks (`Benchmarks/`): connection handlers in embedded
/// channels whose streams subscribed through real HTTP/2 and gRPC bytes,
/// fed with batches of ticks encoded by the real transcoder.
@_spi(Benchmarks)
public final class FanoutBenchHarness {
    public struct Batch {
        let batch: TickFrameBatch
        public var ticks: Int { batch.entries.count }
    }

    private let loop = EmbeddedEventLoop()
    private let fanout: LoopFanout
    private var channels: [EmbeddedChannel] = []
    private var clients: [NGHTTP2Session] = []
    public let streams: Int
    public let symbols: Int
    public let symbolsPerStream: Int

    /// `connections × streamsPerConnection` streams, each subscribed to
    /// `symbolsPerStream` of `symbols` symbols (`S<i>-USD`), spread evenly.
    public init(connections: Int, streamsPerConnection: Int, symbols: Int, symbolsPerStream: Int) throws {
        self.streams = connections * streamsPerConnection
        self.symbols = symbols
        self.symbolsPerStream = symbolsPerStream
        self.fanout = LoopFanout(eventLoop: loop, stats: GatewayStats())
        var configuration = GatewayConfiguration(kafka: KafkaConfiguration(brokers: "unused:1"))
        configuration.maxPendingBytesPerStream = 64 << 20
        var slot = 0
        for _ in 0..<connections {
            let handler = GatewayConnectionHandler(configuration: configuration, fanout: fanout, logger: .init(label: "bench"))
            let channel = EmbeddedChannel(handler: handler, loop: loop)
            try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
            var settings = NGHTTP2Session.Settings()
            settings.initialWindowSize = UInt32(Int32.max)
            settings.connectionWindowSize = Int32.max
            let client = NGHTTP2Session(role: .client, settings: settings)
            for _ in 0..<streamsPerConnection {
                let body = HTTP2OutboundStream()
                let wanted = (0..<symbolsPerStream).map { Self.symbol((slot * symbolsPerStream + $0) % symbols) }
                GRPCMessageFramer.writeMessage(into: &body.pending) {
                    WireCodec.encode(ClientMessage.subscribe(requestID: 1, symbols: wanted), into: &$0)
                }
                _ = client.submitRequest(headers: [
                    HTTP2Header(":method", "POST"), HTTP2Header(":scheme", "http"),
                    HTTP2Header(":path", GRPCProtocol.streamPath), HTTP2Header(":authority", "bench"),
                    HTTP2Header("content-type", GRPCProtocol.contentType), HTTP2Header("te", "trailers"),
                ], body: body)
                slot += 1
            }
            channels.append(channel)
            clients.append(client)
            try exchange(channel: channel, client: client)
        }
        guard fanout.table.count == streams * symbolsPerStream else {
            throw FanoutBenchError(detail: "only \(fanout.table.count) subscriptions took")
        }
    }

    deinit {
        for client in clients { client.close() }
        for channel in channels { _ = try? channel.finish() }
    }

    public static func symbol(_ index: Int) -> String { "S\(index)-USD" }

    /// `ticks` ticks round robin over the symbols, each decoded, stamped and
    /// encoded once by the gateway's transcoder.
    public func makeBatch(ticks: Int) throws -> Batch {
        var buffer = ByteBufferAllocator().buffer(capacity: ticks * 160)
        var entries: [TickFrameBatch.Entry] = []
        // Real-sized stamps (current Unix nanoseconds): ~120-byte messages.
        let now = WallClock.nowNanos()
        for index in 0..<ticks {
            let tick = Tick(
                symbol: Self.symbol(index % symbols), venue: "synthetic", price: ExactDecimal(mantissa: 6_500_012, exponent: -2),
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

    /// The measured step: route, copy to every subscribed stream, one write
    /// per connection. Returns the bytes the connections wrote.
    @discardableResult
    public func deliver(_ batch: Batch) -> Int {
        fanout.deliver([.ticks(batch.batch)])
        return drainOutbound()
    }

    /// Throws away what the connections wrote (the client's windows are
    /// huge, so no WINDOW_UPDATE is needed for a long time).
    public func drainOutbound() -> Int {
        var bytes = 0
        for channel in channels {
            while let buffer = try? channel.readOutbound(as: ByteBuffer.self) { bytes += buffer.readableBytes }
        }
        return bytes
    }

    private func exchange(channel: EmbeddedChannel, client: NGHTTP2Session) throws {
        for _ in 0..<10 {
            var toServer = ByteBuffer()
            try client.send(into: &toServer)
            if toServer.readableBytes > 0 { try channel.writeInbound(toServer) }
            var moved = toServer.readableBytes
            while let out = try channel.readOutbound(as: ByteBuffer.self) {
                try client.receive(out)
                moved += out.readableBytes
            }
            if moved == 0 { return }
        }
    }
}

@_spi(Benchmarks)
public struct FanoutBenchError: Error, CustomStringConvertible {
    public let detail: String
    public var description: String { "fan-out harness: \(detail)" }
}
