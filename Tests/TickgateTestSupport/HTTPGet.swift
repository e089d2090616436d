import NIOCore
import NIOPosix

/// A bare HTTP/1.1 GET (Connection: close) returning the whole response as
/// text: status line, headers and body.
public func httpGet(port: Int, path: String) async throws -> String {
    let promise = MultiThreadedEventLoopGroup.singleton.any().makePromise(of: String.self)
    let channel: any Channel
    do {
        channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(Collector(promise: promise))
                }
            }
            .connect(host: "127.0.0.1", port: port).get()
    } catch {
        // The promise is never completed by a channel: complete it, or NIO
        // traps on the leak (seen when a loaded box timed the connect out).
        promise.fail(error)
        throw error
    }
    var request = channel.allocator.buffer(capacity: 128)
    request.writeString("GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
    try await channel.writeAndFlush(request)
    return try await promise.futureResult.get()
}

private final class Collector: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    private var text = ""
    private let promise: EventLoopPromise<String>

    init(promise: EventLoopPromise<String>) { self.promise = promise }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var buffer = unwrapInboundIn(data)
        text += buffer.readString(length: buffer.readableBytes) ?? ""
    }

    func channelInactive(context: ChannelHandlerContext) { promise.succeed(text) }
    func errorCaught(context: ChannelHandlerContext, error: any Error) { promise.fail(error) }
}
