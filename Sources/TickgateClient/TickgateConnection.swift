import NIOCore
import NIOPosix
import TickgateHTTP2
import TickgateModel

/// One HTTP/2 connection to a Tickgate gateway. Open as many streams on it
/// as you like; each is an independent `PriceStream/Stream` call.
///
///     let connection = try await TickgateConnection.connect(host: "127.0.0.1", port: 50051)
///     let stream = try await connection.openStream()
///     let result = try await stream.subscribe(["BTC-USD", "ETH-USD"])
///     for try await delivery in stream.ticks { print(delivery.tick.price) }
public final class TickgateConnection: Sendable {
    private let channel: any Channel
    private let handler: NIOLoopBound<ClientConnectionHandler>
    public let address: String

    private init(channel: any Channel, handler: NIOLoopBound<ClientConnectionHandler>, address: String) {
        self.channel = channel
        self.handler = handler
        self.address = address
    }

    public static func connect(
        host: String, port: Int, connectTimeout: Duration = .seconds(5),
        maxMessageSize: Int = 4 * 1024 * 1024
    ) async throws(TickgateClientError) -> TickgateConnection {
        let address = "\(host):\(port)"
        do {
            let (channel, handler) = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .connectTimeout(.nanoseconds(connectTimeout.wholeNanoseconds))
                .channelOption(.socketOption(.tcp_nodelay), value: 1)
                .connect(host: host, port: port) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        let handler = ClientConnectionHandler(authority: address, maxMessageSize: maxMessageSize)
                        try channel.pipeline.syncOperations.addHandler(handler)
                        return (channel, NIOLoopBound(handler, eventLoop: channel.eventLoop))
                    }
                }
            return TickgateConnection(channel: channel, handler: handler, address: address)
        } catch {
            throw .cannotConnect(address: address, detail: Self.describe(error))
        }
    }

    /// Opens a `PriceStream/Stream` call.
    public func openStream() async throws -> TickStream {
        let (ticks, continuation) = AsyncThrowingStream<TickDelivery, any Error>.makeStream()
        let (statuses, statusContinuation) = AsyncStream<SymbolStatusUpdate>.makeStream()
        let handler = self.handler
        let streamID = try await channel.eventLoop.submit {
            try handler.value.openStream(ticks: continuation, statuses: statusContinuation)
        }.get()
        return TickStream(streamID: streamID, handler: handler, eventLoop: channel.eventLoop, ticks: ticks, statuses: statuses)
    }

    /// Sends GOAWAY and closes the socket; open streams end.
    public func close() async {
        let handler = self.handler
        try? await channel.eventLoop.submit { handler.value.close() }.get()
        try? await channel.closeFuture.get()
    }

    private static func describe(_ error: any Error) -> String {
        let text = "\(error)"
        if text.contains("connection reset") || text.contains("refused") || text.contains("ECONNREFUSED") || text.contains("errno: 111") {
            return "connection refused (is `tickgate serve` running there?)"
        }
        if error is ChannelError, case .connectTimeout = error as! ChannelError {
            return "timed out"
        }
        return text
    }
}

/// One `PriceStream/Stream` call: subscribe and unsubscribe at any time and
/// read ``ticks``. The sequence ends when the call ends: normally after the
/// stream is finished with nothing subscribed, or with an error.
///
/// Ticks are buffered in memory until read: read them promptly.
public final class TickStream: Sendable {
    private let streamID: Int32
    private let handler: NIOLoopBound<ClientConnectionHandler>
    private let eventLoop: any EventLoop
    public let ticks: AsyncThrowingStream<TickDelivery, any Error>
    /// Symbols going stale (no tick for the gateway's limit) and coming back.
    public let statuses: AsyncStream<SymbolStatusUpdate>

    init(
        streamID: Int32, handler: NIOLoopBound<ClientConnectionHandler>, eventLoop: any EventLoop,
        ticks: AsyncThrowingStream<TickDelivery, any Error>, statuses: AsyncStream<SymbolStatusUpdate>
    ) {
        self.streamID = streamID
        self.handler = handler
        self.eventLoop = eventLoop
        self.ticks = ticks
        self.statuses = statuses
    }

    /// Subscribes; returns once the gateway acknowledged, with the symbols
    /// it accepted and those it refused (and why).
    public func subscribe(_ symbols: [String]) async throws -> SubscriptionResult {
        try await request { .subscribe(requestID: $0, symbols: symbols) }
    }

    public func unsubscribe(_ symbols: [String]) async throws -> SubscriptionResult {
        try await request { .unsubscribe(requestID: $0, symbols: symbols) }
    }

    /// Round trip to the gateway, with its clock reading.
    public func ping() async throws -> PingResult {
        let handler = self.handler
        let streamID = self.streamID
        let eventLoop = self.eventLoop
        return try await withCheckedThrowingContinuation { continuation in
            eventLoop.execute { handler.value.ping(on: streamID, continuation: continuation) }
        }
    }

    /// Half-closes the call: no more requests. Ticks keep coming while
    /// anything is subscribed.
    public func finishRequests() {
        let handler = self.handler
        let streamID = self.streamID
        eventLoop.execute { handler.value.finishRequests(on: streamID) }
    }

    /// Cancels the call (RST_STREAM CANCEL); the ticks sequence finishes.
    public func cancel() {
        let handler = self.handler
        let streamID = self.streamID
        eventLoop.execute { handler.value.cancel(streamID: streamID) }
    }

    private func request(_ make: @escaping @Sendable (UInt64) -> ClientMessage) async throws -> SubscriptionResult {
        let handler = self.handler
        let streamID = self.streamID
        let eventLoop = self.eventLoop
        return try await withCheckedThrowingContinuation { continuation in
            eventLoop.execute { handler.value.request(on: streamID, continuation: continuation, make) }
        }
    }
}
