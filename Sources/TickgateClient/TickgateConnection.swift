import NIOCore
import NIOPosix
import TickgateHTTP2
import TickgateTLS
public import TickgateModel

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
    private let maxBufferedTicks: Int

    private init(channel: any Channel, handler: NIOLoopBound<ClientConnectionHandler>, address: String, maxBufferedTicks: Int) {
        self.channel = channel
        self.handler = handler
        self.address = address
        self.maxBufferedTicks = maxBufferedTicks
    }

    /// - Parameters:
    ///   - maxBufferedTicks: ticks a stream keeps for the app before it stops
    ///     returning HTTP/2 window to the gateway. A stream holds at most this
    ///     many ticks plus one `receiveWindow` of bytes; a reader that stays
    ///     behind is then the gateway's slow client (reset, RESOURCE_EXHAUSTED)
    ///     instead of growing this process's memory.
    ///   - receiveWindow: each stream's HTTP/2 receive window, in bytes.
    ///   - credentials: the API key (for gateways that have keys).
    public static func connect(
        host: String, port: Int, credentials: Credentials = .none, connectTimeout: Duration = .seconds(5),
        maxMessageSize: Int = 4 * 1024 * 1024, maxBufferedTicks: Int = 8192, receiveWindow: Int = 4 << 20
    ) async throws(TickgateClientError) -> TickgateConnection {
        let address = "\(host):\(port)"
        let tls: TLSContext?
        do {
            tls = try credentials.tls.map { options throws(TLSError) in
                var certificate: TLSConfiguration.CertificateFiles? = nil
                if let chain = options.certificateFile {
                    certificate = .init(chain: chain, key: options.privateKeyFile ?? chain)
                }
                return try TLSContext(.grpcClient(serverName: options.serverName ?? host, trustedCAFile: options.caFile, certificate: certificate))
            }
        } catch {
            throw .cannotConnect(address: address, detail: "\(error)")
        }
        let scheme = tls == nil ? "http" : "https"
        do {
            let (channel, handler) = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .connectTimeout(.nanoseconds(connectTimeout.wholeNanoseconds))
                .channelOption(.socketOption(.tcp_nodelay), value: 1)
                .connect(host: host, port: port) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        if let tls { try channel.pipeline.syncOperations.addHandler(try tls.makeHandler()) }
                        let handler = ClientConnectionHandler(
                            authority: address, scheme: scheme, apiKey: credentials.apiKey, maxMessageSize: maxMessageSize, receiveWindow: max(65_535, receiveWindow))
                        try channel.pipeline.syncOperations.addHandler(handler)
                        return (channel, NIOLoopBound(handler, eventLoop: channel.eventLoop))
                    }
                }
            return TickgateConnection(channel: channel, handler: handler, address: address, maxBufferedTicks: max(1, maxBufferedTicks))
        } catch {
            throw .cannotConnect(address: address, detail: Self.describe(error))
        }
    }

    /// Opens a `PriceStream/Stream` call.
    public func openStream() async throws -> TickStream {
        // Bounded: an app that never reads them does not grow memory.
        let (statuses, statusContinuation) = AsyncStream<SymbolStatusUpdate>.makeStream(bufferingPolicy: .bufferingNewest(1024))
        let (heartbeats, heartbeatContinuation) = AsyncStream<Int64>.makeStream(bufferingPolicy: .bufferingNewest(1))
        let (resumes, resumeContinuation) = AsyncStream<ResumeStatus>.makeStream(bufferingPolicy: .bufferingNewest(1024))
        let handler = self.handler
        let eventLoop = channel.eventLoop
        let streamID = StreamIDBox()
        let buffer = TickBuffer(highWatermark: maxBufferedTicks) {
            eventLoop.execute {
                if let id = streamID.value { handler.value.readerCaughtUp(streamID: id) }
            }
        }
        let id = try await eventLoop.submit {
            let id = try handler.value.openStream(ticks: buffer, statuses: statusContinuation, heartbeats: heartbeatContinuation, resumes: resumeContinuation)
            streamID.value = id
            return id
        }.get()
        return TickStream(streamID: id, handler: handler, eventLoop: eventLoop, ticks: TickSequence(buffer: buffer), statuses: statuses,
            heartbeats: heartbeats, resumes: resumes)
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
/// At most `maxBufferedTicks` (plus one receive window) wait for the app:
/// a reader that falls further behind stops the gateway sending, and the
/// gateway then resets the stream as too slow.
public final class TickStream: Sendable {
    private let streamID: Int32
    private let handler: NIOLoopBound<ClientConnectionHandler>
    private let eventLoop: any EventLoop
    public let ticks: TickSequence
    /// Pairs going stale (no tick for the gateway's limit), coming back,
    /// or first seen and matched by a pattern. The newest 1,024 are kept.
    public let statuses: AsyncStream<SymbolStatusUpdate>
    /// The gateway's clock (Unix ns) from each heartbeat: the stream had
    /// no other traffic for the gateway's interval. The newest is kept.
    public let heartbeats: AsyncStream<Int64>
    /// For each resumed (or time-started) symbol: whether every tick after
    /// the asked position follows, before its replayed ticks do.
    public let resumes: AsyncStream<ResumeStatus>

    init(
        streamID: Int32, handler: NIOLoopBound<ClientConnectionHandler>, eventLoop: any EventLoop,
        ticks: TickSequence, statuses: AsyncStream<SymbolStatusUpdate>, heartbeats: AsyncStream<Int64>,
        resumes: AsyncStream<ResumeStatus>
    ) {
        self.heartbeats = heartbeats
        self.resumes = resumes
        self.streamID = streamID
        self.handler = handler
        self.eventLoop = eventLoop
        self.ticks = ticks
        self.statuses = statuses
    }

    /// Subscribes; returns once the gateway acknowledged, with the symbols
    /// it accepted and those it refused (and why).
    /// `symbols` may hold patterns (`BTC-*`, `*-USD`, `*`).
    public func subscribe(_ symbols: [String], options: SubscriptionOptions = SubscriptionOptions()) async throws -> SubscriptionResult {
        try await request {
            .subscribe(SubscribeRequest(
                requestID: $0, symbols: symbols, venue: options.venue, snapshot: options.snapshot, maxRate: options.maxRate,
                lossless: options.lossless, resume: options.resume, sinceTimeMillis: options.sinceTimeMillis,
                liveWhenMissing: options.liveWhenMissing))
        }
    }

    /// Removes symbols or patterns as they were subscribed (with the same venue).
    public func unsubscribe(_ symbols: [String], venue: String = "") async throws -> SubscriptionResult {
        try await request { .unsubscribe(requestID: $0, symbols: symbols, venue: venue) }
    }

    /// Round trip to the gateway, with its clock reading.
    public func ping() async throws -> PingResult {
        let handler = self.handler
        let streamID = self.streamID
        let eventLoop = self.eventLoop
        return try await endingReason {
            try await withCheckedThrowingContinuation { continuation in
                eventLoop.execute { handler.value.ping(on: streamID, continuation: continuation) }
            }
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
        return try await endingReason {
            try await withCheckedThrowingContinuation { continuation in
                eventLoop.execute { handler.value.request(on: streamID, continuation: continuation, make) }
            }
        }
    }

    /// A call that ended before a request reached it (refused at once:
    /// UNAUTHENTICATED, a limit) says why, not only that it is closed.
    private func endingReason<T>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch TickgateClientError.connectionClosed {
            throw ticks.buffer.endError ?? TickgateClientError.connectionClosed
        }
    }
}

/// The stream id, set on the event loop once the stream is open and read
/// there only (by the buffer's resume hop).
private final class StreamIDBox: @unchecked Sendable {
    var value: Int32?
}
