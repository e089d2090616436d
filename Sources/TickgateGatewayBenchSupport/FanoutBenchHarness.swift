import NIOCore
import NIOEmbedded
@_spi(Benchmarks) import TickgateGateway
import TickgateHTTP2
import TickgateModel

/// The gateway's real delivery path without sockets or Kafka, for the
/// micro-benchmarks (`Benchmarks/`): connection handlers in embedded
/// channels whose streams subscribed through real HTTP/2 and gRPC bytes,
/// fed with batches of ticks encoded by the real transcoder. A target of
/// its own, so that `NIOEmbedded` never reaches the gateway.
public final class FanoutBenchHarness {
    /// Ticks encoded once, ready to deliver.
    public struct Batch {
        let encoded: FanoutBenchCore.Batch
        public var ticks: Int { encoded.ticks }
    }

    private let loop = EmbeddedEventLoop()
    private let core: FanoutBenchCore
    private var channels: [EmbeddedChannel] = []
    private var clients: [NGHTTP2Session] = []
    public let streams: Int
    public let symbols: Int
    public let symbolsPerStream: Int

    /// `connections × streamsPerConnection` streams, each subscribed to
    /// `symbolsPerStream` of `symbols` symbols (`S<i>-USD`), spread evenly.
    /// The clients never return window: `streamWindow` is what each stream
    /// may ever receive (huge by default).
    public init(
        connections: Int, streamsPerConnection: Int, symbols: Int, symbolsPerStream: Int, streamWindow: UInt32 = UInt32(Int32.max)
    ) throws {
        self.streams = connections * streamsPerConnection
        self.symbols = symbols
        self.symbolsPerStream = symbolsPerStream
        self.core = FanoutBenchCore(eventLoop: loop)
        core.register(symbols: (0..<symbols).map(Self.symbol))
        var slot = 0
        for _ in 0..<connections {
            let channel = EmbeddedChannel(handler: core.makeConnectionHandler(), loop: loop)
            try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
            var settings = NGHTTP2Session.Settings()
            settings.initialWindowSize = streamWindow
            settings.connectionWindowSize = Int32.max
            let client = NGHTTP2Session(role: .client, settings: settings)
            for _ in 0..<streamsPerConnection {
                let body = HTTP2OutboundStream()
                let wanted = (0..<symbolsPerStream).map { Self.symbol((slot * symbolsPerStream + $0) % symbols) }
                body.pending.writeMessage {
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
        guard core.subscriptionCount == streams * symbolsPerStream else {
            throw FanoutBenchError(detail: "only \(core.subscriptionCount) subscriptions took")
        }
    }

    deinit {
        for client in clients { client.close() }
        for channel in channels { _ = try? channel.finish() }
    }

    public static func symbol(_ index: Int) -> String { "S\(index)-USD" }

    /// `ticks` ticks round robin over the symbols.
    public func makeBatch(ticks: Int) throws -> Batch {
        Batch(encoded: try core.makeBatch(ticks: ticks, symbols: (0..<symbols).map(Self.symbol)))
    }

    /// Deliveries one batch makes.
    public func deliveries(of batch: Batch) -> Int { core.deliveries(of: batch.encoded) }

    /// Bytes of live ticks that streams could not send in their delivery
    /// pass and copied into their queues (a second copy).
    public var deliveryBytesHeld: Int { core.deliveryBytesHeld }

    /// The measured step: route, copy to every subscribed stream, one write
    /// per connection. Returns the bytes the connections wrote.
    @discardableResult
    public func deliver(_ batch: Batch) -> Int {
        core.deliver(batch.encoded)
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

public struct FanoutBenchError: Error, CustomStringConvertible {
    public let detail: String
    public var description: String { "fan-out harness: \(detail)" }
}
