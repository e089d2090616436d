public import NIOCore
import NIOPosix
import TickgateHTTP2

/// A bare HTTP/2 client over nghttp2 that sends whatever headers and bytes
/// a test asks for (unknown paths, bad content types, non-protobuf bodies,
/// oversized messages) and reports exactly what came back.
public enum RawGRPCClient {
    public struct Response: Sendable {
        public var headers: [(String, String)]
        public var trailers: [(String, String)]
        public var data: [UInt8]
        public var resetCode: UInt32?
        /// The GOAWAY the server sent, if any.
        public var goAway: (code: UInt32, debug: String)?

        public func field(_ name: String) -> String? {
            (trailers + headers).first { $0.0 == name }?.1
        }
        public var grpcStatus: Int? { field("grpc-status").flatMap { Int($0) } }
        public var httpStatus: Int? { headers.first { $0.0 == ":status" }.flatMap { Int($0.1) } }
    }

    /// One request; `body` is sent as is, then END_STREAM (on the HEADERS
    /// frame itself with `headersOnly`, on `trailers` when given). The
    /// answer is complete when the stream closes, or as soon as `until`
    /// holds for what arrived (the connection then closes).
    public static func call(
        port: Int, path: String = "/tickgate.v1.PriceStream/Stream", contentType: String = "application/grpc",
        extraHeaders: [(String, String)] = [], body: [UInt8], method: String = "POST",
        headersOnly: Bool = false, trailers: [(String, String)]? = nil,
        until: (@Sendable (Response) -> Bool)? = nil
    ) async throws -> Response {
        let promise = MultiThreadedEventLoopGroup.singleton.any().makePromise(of: Response.self)
        var headers = [
            HTTP2Header(":method", method), HTTP2Header(":scheme", "http"), HTTP2Header(":path", path),
            HTTP2Header(":authority", "127.0.0.1:\(port)"), HTTP2Header("content-type", contentType),
            HTTP2Header("te", "trailers"),
        ]
        headers += extraHeaders.map { HTTP2Header($0.0, $0.1) }
        let requestHeaders = headers
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connect(host: "127.0.0.1", port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(RawHandler(
                        headers: requestHeaders, body: body, headersOnly: headersOnly,
                        trailers: trailers?.map { HTTP2Header($0.0, $0.1) }, until: until, promise: promise))
                    return channel
                }
            }
        defer { channel.close(promise: nil) }
        // A server that never answers fails the test instead of hanging it.
        let deadline = channel.eventLoop.scheduleTask(in: .seconds(20)) {
            promise.fail(RawGRPCTimeout(path: path))
        }
        defer { deadline.cancel() }
        return try await promise.futureResult.get()
    }

    public struct RawGRPCTimeout: Error, CustomStringConvertible {
        public let path: String
        public var description: String { "no complete answer to \(path) within 20 s" }
    }

    /// gRPC framing of `payload`: flag 0, big-endian length.
    public static func frame(_ payload: [UInt8]) -> [UInt8] {
        let n = UInt32(payload.count)
        return [0, UInt8(n >> 24), UInt8(n >> 16 & 0xFF), UInt8(n >> 8 & 0xFF), UInt8(n & 0xFF)] + payload
    }
}

private final class RawHandler: ChannelInboundHandler, NGHTTP2SessionDelegate {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    let session = NGHTTP2Session(role: .client)
    let headers: [HTTP2Header]
    let body: [UInt8]
    let headersOnly: Bool
    let trailers: [HTTP2Header]?
    let until: (@Sendable (RawGRPCClient.Response) -> Bool)?
    let promise: EventLoopPromise<RawGRPCClient.Response>
    var response = RawGRPCClient.Response(headers: [], trailers: [], data: [], resetCode: nil, goAway: nil)
    var sawHeaders = false
    var done = false
    var streamClosed = false
    var inRead = false

    init(
        headers: [HTTP2Header], body: [UInt8], headersOnly: Bool, trailers: [HTTP2Header]?,
        until: (@Sendable (RawGRPCClient.Response) -> Bool)?, promise: EventLoopPromise<RawGRPCClient.Response>
    ) {
        self.headers = headers
        self.body = body
        self.headersOnly = headersOnly
        self.trailers = trailers
        self.until = until
        self.promise = promise
        session.delegate = self
    }

    func channelActive(context: ChannelHandlerContext) {
        if headersOnly {
            _ = session.submitRequest(headers: headers, body: nil)
        } else {
            let outbound = HTTP2OutboundStream()
            outbound.pending.writeBytes(body)
            outbound.finish(trailers: trailers)
            _ = session.submitRequest(headers: headers, body: outbound)
        }
        flush(context)
        if streamClosed {
            complete()
            context.close(promise: nil)
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        try? session.receive(unwrapInboundIn(data))
        flush(context)
        // Completed after the whole read: a GOAWAY right behind the
        // stream's end is part of the answer.
        if streamClosed || (until?(response) ?? false) {
            complete()
            context.close(promise: nil)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        complete()
        session.close()
    }

    func flush(_ context: ChannelHandlerContext) {
        var out = context.channel.allocator.buffer(capacity: 1024)
        try? session.send(into: &out)
        if out.readableBytes > 0 { context.writeAndFlush(wrapOutboundOut(out), promise: nil) }
    }

    func complete() {
        guard !done else { return }
        done = true
        promise.succeed(response)  // a no-op if the deadline already failed it
    }

    func sessionDidReceiveHeaders(_ headers: [HTTP2Header], streamID: Int32, endStream: Bool) {
        let pairs = headers.map { ($0.name, $0.value) }
        if sawHeaders { response.trailers = pairs } else { response.headers = pairs }
        sawHeaders = true
    }

    func sessionDidReceiveData(_ bytes: UnsafeRawBufferPointer, streamID: Int32) {
        response.data.append(contentsOf: bytes)
    }

    func sessionDidReceiveEndStream(streamID: Int32) {}

    func sessionDidReceiveGoAway(errorCode: UInt32, debug: String) {
        response.goAway = (errorCode, debug)
    }

    func sessionDidCloseStream(streamID: Int32, errorCode: UInt32) {
        if errorCode != 0 { response.resetCode = errorCode }
        streamClosed = true
    }
}

extension RawGRPCClient {
    /// Opens a connection, sends one `Stream` request whose body is
    /// `body`, and then never reads from the socket: the gateway's writes
    /// are left to pile up, as with a stalled client. Close the channel to
    /// end it.
    public static func openStalledStream(port: Int, body: [UInt8]) async throws -> any Channel {
        var settings = NGHTTP2Session.Settings()
        settings.initialWindowSize = 65_535
        settings.connectionWindowSize = 65_535
        let session = NGHTTP2Session(role: .client, settings: settings)
        defer { session.close() }
        let outbound = HTTP2OutboundStream()
        outbound.pending.writeBytes(body)
        let headers = [
            HTTP2Header(":method", "POST"), HTTP2Header(":scheme", "http"),
            HTTP2Header(":path", "/tickgate.v1.PriceStream/Stream"), HTTP2Header(":authority", "127.0.0.1"),
            HTTP2Header("content-type", "application/grpc"), HTTP2Header("te", "trailers"),
        ]
        _ = session.submitRequest(headers: headers, body: outbound)
        var bytes = ByteBuffer()
        try session.send(into: &bytes)
        let request = bytes
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelOption(.autoRead, value: false)
            .channelOption(.socketOption(.so_rcvbuf), value: 4096)
            .connect(host: "127.0.0.1", port: port).get()
        try await channel.writeAndFlush(request)
        return channel
    }
}
