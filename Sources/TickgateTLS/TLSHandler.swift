public import NIOCore

/// A TLS context (configuration + loaded certificates), shared by the
/// connections that use it.
public final class TLSContext: Sendable {
    let context: OpenSSLContext

    public init(_ configuration: TLSConfiguration) throws(TLSError) {
        self.context = try OpenSSLContext(configuration)
    }

    /// A handler for one connection; put it first in the channel's pipeline.
    public func makeHandler() throws(TLSError) -> TLSHandler {
        TLSHandler(connection: try OpenSSLConnection(context: context))
    }
}

/// TLS over one NIO channel, through OpenSSL with memory BIOs: ciphertext
/// below, plaintext above. Writes made before the handshake completes wait
/// and go out after it.
public final class TLSHandler: ChannelDuplexHandler {
    public typealias InboundIn = ByteBuffer
    public typealias InboundOut = ByteBuffer
    public typealias OutboundIn = ByteBuffer
    public typealias OutboundOut = ByteBuffer

    private let connection: OpenSSLConnection
    private var handshakeDone = false
    private var failed = false
    private var pending: [(ByteBuffer, EventLoopPromise<Void>?)] = []

    init(connection: OpenSSLConnection) {
        self.connection = connection
    }

    public func channelActive(context: ChannelHandlerContext) {
        advanceHandshake(context: context)
        context.fireChannelActive()
    }

    public func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { advanceHandshake(context: context) }
    }

    public func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let bytes = unwrapInboundIn(data)
        bytes.withUnsafeReadableBytes { connection.feed($0) }
        if !handshakeDone {
            advanceHandshake(context: context)
            guard handshakeDone else { return }
        }
        var plain: [UInt8] = []
        let progress = connection.read(into: &plain)
        if !plain.isEmpty {
            context.fireChannelRead(wrapInboundOut(context.channel.allocator.buffer(bytes: plain)))
        }
        flushCiphertext(context: context, promise: nil)
        switch progress {
        case .done:
            context.close(promise: nil)  // the peer sent close_notify
        case .failed(let detail):
            fail(context: context, detail)
        case .wantsMore:
            break
        }
    }

    public func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let bytes = unwrapOutboundIn(data)
        guard handshakeDone else {
            pending.append((bytes, promise))
            return
        }
        encrypt(bytes, context: context, promise: promise)
    }

    public func flush(context: ChannelHandlerContext) {
        flushCiphertext(context: context, promise: nil)
    }

    public func close(context: ChannelHandlerContext, mode: CloseMode, promise: EventLoopPromise<Void>?) {
        if mode == .all, handshakeDone, !failed {
            connection.shutdown()
            flushCiphertext(context: context, promise: nil)
        }
        context.close(mode: mode, promise: promise)
    }

    public func channelInactive(context: ChannelHandlerContext) {
        failPending(TLSError(detail: "connection closed"))
        connection.close()
        context.fireChannelInactive()
    }

    private func advanceHandshake(context: ChannelHandlerContext) {
        switch connection.handshake() {
        case .done:
            handshakeDone = true
            flushCiphertext(context: context, promise: nil)
            let waiting = pending
            pending.removeAll()
            for (bytes, promise) in waiting { encrypt(bytes, context: context, promise: promise) }
        case .wantsMore:
            flushCiphertext(context: context, promise: nil)
        case .failed(let detail):
            flushCiphertext(context: context, promise: nil)
            fail(context: context, "handshake failed: \(detail)")
        }
    }

    private func encrypt(_ bytes: ByteBuffer, context: ChannelHandlerContext, promise: EventLoopPromise<Void>?) {
        let progress = bytes.withUnsafeReadableBytes { connection.write($0) }
        if case .failed(let detail) = progress {
            promise?.fail(TLSError(detail: detail))
            fail(context: context, detail)
            return
        }
        flushCiphertext(context: context, promise: promise)
    }

    private func flushCiphertext(context: ChannelHandlerContext, promise: EventLoopPromise<Void>?) {
        var out: [UInt8] = []
        connection.drainOutput(into: &out)
        if out.isEmpty {
            promise?.succeed(())
            return
        }
        context.writeAndFlush(wrapOutboundOut(context.channel.allocator.buffer(bytes: out)), promise: promise)
    }

    private func fail(context: ChannelHandlerContext, _ detail: String) {
        guard !failed else { return }
        failed = true
        let error = TLSError(detail: detail)
        failPending(error)
        context.fireErrorCaught(error)
        context.close(promise: nil)
    }

    private func failPending(_ error: TLSError) {
        let waiting = pending
        pending.removeAll()
        for (_, promise) in waiting { promise?.fail(error) }
    }
}
