import NIOCore
import NIOHTTP1

/// The first handler of a connection when the gateway also serves
/// browsers: reads until the bytes are (or cannot be) HTTP/2's client
/// preface, then puts the HTTP/2 connection or the HTTP/1.1 one in its
/// place and hands it what it read. Closes a connection that decides
/// nothing within the handshake timeout.
final class ProtocolSniffer: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer

    /// What the connection turned out to speak.
    enum Decision: Equatable {
        case http2
        case http1
    }

    static let preface = Array("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".utf8)

    /// Pure: nil while `bytes` could still be the preface.
    static func decide(_ bytes: UnsafeRawBufferPointer) -> Decision? {
        let n = min(bytes.count, preface.count)
        for i in 0..<n where bytes[i] != preface[i] { return .http1 }
        return n == preface.count ? .http2 : nil
    }

    private let makeHTTP2: () -> any ChannelHandler
    private let makeHTTP1: () -> [any ChannelHandler]
    private let timeout: TimeAmount?
    private let onTimeout: () -> Void
    private var buffered: ByteBuffer? = nil
    private var timer: Scheduled<Void>? = nil
    private var decided = false

    init(timeout: TimeAmount?, onTimeout: @escaping () -> Void,
         http2: @escaping () -> any ChannelHandler, http1: @escaping () -> [any ChannelHandler]) {
        self.timeout = timeout
        self.onTimeout = onTimeout
        self.makeHTTP2 = http2
        self.makeHTTP1 = http1
    }

    func handlerAdded(context: ChannelHandlerContext) {
        guard let timeout else { return }
        timer = context.eventLoop.assumeIsolatedUnsafeUnchecked().scheduleTask(in: timeout) { [self] in
            guard !decided else { return }
            onTimeout()
            context.close(promise: nil)
        }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        timer?.cancel()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var bytes = unwrapInboundIn(data)
        if buffered == nil {
            buffered = bytes
        } else {
            buffered!.writeBuffer(&bytes)
        }
        guard !decided, let decision = buffered!.withUnsafeReadableBytes(Self.decide) else { return }
        decided = true
        timer?.cancel()
        do {
            let handlers = decision == .http2 ? [makeHTTP2()] : makeHTTP1()
            try context.pipeline.syncOperations.addHandlers(handlers, position: .after(self))
        } catch {
            context.close(promise: nil)
            return
        }
        let read = buffered!
        buffered = nil
        context.fireChannelRead(NIOAny(read))
        context.fireChannelReadComplete()
        context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
    }
}
