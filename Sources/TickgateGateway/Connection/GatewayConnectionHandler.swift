import TickgateModel
import Synchronization
import Logging
import NIOCore
import TickgateHTTP2
import TickgateKafka
import TickgateTLS

/// One client connection: an nghttp2 server session driven by NIO through
/// ``HTTP2ChannelDriver``, with its lifecycle in ``ConnectionStateMachine``.
/// Lives on its channel's event loop; everything it touches is loop-local.
final class GatewayConnectionHandler: ChannelInboundHandler, ClientConnection {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    let driver: HTTP2ChannelDriver
    private let fanout: LoopFanout
    private let logger: Logger
    /// Connections refused before HTTP/2 (TLS): a line per kind now and then.
    private let refusals: RateLimitedLogger
    #if DEBUG
    private var machine: ConnectionStateMachine
    #else
    @exclusivity(unchecked) private var machine: ConnectionStateMachine
    #endif
    private(set) var callContext: CallContext!
    #if DEBUG
    private var calls: [Int32: any GatewayCall] = [:]
    #else
    @exclusivity(unchecked) private var calls: [Int32: any GatewayCall] = [:]
    #endif
    #if DEBUG
    private var queuedOutput: [HTTP2OutboundStream] = []
    #else
    @exclusivity(unchecked) private var queuedOutput: [HTTP2OutboundStream] = []
    #endif
    /// Calls with a client deadline (grpc-timeout).
    private var deadlines: [Int32: Scheduled<Void>] = [:]
    /// Streams that fell behind, refilled after each write.
    private var conflating: [StreamCall] = []
    private var refilling = false
    private var context: ChannelHandlerContext?
    private var drainDeadline: Scheduled<Void>?
    private var admission: CallAdmission
    /// Browsers: gRPC-Web, Server-Sent Events, the live page (nil: gRPC only).
    private let web: WebEndpoints?
    /// The response HEADERS of web streams (gRPC-Web, SSE), instead of gRPC's.
    private var webHeaders: [Int32: [HTTP2Header]] = [:]
    /// gRPC-Web text calls: their request bodies are base64.
    private var textDecoders: [Int32: Base64.StreamDecoder] = [:]
    /// Set when the gateway is over its connection limits: the connection
    /// gets GOAWAY with this debug data and is closed.
    private let refusal: String?
    private let maxAge: TimeAmount?
    private var maxAgeTimer: Scheduled<Void>?
    #if DEBUG
    private var closeAfterFlush = false
    #else
    @exclusivity(unchecked) private var closeAfterFlush = false
    #endif

    init(
        configuration: GatewayConfiguration, fanout: LoopFanout, logger: Logger, refusals: RateLimitedLogger,
        refusal: String? = nil, web: WebEndpoints? = nil
    ) {
        self.fanout = fanout
        self.logger = logger
        self.refusals = refusals
        self.admission = CallAdmission(
            access: configuration.access, publishEnabled: configuration.enablePublish && fanout.publish != nil, stats: fanout.stats)
        self.web = web
        self.refusal = refusal
        // ±10 %: the connections of a fleet made at the same time do not all
        // come back at once.
        self.maxAge = configuration.maxConnectionAge.map { age in
            let nanos = age.wholeNanoseconds
            return .nanoseconds(nanos - nanos / 10 + Int64.random(in: 0...max(0, nanos / 5)))
        }
        var settings = NGHTTP2Session.Settings()
        settings.maxConcurrentStreams = UInt32(configuration.maxConcurrentStreamsPerConnection)
        settings.maxHeaderListSize = UInt32(clamping: configuration.maxHeaderListSize)
        let allocator = ByteBufferAllocator()
        self.driver = HTTP2ChannelDriver(session: NGHTTP2Session(role: .server, settings: settings), allocator: allocator)
        self.machine = ConnectionStateMachine(
            limits: .init(
                idleTimeout: configuration.idleTimeout.map { .nanoseconds($0.wholeNanoseconds) },
                drainGrace: .nanoseconds(configuration.shutdownGrace.wholeNanoseconds),
                maxAgeGrace: .nanoseconds(configuration.maxConnectionAgeGrace.wholeNanoseconds),
                minPingInterval: configuration.minPingInterval.map { .nanoseconds($0.wholeNanoseconds) },
                pingsWithoutStreams: configuration.pingsWithoutCalls,
                handshakeTimeout: configuration.handshakeTimeout.map { .nanoseconds($0.wholeNanoseconds) },
                resetsPerSecond: configuration.maxClientResetsPerSecond,
                resetBurst: configuration.maxClientResetsPerSecond * 5),
            now: .now())
        self.callContext = CallContext(connection: self, fanout: fanout, limits: .init(configuration), allocator: allocator)
        driver.session.delegate = self
    }

    // MARK: channel events

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        fanout.stats.connections.add(1, ordering: .relaxed)
        fanout.register(self)
        if refusal != nil {
            fanout.stats.connectionsRefused.add(1, ordering: .relaxed)
            perform(machine.refuse(now: .now()))
        } else if let maxAge {
            maxAgeTimer = context.eventLoop.assumeIsolatedUnsafeUnchecked().scheduleTask(in: maxAge) { [self] in
                fanout.stats.connectionsAged.add(1, ordering: .relaxed)
                drain(.maxAge)
            }
        }
        if context.channel.isActive { flush() }
    }

    func channelActive(context: ChannelHandlerContext) {
        flush()
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        do {
            try driver.read(unwrapInboundIn(data))
        } catch {
            logger.debug("closing connection: \(error)")
            perform(.close)
            flush()
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
        perform(machine.channelInactive())
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        perform(machine.channelInactive())
        self.context = nil
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if let error = error as? TLSError {
            fanout.stats.tlsRefused.add(1, ordering: .relaxed)
            let peer = context.channel.remoteAddress?.ipAddress ?? "?"
            // One line per kind of refusal now and then (the details are
            // OpenSSL's fixed texts, so the kinds are few).
            refusals.log(level: .notice, kind: String(error.detail.prefix(80)), "refused a TLS connection from \(peer): \(error.detail)")
        } else {
            logger.debug("connection error: \(error)")
        }
        perform(.close)
    }

    // MARK: lifecycle

    /// Graceful drain (server shutdown): GOAWAY, open calls end
    /// UNAVAILABLE, the socket closes once they have (or at the deadline).
    func drain(_ reason: ConnectionStateMachine.DrainReason) {
        perform(machine.drain(reason, now: .now()))
        flush()
    }

    /// The loop's periodic check (idle limit, heartbeats).
    func tick(now: NIODeadline) {
        if let interval = callContext.limits.heartbeatIntervalNanos {
            let wallNow = WallClock.nowNanos()
            for call in calls.values {
                (call as? StreamCall)?.checkHeartbeat(now: wallNow, intervalNanos: interval)
            }
        }
        for call in calls.values { (call as? HealthWatchCall)?.poll() }
        for call in calls.values where call.grant.isRevoked {
            call.end(GRPCStatus(.unauthenticated, "the API key was revoked or its rights changed; reconnect"))
        }
        let wasWaitingForPreface = !machine.prefaceDone
        let actions = machine.tick(now: now)
        guard !actions.isEmpty else { return }
        if wasWaitingForPreface, actions == [.close] { fanout.stats.handshakesTimedOut.add(1, ordering: .relaxed) }
        perform(actions)
        flush()
    }

    func startedConflating(_ call: StreamCall) {
        conflating.append(call)
    }

    /// After a write: streams that were behind take what now fits.
    private func refillConflating() -> Bool {
        guard !conflating.isEmpty, !refilling else { return false }
        refilling = true
        defer { refilling = false }
        let before = queuedOutput.count
        conflating.removeAll { $0.refill() }
        return queuedOutput.count > before
    }

    private func perform(_ actions: [ConnectionStateMachine.Action]) {
        for action in actions { perform(action) }
    }

    private func perform(_ action: ConnectionStateMachine.Action) {
        switch action {
        case .none:
            break
        case .sendGoAway(_, let debug):
            if debug == "idle" { fanout.stats.connectionsIdleClosed.add(1, ordering: .relaxed) }
            // nghttp2 knows the last stream it processed, refused and
            // rejected ones included; the machine counts only accepted ones.
            driver.session.submitGoAway(debug: debug)
            requestFlush()
        case .endOpenStreams(let status):
            for call in calls.values { call.end(status) }
        case .scheduleDeadline(let deadline):
            guard let context else { return }
            drainDeadline = context.eventLoop.assumeIsolatedUnsafeUnchecked().scheduleTask(deadline: deadline) { [self] in
                perform(machine.deadlinePassed(now: .now()))
            }
        case .refuseStream:
            break  // handled where the stream arrives
        case .close:
            // Often decided inside nghttp2's callbacks (the last stream
            // closed while frames are being produced): write what is
            // queued first (trailers, GOAWAY), then close.
            closeAfterFlush = true
            requestFlush()
        case .tearDown:
            tearDown()
        case .refuseConnection(let code, let debug):
            driver.session.submitGoAway(errorCode: code, debug: debug)
            requestFlush()
        case .abort(let code, let debug):
            if debug == "too_many_pings" { fanout.stats.pingFloodsClosed.add(1, ordering: .relaxed) }
            if debug == "too_many_resets" { fanout.stats.resetFloodsClosed.add(1, ordering: .relaxed) }
            driver.session.submitGoAway(errorCode: code, debug: debug)
            closeAfterFlush = true
            requestFlush()
        }
    }

    /// Frees every call's subscriptions and the nghttp2 session. Once.
    private func tearDown() {
        drainDeadline?.cancel()
        maxAgeTimer?.cancel()
        let open = calls.values
        calls.removeAll()
        for call in open { call.grant.releaseStream() }
        admission.releaseConnection()
        webHeaders.removeAll()
        textDecoders.removeAll()
        for deadline in deadlines.values { deadline.cancel() }
        deadlines.removeAll()
        fanout.stats.streams.subtract(open.count, ordering: .relaxed)
        for call in open { call.closed() }
        queuedOutput.removeAll()
        conflating.removeAll()
        driver.close()
        fanout.unregister(self)
        fanout.stats.connections.subtract(1, ordering: .relaxed)
    }

    // MARK: writing

    func submitResponse(_ call: any GatewayCall, headers: [HTTP2Header]) {
        let body = call.outbound.transcoder?.transcode() ?? call.outbound
        driver.session.submitResponse(streamID: call.streamID, headers: webHeaders[call.streamID] ?? headers, body: body)
        requestFlush()
    }

    func submitReset(_ call: any GatewayCall, _ code: HTTP2ErrorCode) {
        driver.session.submitReset(streamID: call.streamID, errorCode: code)
        requestFlush()
    }

    func queueForFlush(_ outbound: HTTP2OutboundStream) {
        queuedOutput.append(outbound)
        if machine.outputQueued() { fanout.markDirty(self) }
    }

    /// Control frames (acks, trailers, resets, publish summaries): flushed
    /// at the end of the read, or on the next loop turn when they come from
    /// outside a read.
    func requestFlush() {
        if driver.inRead { return }
        if machine.outputQueued() { fanout.markDirty(self) }
        fanout.scheduleFlush()
    }

    /// A call is past its bound: hand what waits to nghttp2 and the socket
    /// now. Not possible inside a read (nghttp2 does not allow sending from
    /// inside its receive) or while the socket is not writable.
    func flushNow(for call: any GatewayCall) -> Bool {
        guard !driver.inRead, let context, context.channel.isWritable else { return false }
        driver.session.resume(call.outbound.transcoder?.transcode() ?? call.outbound)
        flush()
        return true
    }

    /// Hands every call with output to nghttp2 and writes what it
    /// produces, in one socket write. Skipped while the socket is not
    /// writable: bytes then wait in the calls' pending buffers, which are
    /// bounded.
    func flush() {
        machine.flushStarted()
        guard let context, !machine.isTornDown else { return }
        let session = driver.session
        let outcome = driver.flush(context: context, beforeSend: {
            queuedOutput.withUnsafeBufferPointer { queued in
                for index in queued.indices {
                    // Per stream per write: no reference counting (the
                    // array keeps each stream alive).
                    Unmanaged.passUnretained(queued[index])._withUnsafeGuaranteedRef { outbound in
                        outbound.unqueueForFlush()
                        if let transcoder = outbound.transcoder {
                            session.resume(transcoder.transcode())
                        } else {
                            session.resume(outbound)
                        }
                    }
                }
            }
            queuedOutput.removeAll(keepingCapacity: true)
        })
        if case .failed(let error) = outcome {
            logger.debug("closing connection: \(error)")
            context.close(promise: nil)
            return
        }
        if driver.isFinished { perform(machine.sessionFinished()) }
        if refillConflating() {
            flush()
            return
        }
        if closeAfterFlush, !driver.inRead {
            closeAfterFlush = false
            context.close(promise: nil)
        }
    }
}

extension GatewayConnectionHandler: NGHTTP2SessionDelegate {
    func sessionDidReceiveHeaders(_ headers: [HTTP2Header], streamID: Int32, endStream: Bool) {
        if let call = calls[streamID] {
            // Request trailers: an END_STREAM like any other.
            if endStream { call.receivedEndStream() }
            return
        }
        var webEncoding: GRPCWeb.Encoding? = nil
        var webExtra: [HTTP2Header] = []
        if let web {
            switch web.answer(method: headers[first: ":method"], target: headers[first: ":path"], http2: true, header: { headers[first: $0] }) {
            case .grpc:
                break
            case .grpcWeb(let encoding, let extra):
                webEncoding = encoding
                webExtra = extra
            case .respond(let status, let extra, let body):
                respondPlain(streamID: streamID, status: status, headers: extra, body: headers[first: ":method"] == "HEAD" ? [] : body)
                return
            case .events(let request, let responseHeaders):
                openEvents(streamID: streamID, request, responseHeaders: responseHeaders, authorization: headers[first: "authorization"])
                return
            }
        }
        switch RequestHeadValidator.validate(headers) {
        case .rejectHTTP(let status, let reason):
            driver.session.submitResponse(
                streamID: streamID, headers: [HTTP2Header(":status", String(status)), HTTP2Header("x-tickgate-error", reason)], body: nil)
            requestFlush()
        case .rejectGRPC(let status, let extra):
            respondTrailersOnly(streamID: streamID, status, extra: extra, web: webEncoding.map { ($0, webExtra) })
        case .accept(let deadline):
            let path = headers[first: ":path"]
            let grant: Grant
            let webAnswer = webEncoding.map { ($0, webExtra) }
            if let refusal {
                respondTrailersOnly(streamID: streamID, GRPCStatus(.resourceExhausted, refusal), extra: [], web: webAnswer)
                perform(machine.refusedCallAnswered(refusal))
                return
            }
            switch admission.admit(path: path, authorization: headers[first: "authorization"]) {
            case .success(let admitted): grant = admitted
            case .failure(let status):
                respondTrailersOnly(streamID: streamID, status, extra: [], web: webAnswer)
                return
            }
            guard admitStream(streamID, grant) else { return }
            let call = CallAdmission.makeCall(path: path, streamID: streamID, context: callContext, fanout: fanout, grant: grant)
            if let webEncoding {
                fanout.stats.grpcWebCalls.add(1, ordering: .relaxed)
                call.outbound.trailersInBody = true
                call.outbound.base64Body = webEncoding == .text
                if webEncoding == .text { textDecoders[streamID] = Base64.StreamDecoder() }
                webHeaders[streamID] = [
                    HTTP2Header(":status", "200"), HTTP2Header("content-type", webEncoding.responseContentType),
                    HTTP2Header("grpc-accept-encoding", GRPCProtocol.acceptedEncodings),
                ] + webExtra
            }
            calls[streamID] = call
            fanout.stats.streams.add(1, ordering: .relaxed)
            call.start(endStream: endStream)
            if let deadline, let context {
                // The client's grpc-timeout: the call ends when it runs out.
                deadlines[streamID] = context.eventLoop.assumeIsolatedUnsafeUnchecked().scheduleTask(
                    in: .nanoseconds(min(deadline, Int64.max / 2))
                ) { [self] in
                    deadlines[streamID] = nil
                    guard let call = calls[streamID] else { return }
                    fanout.stats.deadlinesExceeded.add(1, ordering: .relaxed)
                    call.end(GRPCStatus(.deadlineExceeded, "deadline exceeded (grpc-timeout)"))
                    flush()
                }
            }
        }
    }

    private func respondTrailersOnly(streamID: Int32, _ status: GRPCStatus, extra: [HTTP2Header], web: (GRPCWeb.Encoding, [HTTP2Header])? = nil) {
        fanout.stats.recordRequestError(code: status.code.rawValue)
        let contentType = web?.0.responseContentType ?? GRPCProtocol.contentType
        driver.session.submitResponse(
            streamID: streamID,
            headers: [HTTP2Header(":status", "200"), HTTP2Header("content-type", contentType)] + status.trailerFields + extra + (web?.1 ?? []),
            body: nil)
        requestFlush()
    }

    /// A complete response that is not gRPC (the page, an HTTP error).
    private func respondPlain(streamID: Int32, status: Int, headers: [HTTP2Header], body: [UInt8]) {
        let outbound = HTTP2OutboundStream()
        outbound.pending.writeBytes(body)
        outbound.finish(trailers: nil)
        driver.session.submitResponse(
            streamID: streamID,
            headers: [HTTP2Header(":status", String(status)), HTTP2Header("content-length", String(body.count))] + headers,
            body: outbound)
        requestFlush()
    }

    /// `GET /v1/ticks`: a Watch call whose output leaves as Server-Sent Events.
    private func openEvents(streamID: Int32, _ request: SSERequest, responseHeaders: [HTTP2Header], authorization: String?) {
        if let refusal {
            respondPlain(streamID: streamID, status: 503, headers: [], body: Array((refusal + "\n").utf8))
            perform(machine.refusedCallAnswered(refusal))
            return
        }
        let grant: Grant
        switch admission.admit(path: GRPCProtocol.watchPath, authorization: request.authorization(header: authorization)) {
        case .success(let admitted): grant = admitted
        case .failure(let status):
            fanout.stats.recordRequestError(code: status.code.rawValue)
            if case .respond(let code, let fields, let body) = WebEndpoints.refusal(status) {
                respondPlain(streamID: streamID, status: code, headers: fields, body: body)
            }
            return
        }
        guard admitStream(streamID, grant) else { return }
        let call = SSEStream.makeCall(for: request, streamID: streamID, context: callContext, grant: grant)
        webHeaders[streamID] = responseHeaders
        calls[streamID] = call
        fanout.stats.streams.add(1, ordering: .relaxed)
        call.startWatching(request.subscribe)
    }

    /// The stream's place under SETTINGS_MAX_CONCURRENT_STREAMS; when there
    /// is none it is reset REFUSED_STREAM and the key's call given back.
    private func admitStream(_ streamID: Int32, _ grant: Grant) -> Bool {
        guard machine.streamOpened(id: streamID) == .refuseStream else { return true }
        grant.releaseStream()
        driver.session.submitReset(streamID: streamID, errorCode: .refusedStream)
        requestFlush()
        return false
    }

    func sessionDidReceiveData(_ bytes: UnsafeRawBufferPointer, streamID: Int32) {
        guard let call = calls[streamID] else { return }
        guard textDecoders[streamID] != nil else {
            call.receivedData(bytes)
            return
        }
        var decoded: [UInt8] = []
        do {
            try textDecoders[streamID]!.decode(bytes, into: &decoded)
        } catch {
            call.end(GRPCStatus(.internal, "the gRPC-Web text body is not base64 (byte \(error.byte))"))
            return
        }
        decoded.withUnsafeBytes { call.receivedData($0) }
    }

    func sessionDidReceiveEndStream(streamID: Int32) {
        calls[streamID]?.receivedEndStream()
    }

    func sessionDidCloseStream(streamID: Int32, errorCode: UInt32) {
        deadlines.removeValue(forKey: streamID)?.cancel()
        webHeaders.removeValue(forKey: streamID)
        textDecoders.removeValue(forKey: streamID)
        guard let call = calls.removeValue(forKey: streamID) else { return }
        call.grant.releaseStream()
        fanout.stats.streams.subtract(1, ordering: .relaxed)
        call.closed()
        perform(machine.streamClosed(now: .now()))
    }

    func sessionDidReceivePing() {
        perform(machine.pingReceived(now: .now()))
    }

    func sessionDidReceiveReset(streamID: Int32) {
        perform(machine.resetReceived(now: .now()))
    }

    func sessionDidReceiveSettings() {
        machine.prefaceReceived()
    }

    func sessionDidReceiveGoAway(errorCode: UInt32, debug: String) {
        perform(machine.drain(.peerGoAway, now: .now()))
    }

    func sessionDidRefuseHeaderList(streamID: Int32) {
        fanout.stats.headerListsRefused.add(1, ordering: .relaxed)
    }
}
