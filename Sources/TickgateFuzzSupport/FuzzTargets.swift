import NIOCore
import NIOEmbedded
@_spi(Benchmarks) import TickgateGateway
import TickgateFeeds
import TickgateModel

/// What the fuzz harnesses (`Fuzz/`, a separate package built with
/// libFuzzer and AddressSanitizer) feed bytes into: the real code, no
/// sockets or Kafka. A target of its own, like the bench support, so that
/// NIOEmbedded never reaches the gateway. Each function must survive any
/// input; a crash, a sanitizer report or a hang is a finding.
public enum FuzzTargets {
    /// The client's connection preface and an empty SETTINGS frame.
    static let preface: [UInt8] = Array("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".utf8) + [0, 0, 0, 4, 0, 0, 0, 0, 0]

    /// Bytes from a client after its preface → nghttp2 server session →
    /// gRPC deframing → protobuf decoding → subscriptions; then a batch of
    /// ticks for the symbols a subscription may have named, and the
    /// connection's output drained.
    public static func gatewayConnection(_ data: UnsafeRawBufferPointer) {
        let loop = EmbeddedEventLoop()
        let core = FanoutBenchCore(eventLoop: loop)
        core.register(symbols: symbols)
        let channel = EmbeddedChannel(handler: core.makeConnectionHandler(), loop: loop)
        run(Array(preface) + Array(data), on: channel, core: core, loop: loop, cutAfter: preface.count)
    }

    /// Feeds `bytes` in two pieces (frames and requests split across reads
    /// are exercised too), delivers a batch of ticks for the symbols a
    /// request may have named, drains the output and closes.
    private static func run(_ bytes: [UInt8], on channel: EmbeddedChannel, core: FanoutBenchCore, loop: EmbeddedEventLoop, cutAfter: Int) {
        _ = try? channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        var input = channel.allocator.buffer(capacity: bytes.count)
        input.writeBytes(bytes)
        let cut = cutAfter + (bytes.count - cutAfter) / 2
        _ = try? channel.writeInbound(input.getSlice(at: 0, length: cut)!)
        _ = try? channel.writeInbound(input.getSlice(at: cut, length: input.readableBytes - cut)!)
        loop.run()
        if let batch = try? core.makeBatch(ticks: 4, symbols: symbols) { core.deliver(batch) }
        loop.run()
        while (try? channel.readOutbound(as: ByteBuffer.self)) ?? nil != nil {}
        _ = try? channel.close().wait()
        loop.run()
        try? loop.syncShutdownGracefully()
    }

    /// Bytes from a browser or a gRPC-Web client → NIO's HTTP/1.1 parser →
    /// the gateway's HTTP/1.1 connection (routes, CORS, gRPC-Web binary and
    /// text, SSE query parsing); then ticks for the symbols a request may
    /// have named (SSE transcoding), and the output drained.
    public static func webConnection(_ data: UnsafeRawBufferPointer) {
        let loop = EmbeddedEventLoop()
        let core = FanoutBenchCore(eventLoop: loop)
        core.register(symbols: symbols)
        let channel = EmbeddedChannel(loop: loop)
        _ = try? channel.pipeline.syncOperations.addHandlers(core.makeHTTP1Handlers())
        run(Array(data), on: channel, core: core, loop: loop, cutAfter: 0)
    }

    static let symbols = ["BTC-USD", "ETH-USD", "SOL-USDT", "X-Y"]

    /// One venue WebSocket message, as text.
    public static func venue(_ name: String, _ data: UnsafeRawBufferPointer) {
        let text = String(decoding: data, as: UTF8.self)
        switch name {
        case "binance":
            var parser = BinanceProtocol(streams: [.trade, .bookTicker])
            _ = parser.parse(text)
            _ = parser.parse(text)  // the same again: duplicate and gap handling
        case "coinbase":
            var parser = CoinbaseProtocol()
            _ = parser.parse(text)
            _ = parser.parse(text)
        default:
            var parser = KrakenProtocol()
            _ = parser.parse(text)
            _ = parser.parse(text)
        }
    }

    /// Lines of a replay file in each format.
    public static func replay(_ data: UnsafeRawBufferPointer) {
        let text = String(decoding: data, as: UTF8.self)
        for format in [ReplayFormat.binance, .csv, .ndjson] {
            var parser = ReplayParser(format: format, defaultSymbol: try? Symbol(validating: "BTC-USD"), defaultVenue: "replay")
            for line in text.split(separator: "\n", omittingEmptySubsequences: false) { _ = try? parser.parse(line) }
        }
    }

    /// The feeds' JSON reader.
    public static func jsonLine(_ data: UnsafeRawBufferPointer) {
        let text = String(decoding: data, as: UTF8.self)
        _ = try? JSONLine.parse(Substring(text))
        _ = try? JSONLine.parseObject(Substring(text))
    }
}
