public import NIOCore

/// A TLS context (configuration + loaded certificates), shared by the
/// connections that use it.
public final class TLSContext: Sendable {
    let context: OpenSSLContext

    public init(_ configuration: TLSConfiguration) throws(TLSError) {
        self.context = try OpenSSLContext(configuration)
    }

    /// A handler for one connection; put it first in the channel's
    /// pipeline. A handshake not done within `handshakeTimeout` closes
    /// the connection (a peer that starts one and never finishes holds
    /// nothing for long).
    public func makeHandler(handshakeTimeout: TimeAmount? = .seconds(10)) throws(TLSError) -> TLSHandler {
        TLSHandler(connection: try OpenSSLConnection(context: context), handshakeTimeout: handshakeTimeout)
    }
}

/// TLS over one NIO channel, through OpenSSL with memory BIOs: ciphertext
/// below, plaintext above. Writes made before the handshake completes wait
/// and go out after it. With ALPN h2 configured, a server refuses a client
/// that did not negotiate it (the error says so).
public final class TLSHandler: ChannelDuplexHandler {
    public typealias InboundIn = ByteBuffer
    public typealias InboundOut = ByteBuffer
    public typealias OutboundIn = ByteBuffer
    public typealias OutboundOut = ByteBuffer

    private let connection: OpenSSLConnection
    private let handshakeTimeout: TimeAmount?
    private var handshakeTimer: Scheduled<Void>?
    private var handshakeDone = false
    private var failed = false
    private var pending: [(ByteBuffer, EventLoopPromise<Void>?)] = []

    init(connection: OpenSSLConnection, handshakeTimeout: TimeAmount?) {
        self.connection = connection
        self.handshakeTimeout = handshakeTimeout
    }

    /// What ALPN settled on, once the handshake is done.
    public var negotiatedProtocol: String? { connection.negotiatedProtocol }

    public func channelActive(context: ChannelHandlerContext) {
        startHandshake(context: context)
        context.fireChannelActive()
    }

    public func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { startHandshake(context: context) }
    }

    private func startHandshake(context: ChannelHandlerContext) {
        if handshakeTimer == nil, !handshakeDone, let handshakeTimeout {
            handshakeTimer = context.eventLoop.assumeIsolatedUnsafeUnchecked().scheduleTask(in: handshakeTimeout) { [self] in
                guard !handshakeDone else { return }
                fail(context: context, "handshake not finished within \(handshakeTimeout.nanoseconds / 1_000_000) ms")
            }
        }
        advanceHandshake(context: context)
    }

    public func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !failed else { return }
        let bytes = unwrapInboundIn(data)
        bytes.withUnsafeReadableBytes { connection.feed($0) }
        if !handshakeDone {
            advanceHandshake(context: context)
            guard handshakeDone else { return }
        }
        var plain = context.channel.allocator.buffer(capacity: 0)
        let progress = connection.read(into: &plain)
        if plain.readableBytes > 0 { context.fireChannelRead(wrapInboundOut(plain)) }
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
        handshakeTimer?.cancel()
        failPending(TLSError(detail: "connection closed"))
        connection.close()
        context.fireChannelInactive()
    }

    private func advanceHandshake(context: ChannelHandlerContext) {
        switch connection.handshake() {
        case .done:
            if case .server = connection.context.configuration.role, connection.context.configuration.alpnH2,
                connection.negotiatedProtocol != "h2"
            {
                flushCiphertext(context: context, promise: nil)
                fail(context: context, "the client did not negotiate ALPN h2 (gRPC needs HTTP/2 over TLS)")
                return
            }
            handshakeDone = true
            handshakeTimer?.cancel()
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
        var out = context.channel.allocator.buffer(capacity: 0)
        connection.drainOutput(into: &out)
        if out.readableBytes == 0 {
            promise?.succeed(())
            return
        }
        context.writeAndFlush(wrapOutboundOut(out), promise: promise)
    }

    private func fail(context: ChannelHandlerContext, _ detail: String) {
        guard !failed else { return }
        failed = true
        handshakeTimer?.cancel()
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
