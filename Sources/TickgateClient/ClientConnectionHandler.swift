import NIOCore
import TickgateHTTP2
import TickgateModel

/// The client side of one HTTP/2 connection: an nghttp2 client session
/// driven by NIO, on the channel's event loop.
final class ClientConnectionHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    let driver: HTTP2ChannelDriver
    var session: NGHTTP2Session { driver.session }
    let authority: String
    let scheme: String
    /// Sent as `authorization: Bearer <key>` on every call.
    let apiKey: String?
    let maxMessageSize: Int
    private var streams: [Int32: ClientStreamState] = [:]
    private var context: ChannelHandlerContext?
    private var closed = false

    init(authority: String, scheme: String = "http", apiKey: String? = nil, maxMessageSize: Int, receiveWindow: Int) {
        self.authority = authority
        self.scheme = scheme
        self.apiKey = apiKey
        self.maxMessageSize = maxMessageSize
        var settings = NGHTTP2Session.Settings()
        settings.initialWindowSize = UInt32(clamping: receiveWindow)
        settings.connectionWindowSize = 64 << 20
        // Window goes back as the app reads ticks, not as they arrive.
        settings.manualWindowUpdates = true
        self.driver = HTTP2ChannelDriver(session: NGHTTP2Session(role: .client, settings: settings))
        session.delegate = self
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func channelActive(context: ChannelHandlerContext) {
        flush()
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        do {
            try driver.read(unwrapInboundIn(data))
        } catch {
            context.close(promise: nil)
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        flush()
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
        if failure == nil { failure = "\(error)" }
        context.close(promise: nil)
    }

    /// Why the connection went, when it is known (TLS, a GOAWAY with an error).
    private var failure: String?

    private var closedError: TickgateClientError {
        failure.map { .connectionFailed(detail: $0) } ?? .connectionClosed
    }

    private func tearDown() {
        guard !closed else { return }
        closed = true
        let open = streams.values
        streams.removeAll()
        for stream in open { stream.finish(closedError) }
        driver.close()
    }

    // MARK: operations (on the event loop)

    func openStream(
        ticks: TickBuffer, statuses: AsyncStream<SymbolStatusUpdate>.Continuation,
        heartbeats: AsyncStream<Int64>.Continuation, resumes: AsyncStream<ResumeStatus>.Continuation
    ) throws(TickgateClientError) -> Int32 {
        guard !closed else { throw closedError }
        let outbound = HTTP2OutboundStream()
        var headers = [
            HTTP2Header(":method", "POST"),
            HTTP2Header(":scheme", scheme),
            HTTP2Header(":path", GRPCProtocol.streamPath),
            HTTP2Header(":authority", authority),
            HTTP2Header("content-type", GRPCProtocol.contentType),
            HTTP2Header("te", "trailers"),
            HTTP2Header("grpc-accept-encoding", GRPCProtocol.acceptedEncodings),
            HTTP2Header("user-agent", "tickgate-swift/0.1"),
        ]
        if let apiKey { headers.append(HTTP2Header("authorization", "Bearer \(apiKey)")) }
        guard let streamID = session.submitRequest(headers: headers, body: outbound) else { throw .tooManyStreams }
        streams[streamID] = ClientStreamState(outbound: outbound, maxMessageSize: maxMessageSize, ticks: ticks, statuses: statuses, heartbeats: heartbeats, resumes: resumes)
        flush()
        return streamID
    }

    func send(_ message: ClientMessage, on streamID: Int32) throws(TickgateClientError) {
        guard let stream = streams[streamID], !stream.finished else { throw .connectionClosed }
        stream.outbound.pending.writeMessage { WireCodec.encode(message, into: &$0) }
        session.resume(stream.outbound)
        flush()
    }

    func request(
        on streamID: Int32, continuation: CheckedContinuation<SubscriptionResult, any Error>,
        _ make: (UInt64) -> ClientMessage
    ) {
        guard let stream = streams[streamID], !stream.finished else {
            continuation.resume(throwing: TickgateClientError.connectionClosed)
            return
        }
        let requestID = stream.nextRequestID
        stream.nextRequestID += 1
        stream.pendingRequests[requestID] = ([], continuation)
        do {
            try send(make(requestID), on: streamID)
        } catch {
            stream.pendingRequests.removeValue(forKey: requestID)?.continuation.resume(throwing: error)
        }
    }

    func ping(on streamID: Int32, continuation: CheckedContinuation<PingResult, any Error>) {
        guard let stream = streams[streamID], !stream.finished else {
            continuation.resume(throwing: TickgateClientError.connectionClosed)
            return
        }
        let nonce = stream.nextRequestID
        stream.nextRequestID += 1
        let now = WallClock.nowNanos()
        stream.pendingPings[nonce] = (now, continuation)
        do {
            try send(.ping(nonce: nonce, clientTimeNanos: now), on: streamID)
        } catch {
            stream.pendingPings.removeValue(forKey: nonce)?.continuation.resume(throwing: error)
        }
    }

    /// Half-close: no more requests on this stream.
    func finishRequests(on streamID: Int32) {
        guard let stream = streams[streamID] else { return }
        stream.outbound.finish(trailers: nil)
        session.resume(stream.outbound)
        flush()
    }

    /// RST_STREAM(CANCEL): the server frees the stream's subscriptions.
    func cancel(streamID: Int32) {
        guard let stream = streams.removeValue(forKey: streamID) else { return }
        session.submitReset(streamID: streamID, errorCode: .cancel)
        stream.finish(nil)
        flush()
    }

    func close() {
        session.terminate()
        flush()
        context?.close(promise: nil)
    }

    func flush() {
        guard !driver.inRead, let context, !closed else { return }
        if case .failed = driver.flush(context: context) {
            context.close(promise: nil)
        }
    }
}

extension ClientConnectionHandler: NGHTTP2SessionDelegate {
    func sessionDidReceiveHeaders(_ headers: [HTTP2Header], streamID: Int32, endStream: Bool) {
        guard let stream = streams[streamID] else { return }
        if !stream.sawResponseHeaders {
            stream.sawResponseHeaders = true
            let status = Int(headers[first: ":status"] ?? "") ?? 0
            guard status == 200 else {
                let code = GRPCProtocol.statusCode(forHTTPStatus: status)
                stream.finish(TickgateClientError.status(code: code.rawValue, name: code.description, message: "HTTP status \(status)"))
                return
            }
            guard headers[first: "grpc-status"] != nil || endStream == false else {
                stream.finish(TickgateClientError.protocolViolation("response ended without grpc-status"))
                return
            }
        }
        guard let statusText = headers[first: "grpc-status"] else {
            if endStream { stream.finish(TickgateClientError.protocolViolation("trailers without grpc-status")) }
            return
        }
        let code = Int(statusText) ?? GRPCStatusCode.unknown.rawValue
        if code == 0 {
            stream.finish(nil)
        } else {
            let name = GRPCStatusCode(rawValue: code)?.description ?? "UNKNOWN"
            let message = GRPCPercentEncoding.decode(headers[first: "grpc-message"] ?? "")
            stream.finish(TickgateClientError.status(code: code, name: name, message: message))
        }
    }

    /// The app read its buffer down: give back the window withheld for it.
    func readerCaughtUp(streamID: Int32) {
        guard let stream = streams[streamID], stream.withheldBytes > 0 else { return }
        session.consumeStream(streamID, stream.withheldBytes)
        stream.withheldBytes = 0
        flush()
    }

    func sessionDidReceiveData(_ bytes: UnsafeRawBufferPointer, streamID: Int32) {
        // The connection's window always goes back, so that one slow
        // reader does not stall the other streams; the stream's only while
        // its reader keeps up.
        session.consumeConnection(bytes.count)
        defer {
            if let stream = streams[streamID] {
                if stream.ticks.isPaused {
                    stream.withheldBytes += bytes.count
                } else {
                    session.consumeStream(streamID, bytes.count)
                }
            }
        }
        guard let stream = streams[streamID], !stream.finished else { return }
        let receivedAt = WallClock.nowNanos()
        stream.deframer.append(bytes)
        do {
            while let message = try stream.deframer.next() {
                let decoded = try WireCodec.decodeServerMessage(message)
                stream.handle(decoded, receivedAt: receivedAt)
            }
        } catch {
            stream.finish(TickgateClientError.protocolViolation("\(error)"))
            session.submitReset(streamID: streamID, errorCode: .cancel)
        }
    }

    func sessionDidReceiveEndStream(streamID: Int32) {
        guard let stream = streams[streamID], !stream.finished else { return }
        stream.finish(TickgateClientError.protocolViolation("stream ended without trailers"))
    }

    func sessionDidCloseStream(streamID: Int32, errorCode: UInt32) {
        guard let stream = streams.removeValue(forKey: streamID) else { return }
        if let failure {
            stream.finish(TickgateClientError.connectionFailed(detail: failure))
        } else {
            stream.finish(errorCode == 0 ? TickgateClientError.connectionClosed : TickgateClientError.reset(errorCode: errorCode))
        }
    }

    func sessionDidReceiveGoAway(errorCode: UInt32, debug: String) {
        guard errorCode != 0, failure == nil else { return }
        let name = HTTP2ErrorCode(rawValue: errorCode).map { "\($0)" } ?? "error \(errorCode)"
        failure = "the gateway sent GOAWAY \(name)\(debug.isEmpty ? "" : ": \(debug.prefix(200))")"
    }
}
