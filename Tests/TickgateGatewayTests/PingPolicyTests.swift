import NIOCore
import NIOPosix
import Testing
import TickgateGateway
import TickgateHTTP2
import TickgateTestSupport

/// The keepalive hook wired end to end: a client that floods PINGs gets
/// GOAWAY and its connection closed once a minimum interval is set, and
/// keeps its connection when none is.
@Suite(.serialized, .timeLimit(.minutes(1)))
struct PingPolicyTests {
    final class Pinger: ChannelInboundHandler, NGHTTP2SessionDelegate {
        typealias InboundIn = ByteBuffer
        let session = NGHTTP2Session(role: .client)
        let pings: Int
        /// The grpc-status of a call made right after the pings.
        let answered: EventLoopPromise<String>

        init(pings: Int, answered: EventLoopPromise<String>) {
            self.pings = pings
            self.answered = answered
            session.delegate = self
        }

        func channelActive(context: ChannelHandlerContext) {
            for _ in 0..<pings { session.submitPing() }
            _ = session.submitRequest(headers: [
                HTTP2Header(":method", "POST"), HTTP2Header(":scheme", "http"), HTTP2Header(":path", GRPCProtocol.streamPath),
                HTTP2Header(":authority", "test"), HTTP2Header("content-type", "application/grpc"), HTTP2Header("te", "trailers"),
            ], body: nil)
            var out = ByteBuffer()
            try? session.send(into: &out)
            context.writeAndFlush(NIOAny(out), promise: nil)
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            try? session.receive(unwrapInboundIn(data))
            var out = ByteBuffer()
            try? session.send(into: &out)
            if out.readableBytes > 0 { context.writeAndFlush(NIOAny(out), promise: nil) }
        }

        func channelInactive(context: ChannelHandlerContext) {
            answered.fail(ChannelError.eof)
            session.close()
        }

        func sessionDidReceiveHeaders(_ headers: [HTTP2Header], streamID: Int32, endStream: Bool) {
            if let status = headers[first: "grpc-status"] { answered.succeed(status) }
        }
        func sessionDidReceiveData(_ bytes: UnsafeRawBufferPointer, streamID: Int32) {}
        func sessionDidReceiveEndStream(streamID: Int32) {}
        func sessionDidCloseStream(streamID: Int32, errorCode: UInt32) {}
    }

    private func flood(port: Int, pings: Int) async throws -> (any Channel, EventLoopFuture<String>) {
        try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connect(host: "127.0.0.1", port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    let answered = channel.eventLoop.makePromise(of: String.self)
                    try channel.pipeline.syncOperations.addHandler(Pinger(pings: pings, answered: answered))
                    return (channel, answered.futureResult)
                }
            }
    }

    @Test func aPingFloodIsClosedWhenPingsArePoliced() async throws {
        let harness = try await GatewayHarness.start(partitions: 1) {
            $0.minPingInterval = .seconds(1)
            $0.maxConcurrentStreamsPerConnection = 10
        }
        let (channel, _) = try await flood(port: harness.port, pings: 10)
        try await channel.closeFuture.get()  // the gateway closed it
        #expect(await eventually { harness.gateway.stats.snapshot.connections == 0 })
        #expect(harness.gateway.stats.snapshot.pingFloodsClosed == 1)
        await harness.stop()
    }

    @Test func pingsAreAnsweredWhenNotPoliced() async throws {
        let harness = try await GatewayHarness.start(partitions: 1)
        let (channel, answered) = try await flood(port: harness.port, pings: 10)
        // The call made after the pings is answered on the same connection.
        #expect(try await answered.get() == "0")
        #expect(channel.isActive)
        try await channel.close()
        await harness.stop()
    }
}
