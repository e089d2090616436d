import Synchronization
import Logging
import NIOCore
import TickgateHTTP2

/// One client connection: an nghttp2 server session driven by NIO. Lives on
/// its channel's event loop; everything it touches is loop-local.
final class GatewayConnectionHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    let configuration: GatewayConfiguration
    let fanout: LoopFanout
    let session: NGHTTP2Session
    let allocator: ByteBufferAllocator
    private let logger: Logger
    private var streams: [Int32: GatewayStream] = [:]
    private var dirtyStreams: [GatewayStream] = []
    private var context: ChannelHandlerContext?
    private var outBuffer: ByteBuffer
    private var inRead = false
    private var flushRequested = false
    /// Listed in the loop's dirty connections.
    var isDirty = false

    init(configuration: GatewayConfiguration, fanout: LoopFanout, logger: Logger) {
        self.configuration = configuration
        self.fanout = fanout
        self.logger = logger
        self.allocator = ByteBufferAllocator()
        var settings = NGHTTP2Session.Settings()
        settings.maxConcurrentStreams = UInt32(configuration.maxConcurrentStreamsPerConnection)
        self.session = NGHTTP2Session(role: .server, settings: settings)
        // Sized from the previous write, so that idle connections hold
        // almost nothing and busy ones rarely grow it.
        self.outBuffer = allocator.buffer(capacity: 0)
        session.delegate = self
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        fanout.stats.connections.add(1, ordering: .relaxed)
        if context.channel.isActive { flush() }
    }

    func channelActive(context: ChannelHandlerContext) {
        flush()
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let bytes = unwrapInboundIn(data)
        inRead = true
        defer { inRead = false }
        do {
            try session.receive(bytes)
        } catch {
            logger.debug("closing connection: \(error)")
            flush()
            context.close(promise: nil)
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        flush()
        context.fireChannelReadComplete()
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable { flush() }
        context.fireChannelWritabilityChanged()
    }

    func channelInactive(context: ChannelHandlerContext) {
        tearDown()
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        tearDown()
        self.context = nil
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        logger.debug("connection error: \(error)")
        context.close(promise: nil)
    }

    private var tornDown = false

    /// Frees every stream's subscriptions and the nghttp2 session. Idempotent.
    private func tearDown() {
        guard !tornDown else { return }
        tornDown = true
        let open = streams.values
        streams.removeAll()
        for stream in open { stream.closed() }
        dirtyStreams.removeAll()
        session.close()
        fanout.stats.connections.subtract(1, ordering: .relaxed)
    }

    // MARK: writing

    func streamBecameDirty(_ stream: GatewayStream) {
        dirtyStreams.append(stream)
        fanout.markDirty(self)
    }

    /// Control messages (acks, trailers, resets, publish summaries): flushed
    /// at the end of the read, or on the next loop turn when they come from
    /// outside a read.
    func requestFlush() {
        if inRead { return }
        fanout.markDirty(self)
        fanout.scheduleFlush()
    }

    /// Hands every ready stream to nghttp2 and writes what it produces, in
    /// one socket write. Skipped while the socket is not writable: bytes then
    /// wait in the streams' pending buffers, which are bounded.
    func flush() {
        for stream in dirtyStreams {
            stream.isDirty = false
            session.resume(stream.outbound)
        }
        defer {
            // What nghttp2 and the socket could not take now is the backlog.
            for stream in dirtyStreams { stream.checkBacklog() }
            dirtyStreams.removeAll(keepingCapacity: true)
        }
        guard let context, !tornDown, context.channel.isWritable else { return }
        do {
            try session.send(into: &outBuffer)
        } catch {
            logger.debug("closing connection: \(error)")
            context.close(promise: nil)
            return
        }
        if outBuffer.readableBytes > 0 {
            let written = outBuffer.readableBytes
            context.writeAndFlush(wrapOutboundOut(outBuffer), promise: nil)
            outBuffer = allocator.buffer(capacity: written < 1024 ? 0 : min(written, 256 * 1024))
        }
        if session.isFinished {
            context.close(promise: nil)
        }
    }
}

extension GatewayConnectionHandler: NGHTTP2SessionDelegate {
    func sessionDidReceiveHeaders(_ headers: [HTTP2Header], streamID: Int32, endStream: Bool) {
        if let stream = streams[streamID] {
            stream.receivedHeaders(headers, endStream: endStream)
            return
        }
        let stream = GatewayStream(streamID: streamID, connection: self)
        streams[streamID] = stream
        stream.receivedHeaders(headers, endStream: endStream)
    }

    func sessionDidReceiveData(_ bytes: UnsafeRawBufferPointer, streamID: Int32) {
        streams[streamID]?.receivedData(bytes)
    }

    func sessionDidReceiveEndStream(streamID: Int32) {
        streams[streamID]?.receivedEndStream()
    }

    func sessionDidCloseStream(streamID: Int32, errorCode: UInt32) {
        streams.removeValue(forKey: streamID)?.closed()
    }
}
