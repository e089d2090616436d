import NIOCore
import NIOPosix
import TickgateHTTP2
import TickgateModel
import TickgateTLS

/// What the bench's streams speak to the gateway (all over HTTP/2).
public enum BenchProtocol: String, Sendable, CaseIterable, Codable {
    /// `PriceStream/Stream`, `application/grpc`.
    case grpc
    /// `PriceStream/Watch`, `application/grpc-web+proto`: the bytes a
    /// browser's gRPC-Web client gets.
    case grpcWeb = "grpc-web"
    /// `GET /v1/ticks`: Server-Sent Events, JSON per tick.
    case sse
}

/// The bench's gRPC client: many connections and streams on one event loop,
/// an nghttp2 client session per connection, and wire-level probing of each
/// tick, so that it costs well under a microsecond per delivery.
final class LoadClientHandler: ChannelInboundHandler, NGHTTP2SessionDelegate {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    /// A class: a struct in the dictionary would be copied, with its
    /// buffer, on every DATA chunk.
    private final class StreamState {
        let slot: Int
        var deframer: GRPCMessageDeframer
        let outbound: HTTP2OutboundStream
        /// Bytes of a message cut by a DATA frame boundary.
        var partial = false
        /// SSE: text of an event cut by a DATA frame boundary.
        var text: [UInt8] = []

        init(slot: Int, deframer: GRPCMessageDeframer, outbound: HTTP2OutboundStream) {
            self.slot = slot
            self.deframer = deframer
            self.outbound = outbound
        }
    }

    let recorder: BenchRecorder
    private let driver: HTTP2ChannelDriver
    private var session: NGHTTP2Session { driver.session }
    private let slots: [Int]
    private let authority: String
    private let scheme: String
    private var streams: [Int32: StreamState] = [:]
    private var context: ChannelHandlerContext?
    private let wire: BenchProtocol

    init(recorder: BenchRecorder, slots: [Int], authority: String, https: Bool = false, protocol wire: BenchProtocol = .grpc) {
        self.wire = wire
        self.scheme = https ? "https" : "http"
        self.recorder = recorder
        self.slots = slots
        self.authority = authority
        var settings = NGHTTP2Session.Settings()
        settings.initialWindowSize = 8 << 20
        settings.connectionWindowSize = 256 << 20
        self.driver = HTTP2ChannelDriver(session: NGHTTP2Session(role: .client, settings: settings))
        driver.session.delegate = self
    }

    func handlerAdded(context: ChannelHandlerContext) { self.context = context }
    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
        driver.close()
    }

    func channelActive(context: ChannelHandlerContext) {
        open()
        context.fireChannelActive()
    }

    /// Opens one stream per slot and subscribes it to its symbols.
    private func open() {
        for slot in slots {
            let outbound = HTTP2OutboundStream()
            let symbols = recorder.scenario.symbolIndices(ofStream: slot).map(BenchScenario.symbolName)
            let headers: [HTTP2Header]
            switch wire {
            case .grpc:
                headers = [
                    HTTP2Header(":method", "POST"), HTTP2Header(":scheme", scheme),
                    HTTP2Header(":path", GRPCProtocol.streamPath), HTTP2Header(":authority", authority),
                    HTTP2Header("content-type", GRPCProtocol.contentType), HTTP2Header("te", "trailers"),
                ]
                outbound.pending.writeMessage {
                    WireCodec.encode(ClientMessage.subscribe(requestID: UInt64(slot), symbols: symbols), into: &$0)
                }
            case .grpcWeb:
                headers = [
                    HTTP2Header(":method", "POST"), HTTP2Header(":scheme", scheme),
                    HTTP2Header(":path", GRPCProtocol.watchPath), HTTP2Header(":authority", authority),
                    HTTP2Header("content-type", GRPCWeb.Encoding.binary.responseContentType), HTTP2Header("x-grpc-web", "1"),
                ]
                outbound.pending.writeMessage {
                    WireCodec.encode(SubscribeRequest(requestID: UInt64(slot), symbols: symbols), into: &$0)
                }
                outbound.finish(trailers: nil)
            case .sse:
                headers = [
                    HTTP2Header(":method", "GET"), HTTP2Header(":scheme", scheme),
                    HTTP2Header(":path", "/v1/ticks?symbols=" + symbols.joined(separator: ",")), HTTP2Header(":authority", authority),
                    HTTP2Header("accept", "text/event-stream"),
                ]
            }
            guard let id = session.submitRequest(headers: headers, body: wire == .sse ? nil : outbound) else { continue }
            streams[id] = StreamState(slot: slot, deframer: GRPCMessageDeframer(maxMessageSize: 1 << 20), outbound: outbound)
        }
        flush()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        try? driver.read(unwrapInboundIn(data))
    }

    func channelReadComplete(context: ChannelHandlerContext) { flush() }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable { flush() }
        context.fireChannelWritabilityChanged()
    }

    func flush() {
        guard let context, !driver.inRead else { return }
        driver.flush(context: context)
    }

    func sessionDidReceiveData(_ bytes: UnsafeRawBufferPointer, streamID: Int32) {
        guard let state = streams[streamID] else { return }
        let now = WallClock.nowNanos()
        if wire == .sse {
            receivedEvents(bytes, state: state, now: now)
            return
        }
        var rest = bytes
        if !state.partial {
            // Fast path: whole messages straight from nghttp2's buffer.
            while rest.count >= 5 {
                let length = Int(rest[1]) << 24 | Int(rest[2]) << 16 | Int(rest[3]) << 8 | Int(rest[4])
                guard rest.count >= 5 + length else { break }
                handle(UnsafeRawBufferPointer(rebasing: rest[5..<(5 + length)]), slot: state.slot, now: now)
                rest = UnsafeRawBufferPointer(rebasing: rest[(5 + length)...])
            }
            guard !rest.isEmpty else { return }
        }
        state.deframer.append(rest)
        while let message = try? state.deframer.next() {
            message.withUnsafeReadableBytes { handle($0, slot: state.slot, now: now) }
        }
        state.partial = state.deframer.hasBufferedBytes
    }

    @inline(__always)
    private func handle(_ message: UnsafeRawBufferPointer, slot: Int, now: Int64) {
        switch TickProbe.probeServerMessage(message) {
        case .tick(let tick): recorder.record(slot: slot, tick: tick, now: now)
        case .ack: recorder.acks += 1
        case .error: recorder.errors += 1
        case .other: break
        }
    }

    /// Server-Sent Events: each `data: {…}` line of an unnamed event is a
    /// tick (its fields in ``TickJSON``'s fixed order); `event: ack` counts.
    private func receivedEvents(_ bytes: UnsafeRawBufferPointer, state: StreamState, now: Int64) {
        state.text.append(contentsOf: bytes)
        var start = 0
        state.text.withUnsafeBufferPointer { text in
            var index = 0
            while index + 1 < text.count {
                guard text[index] == 10, text[index + 1] == 10 else {
                    index += 1
                    continue
                }
                let event = UnsafeBufferPointer(rebasing: text[start..<index])
                switch SSEProbe.probe(event) {
                case .tick(let tick): recorder.record(slot: state.slot, tick: tick, now: now)
                case .ack: recorder.acks += 1
                case .error: recorder.errors += 1
                case .other: break
                }
                index += 2
                start = index
            }
        }
        state.text.removeFirst(start)
    }

    func sessionDidReceiveHeaders(_ headers: [HTTP2Header], streamID: Int32, endStream: Bool) {
        if let status = headers[first: "grpc-status"], status != "0" { recorder.errors += 1 }
    }
    func sessionDidReceiveEndStream(streamID: Int32) {}
    func sessionDidCloseStream(streamID: Int32, errorCode: UInt32) {
        streams.removeValue(forKey: streamID)
    }
}

/// Connects the scenario's connections and opens its streams, spread over
/// the group's loops (one recorder per loop, no locks: the totals are
/// gathered from each loop and merged).
final class LoadClient: Sendable {
    private let recorders: [NIOLoopBound<BenchRecorder>]
    private let channels: [any Channel]

    private init(recorders: [NIOLoopBound<BenchRecorder>], channels: [any Channel]) {
        self.recorders = recorders
        self.channels = channels
    }

    static func connect(
        scenario: BenchScenario, host: String, port: Int, loops: [any EventLoop], tls: TLSContext? = nil,
        protocol wire: BenchProtocol = .grpc
    ) async throws -> LoadClient {
        precondition(!loops.isEmpty)
        var recorders: [NIOLoopBound<BenchRecorder>] = []
        for loop in loops {
            recorders.append(try await loop.submit { NIOLoopBound(BenchRecorder(scenario: scenario), eventLoop: loop) }.get())
        }
        var channels: [any Channel] = []
        let authority = "\(host):\(port)"
        var nextSlot = 0
        // Connect in waves, so that 10,000 connections do not overflow the backlog.
        let wave = 256
        var connection = 0
        while connection < scenario.connections {
            let upper = min(scenario.connections, connection + wave)
            var futures: [EventLoopFuture<any Channel>] = []
            for index in connection..<upper {
                let count = scenario.streams / scenario.connections + (index < scenario.streams % scenario.connections ? 1 : 0)
                let slots = Array(nextSlot..<(nextSlot + count))
                nextSlot += count
                let recorder = recorders[index % recorders.count]
                futures.append(ClientBootstrap(group: loops[index % loops.count])
                    .channelOption(.socketOption(.tcp_nodelay), value: 1)
                    .channelInitializer { channel in
                        channel.eventLoop.makeCompletedFuture {
                            if let tls { try channel.pipeline.syncOperations.addHandler(try tls.makeHandler()) }
                            let handler = LoadClientHandler(
                                recorder: recorder.value, slots: slots, authority: authority, https: tls != nil, protocol: wire)
                            try channel.pipeline.syncOperations.addHandler(handler)
                        }
                    }
                    .connect(host: host, port: port))
            }
            for future in futures { channels.append(try await future.get()) }
            connection = upper
        }
        return LoadClient(recorders: recorders, channels: channels)
    }

    /// Runs `body` on every loop with its recorder; the answers in loop order.
    func eachRecorder<T: Sendable>(_ body: @escaping @Sendable (BenchRecorder) -> T) async throws -> [T] {
        var answers: [T] = []
        for recorder in recorders {
            answers.append(try await recorder.eventLoop.submit { body(recorder.value) }.get())
        }
        return answers
    }

    /// The sum of `count` over every loop's recorder.
    func total(_ count: @escaping @Sendable (BenchRecorder) -> Int) async throws -> Int {
        try await eachRecorder(count).reduce(0, +)
    }

    func close() async {
        for channel in channels { try? await channel.close() }
    }
}
