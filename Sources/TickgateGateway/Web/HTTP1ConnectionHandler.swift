import Synchronization
import Logging
import NIOCore
import NIOHTTP1
import TickgateHTTP2
import TickgateModel

/// One HTTP/1.1 client connection (browsers without TLS, `curl`,
/// gRPC-Web clients): the same calls as HTTP/2 (``StreamCall``,
/// ``UnaryCall``…) behind ``CallContext``, one request at a time, their
/// bytes written as chunks (gRPC-Web, base64 in text mode) or as
/// Server-Sent Events (``SSEStream``). Pipelined requests wait their turn
/// (a bounded number). Lives on its channel's event loop.
final class HTTP1ConnectionHandler: ChannelInboundHandler, ClientConnection {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private enum Exchange {
        /// Between requests.
        case none
        /// A complete response went out; the request's body is dropped.
        case answered
        /// A gRPC-Web call or an SSE stream in progress.
        case call(any GatewayCall)
    }

    private let fanout: LoopFanout
    private let logger: Logger
    private let web: WebEndpoints
    private let refusal: String?
    private var admission: CallAdmission
    private(set) var callContext: CallContext!
    private var context: ChannelHandlerContext?

    private var exchange: Exchange = .none
    private var version: HTTPVersion = .http1_1
    private var keepAlive = true
    private var requestEnded = true
    private var responseEnded = true
    private var responseHeaders: HTTPHeaders = [:]
    private var headSent = false
    private var textDecoder: Base64.StreamDecoder? = nil
    /// Parts of pipelined requests, waiting for the current exchange.
    private var waiting: [HTTPServerRequestPart] = []
    private static let maxWaitingParts = 64
    private var nextStreamID: Int32 = 1
    /// The current call's grpc-timeout.
    private var deadline: Scheduled<Void>? = nil

    private var conflating: [StreamCall] = []
    private var dirty = false
    private var flushing = false
    private var draining = false
    private var tornDown = false
    private var closing = false

    private let idleTimeout: TimeAmount?
    private let firstRequestTimeout: TimeAmount?
    private let openedAt = NIODeadline.now()
    private var lastActivity = NIODeadline.now()
    private var requestsSeen = 0

    init(configuration: GatewayConfiguration, fanout: LoopFanout, logger: Logger, web: WebEndpoints, refusal: String?) {
        self.fanout = fanout
        self.logger = logger
        self.web = web
        self.refusal = refusal
        self.admission = CallAdmission(
            access: configuration.access, publishEnabled: configuration.enablePublish && fanout.publish != nil, stats: fanout.stats)
        self.idleTimeout = configuration.idleTimeout.map { .nanoseconds($0.wholeNanoseconds) }
        self.firstRequestTimeout = configuration.handshakeTimeout.map { .nanoseconds($0.wholeNanoseconds) }
        self.callContext = CallContext(connection: self, fanout: fanout, limits: .init(configuration), allocator: ByteBufferAllocator())
    }

    // MARK: channel events

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        fanout.stats.connections.add(1, ordering: .relaxed)
        fanout.stats.http1Connections.add(1, ordering: .relaxed)
        if refusal != nil { fanout.stats.connectionsRefused.add(1, ordering: .relaxed) }
        fanout.register(self)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        tearDown()
        self.context = nil
    }

    func channelInactive(context: ChannelHandlerContext) {
        tearDown()
        context.fireChannelInactive()
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable { flush() }
        context.fireChannelWritabilityChanged()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // A request the parser cannot read (or a connection error): say so
        // if nothing else is being answered, then close.
        logger.debug("HTTP/1.1 connection error: \(error)")
        if isIdle, responseEnded, error is HTTPParserError {
            respond(status: 400, headers: [HTTP2Header("content-type", "text/plain; charset=utf-8")], body: Array("malformed HTTP request\n".utf8), head: false)
        }
        keepAlive = false
        close()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let part = unwrapInboundIn(data)
        lastActivity = .now()
        // Parts of a later request wait until this exchange is over.
        if !waiting.isEmpty || (requestEnded && !isIdle) {
            guard waiting.count < Self.maxWaitingParts else {
                logger.debug("closing HTTP/1.1 connection: too many pipelined request parts")
                keepAlive = false
                close()
                return
            }
            waiting.append(part)
            return
        }
        handle(part)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        flush()
        context.fireChannelReadComplete()
    }

    private var isIdle: Bool {
        if case .none = exchange { return true }
        return false
    }

    private func handle(_ part: HTTPServerRequestPart) {
        switch part {
        case .head(let head):
            start(head)
        case .body(let buffer):
            guard case .call(let call) = exchange else { return }
            feed(buffer, to: call)
        case .end:
            requestEnded = true
            if case .call(let call) = exchange {
                if let decoder = textDecoder, !decoder.isAtGroupBoundary {
                    call.end(GRPCStatus(.internal, "the gRPC-Web text body ends inside a base64 group"))
                } else {
                    call.receivedEndStream()
                }
            }
            exchangeMaybeDone()
        }
    }

    private func feed(_ buffer: ByteBuffer, to call: any GatewayCall) {
        guard textDecoder != nil else {
            buffer.withUnsafeReadableBytes { call.receivedData($0) }
            return
        }
        var decoded: [UInt8] = []
        do {
            try buffer.withUnsafeReadableBytes { raw throws(Base64.InvalidCharacter) in try textDecoder!.decode(raw, into: &decoded) }
        } catch {
            call.end(GRPCStatus(.internal, "the gRPC-Web text body is not base64 (byte \(error.byte))"))
            return
        }
        decoded.withUnsafeBytes { call.receivedData($0) }
    }

    // MARK: requests

    private func start(_ head: HTTPRequestHead) {
        requestsSeen += 1
        version = head.version
        keepAlive = head.isKeepAlive && !draining
        requestEnded = false
        responseEnded = false
        headSent = false
        textDecoder = nil
        let isHead = head.method == .HEAD
        if let refusal {
            keepAlive = false
            respond(status: 503, headers: [HTTP2Header("content-type", "text/plain; charset=utf-8")], body: Array((refusal + "\n").utf8), head: isHead)
            return
        }
        if draining {
            respond(status: 503, headers: [HTTP2Header("content-type", "text/plain; charset=utf-8")], body: Array("server shutting down\n".utf8), head: isHead)
            return
        }
        let path = String(head.uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first ?? "")
        switch web.answer(method: head.method.rawValue, target: head.uri, http2: false, header: { head.headers.first(name: $0) }) {
        case .respond(let status, let headers, let body):
            respond(status: status, headers: headers, body: body, head: isHead)
        case .grpc:
            respond(status: 415, headers: [], body: [], head: isHead)
        case .grpcWeb(let encoding, let extra):
            startGRPCWeb(path: path, encoding: encoding, extra: extra, authorization: head.headers.first(name: "authorization"),
                         timeout: head.headers.first(name: "grpc-timeout"))
        case .events(let request, let headers):
            startEvents(request, headers: headers, authorization: head.headers.first(name: "authorization"))
        }
    }

    private func startGRPCWeb(path: String, encoding: GRPCWeb.Encoding, extra: [HTTP2Header], authorization: String?, timeout: String?) {
        let base = [HTTP2Header("content-type", encoding.responseContentType)] + extra
        guard GRPCProtocol.servedPaths.contains(path) else {
            respondTrailersOnly(GRPCStatus(.unimplemented, "unknown method \(path.prefix(200))"), headers: base)
            return
        }
        var timeoutNanos: Int64? = nil
        if let timeout {
            guard let nanos = GRPCTimeout.parseNanos(timeout) else {
                respondTrailersOnly(GRPCStatus(.internal, "malformed grpc-timeout \"\(timeout.prefix(32))\""), headers: base)
                return
            }
            timeoutNanos = nanos
        }
        let grant: Grant
        switch admission.admit(path: path, authorization: authorization) {
        case .success(let admitted): grant = admitted
        case .failure(let status):
            respondTrailersOnly(status, headers: base)
            return
        }
        let call = CallAdmission.makeCall(path: path, streamID: takeStreamID(), context: callContext, fanout: fanout, grant: grant)
        call.outbound.trailersInBody = true
        call.outbound.base64Body = encoding == .text
        if encoding == .text { textDecoder = Base64.StreamDecoder() }
        fanout.stats.grpcWebCalls.add(1, ordering: .relaxed)
        responseHeaders = Self.headers(base + [HTTP2Header("grpc-accept-encoding", GRPCProtocol.acceptedEncodings)])
        begin(call)
        if let timeoutNanos, let context {
            deadline = context.eventLoop.assumeIsolatedUnsafeUnchecked().scheduleTask(in: .nanoseconds(min(timeoutNanos, Int64.max / 2))) { [self] in
                deadline = nil
                guard case .call(let current) = exchange, current === call else { return }
                fanout.stats.deadlinesExceeded.add(1, ordering: .relaxed)
                call.end(GRPCStatus(.deadlineExceeded, "deadline exceeded (grpc-timeout)"))
                flush()
            }
        }
        call.start(endStream: false)
    }

    private func startEvents(_ request: SSERequest, headers: [HTTP2Header], authorization: String?) {
        let grant: Grant
        switch admission.admit(path: GRPCProtocol.watchPath, authorization: request.authorization(header: authorization)) {
        case .success(let admitted): grant = admitted
        case .failure(let status):
            fanout.stats.recordRequestError(code: status.code.rawValue)
            if case .respond(let code, let fields, let body) = WebEndpoints.refusal(status) {
                respond(status: code, headers: fields, body: body, head: false)
            }
            return
        }
        let call = SSEStream.makeCall(for: request, streamID: takeStreamID(), context: callContext, grant: grant)
        responseHeaders = Self.headers(headers.filter { $0.name != ":status" })
        begin(call)
        call.startWatching(request.subscribe)
    }

    private func begin(_ call: any GatewayCall) {
        exchange = .call(call)
        fanout.stats.streams.add(1, ordering: .relaxed)
    }

    private func takeStreamID() -> Int32 {
        defer { nextStreamID = nextStreamID < Int32.max - 2 ? nextStreamID + 2 : 1 }
        return nextStreamID
    }

    private func respondTrailersOnly(_ status: GRPCStatus, headers: [HTTP2Header]) {
        fanout.stats.recordRequestError(code: status.code.rawValue)
        respond(status: 200, headers: headers + status.trailerFields, body: [], head: false)
    }

    /// A complete response.
    private func respond(status: Int, headers: [HTTP2Header], body: [UInt8], head isHead: Bool) {
        guard let context else { return }
        var fields = Self.headers(headers)
        fields.replaceOrAdd(name: "content-length", value: String(body.count))
        if !keepAlive { fields.replaceOrAdd(name: "connection", value: "close") }
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: version, status: .init(statusCode: status), headers: fields))), promise: nil)
        if !isHead, !body.isEmpty {
            var buffer = context.channel.allocator.buffer(capacity: body.count)
            buffer.writeBytes(body)
            context.write(wrapOutboundOut(.body(.byteBuffer(buffer))), promise: nil)
        }
        context.write(wrapOutboundOut(.end(nil)), promise: nil)
        headSent = true
        responseEnded = true
        exchange = .answered
        markDirty()
        exchangeMaybeDone()
    }

    private static func headers(_ fields: [HTTP2Header]) -> HTTPHeaders {
        var headers = HTTPHeaders()
        for field in fields where !field.name.hasPrefix(":") { headers.add(name: field.name, value: field.value) }
        return headers
    }

    /// Both sides of the exchange are over: the next request may start.
    private func exchangeMaybeDone() {
        guard requestEnded, responseEnded else { return }
        switch exchange {
        case .none:
            return
        case .call(let call):
            endCall(call)
        case .answered:
            break
        }
        exchange = .none
        lastActivity = .now()
        guard keepAlive, !draining else {
            close()
            return
        }
        while isIdle, !waiting.isEmpty {
            handle(waiting.removeFirst())
        }
    }

    private func endCall(_ call: any GatewayCall) {
        deadline?.cancel()
        deadline = nil
        call.grant.releaseStream()
        fanout.stats.streams.subtract(1, ordering: .relaxed)
        call.closed()
    }

    // MARK: ClientConnection

    func queueForFlush(_ outbound: HTTP2OutboundStream) {
        markDirty()
    }

    func requestFlush() {
        markDirty()
        fanout.scheduleFlush()
    }

    func flushNow(for call: any GatewayCall) -> Bool {
        guard let context, context.channel.isWritable, !flushing else { return false }
        flush()
        return true
    }

    func startedConflating(_ call: StreamCall) {
        conflating.append(call)
    }

    func submitResponse(_ call: any GatewayCall, headers: [HTTP2Header]) {
        guard let context, !headSent else { return }
        var fields = responseHeaders
        if !keepAlive { fields.replaceOrAdd(name: "connection", value: "close") }
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: version, status: .ok, headers: fields))), promise: nil)
        headSent = true
        markDirty()
    }

    /// HTTP/1.1 cannot reset one response: the connection goes.
    func submitReset(_ call: any GatewayCall, _ code: HTTP2ErrorCode) {
        keepAlive = false
        close()
    }

    private func markDirty() {
        guard !dirty else { return }
        dirty = true
        fanout.markDirty(self)
        // Output can come from inside a flush (the next pipelined request)
        // or a timer: make sure a pass runs.
        fanout.scheduleFlush()
    }

    // MARK: the loop

    func flush() {
        dirty = false
        guard let context, !tornDown, !flushing else { return }
        flushing = true
        defer { flushing = false }
        var again = true
        while again {
            again = false
            if case .call(let call) = exchange, headSent, !responseEnded {
                writeBody(of: call, context: context)
            }
            context.flush()
            if !conflating.isEmpty, context.channel.isWritable {
                let before = conflating.count
                conflating.removeAll { $0.refill() }
                again = conflating.count < before || dirty
                dirty = false
            }
        }
        if closing {
            context.flush()
            context.close(promise: nil)
        }
    }

    /// What the call has pending, while the socket takes it.
    private func writeBody(of call: any GatewayCall, context: ChannelHandlerContext) {
        let source = call.outbound
        source.unqueueForFlush()
        let wire = source.transcoder?.transcode() ?? source
        let pending = wire.pending
        if pending.readableBytes > 0, context.channel.isWritable {
            let count = pending.readableBytes
            var buffer: ByteBuffer
            if source.base64Body {
                buffer = context.channel.allocator.buffer(capacity: Base64.encodedLength(count))
                _ = pending.withUnsafeReadableBytes { raw in
                    buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: Base64.encodedLength(count)) { out in
                        Base64.encode(raw, into: out.baseAddress!)
                        return Base64.encodedLength(count)
                    }
                }
            } else {
                buffer = context.channel.allocator.buffer(capacity: count)
                _ = pending.withUnsafeReadableBytes { buffer.writeBytes($0) }
            }
            pending.moveReaderIndex(forwardBy: count)
            wire.compactPending()
            context.write(wrapOutboundOut(.body(.byteBuffer(buffer))), promise: nil)
        }
        if wire.finished, pending.readableBytes == 0 {
            context.write(wrapOutboundOut(.end(nil)), promise: nil)
            responseEnded = true
            // A response that ends before its request did (an error): the
            // rest of the request is not read.
            if !requestEnded { keepAlive = false }
            requestEnded = true
            exchangeMaybeDone()
        }
    }

    func tick(now: NIODeadline) {
        if case .call(let call) = exchange {
            if let interval = callContext.limits.heartbeatIntervalNanos {
                (call as? StreamCall)?.checkHeartbeat(now: WallClock.nowNanos(), intervalNanos: interval)
            }
            (call as? HealthWatchCall)?.poll()
            if call.grant.isRevoked {
                call.end(GRPCStatus(.unauthenticated, "the API key was revoked or its rights changed; reconnect"))
            }
            flush()
            return
        }
        // Slow first request (slowloris), or idle between requests.
        if requestsSeen == 0, let firstRequestTimeout, now - openedAt >= firstRequestTimeout {
            fanout.stats.handshakesTimedOut.add(1, ordering: .relaxed)
            close()
        } else if requestsSeen > 0 || firstRequestTimeout == nil, let idleTimeout, now - lastActivity >= idleTimeout {
            fanout.stats.connectionsIdleClosed.add(1, ordering: .relaxed)
            close()
        }
    }

    func drain(_ reason: ConnectionStateMachine.DrainReason) {
        draining = true
        keepAlive = false
        switch exchange {
        case .call(let call):
            call.end(GRPCStatus(.unavailable, "server shutting down"))
            flush()
        case .answered:
            break
        case .none:
            close()
        }
    }

    // MARK: closing

    private func close() {
        guard !closing else { return }
        closing = true
        guard let context else { return }
        // Whatever was written first (a response, an error) goes out.
        if !flushing {
            context.flush()
            context.close(promise: nil)
        }
    }

    private func tearDown() {
        guard !tornDown else { return }
        tornDown = true
        if case .call(let call) = exchange { endCall(call) }
        exchange = .none
        waiting.removeAll()
        conflating.removeAll()
        admission.releaseConnection()
        fanout.unregister(self)
        fanout.stats.connections.subtract(1, ordering: .relaxed)
    }
}
