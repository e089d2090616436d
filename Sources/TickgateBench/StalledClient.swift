import NIOCore
import NIOPosix
import TickgateHTTP2
import TickgateModel

/// For the `stall` scenario: connections whose one stream subscribes and
/// then never reads (no WINDOW_UPDATE, a tiny socket receive buffer, reads
/// off), so the gateway's writes to it pile up as behind a dead mobile link.
enum StalledClient {
    static func open(host: String, port: Int, symbols: [String], group: any EventLoopGroup) async throws -> any Channel {
        var settings = NGHTTP2Session.Settings()
        settings.initialWindowSize = 65_535
        settings.connectionWindowSize = 65_535
        let session = NGHTTP2Session(role: .client, settings: settings)
        defer { session.close() }
        let outbound = HTTP2OutboundStream()
        outbound.pending.writeMessage { WireCodec.encode(ClientMessage.subscribe(requestID: 1, symbols: symbols), into: &$0) }
        _ = session.submitRequest(headers: [
            HTTP2Header(":method", "POST"), HTTP2Header(":scheme", "http"),
            HTTP2Header(":path", GRPCProtocol.streamPath), HTTP2Header(":authority", "\(host):\(port)"),
            HTTP2Header("content-type", GRPCProtocol.contentType), HTTP2Header("te", "trailers"),
        ], body: outbound)
        var bytes = ByteBuffer()
        try session.send(into: &bytes)
        let request = bytes
        let channel = try await ClientBootstrap(group: group)
            .channelOption(.autoRead, value: false)
            .channelOption(.socketOption(.so_rcvbuf), value: 4096)
            .connect(host: host, port: port).get()
        try await channel.writeAndFlush(request)
        return channel
    }
}
