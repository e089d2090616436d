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
final class GatewayConnectionHandler: ChannelInboundHandler {
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
    private let publishEnabled: Bool
    private let access: AccessControl
    /// Keys this connection made calls with (each counts one connection
    /// against its key's limit until the connection closes).
    private var keysHeld: [Grant] = []
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

    init(configuration: GatewayConfiguration, fanout: LoopFanout, logger: Logger, refusals: RateLimitedLogger, refusal: String? = nil) {
        self.fanout = fanout
        self.logger = logger
        self.refusals = refusals
        self.publishEnabled = configuration.enablePublish
        self.access = configuration.access
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
        for grant in keysHeld { grant.releaseConnection() }
        keysHeld.removeAll()
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
    func flushNow(for call: some GatewayCall) -> Bool {
        guard !driver.inRead, let context, context.channel.isWritable else { return false }
        driver.session.resume(call.outbound)
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
                for outbound in queued {
                    outbound.unqueueForFlush()
                    session.resume(outbound)
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
        switch RequestHeadValidator.validate(headers) {
        case .rejectHTTP(let status, let reason):
            driver.session.submitResponse(
                streamID: streamID, headers: [HTTP2Header(":status", String(status)), HTTP2Header("x-tickgate-error", reason)], body: nil)
            requestFlush()
        case .rejectGRPC(let status, let extra):
            respondTrailersOnly(streamID: streamID, status, extra: extra)
        case .accept(let deadline):
            let path = headers[first: ":path"]
            let grant: Grant
            if let refusal {
                respondTrailersOnly(streamID: streamID, GRPCStatus(.resourceExhausted, refusal), extra: [])
                perform(machine.refusedCallAnswered(refusal))
                return
            }
            switch admit(path: path, authorization: headers[first: "authorization"]) {
            case .success(let admitted): grant = admitted
            case .failure(let status):
                respondTrailersOnly(streamID: streamID, status, extra: [])
                return
            }
            if machine.streamOpened(id: streamID) == .refuseStream {
                grant.releaseStream()
                driver.session.submitReset(streamID: streamID, errorCode: .refusedStream)
                requestFlush()
                return
            }
            let call: any GatewayCall
            if path == GRPCProtocol.publishPath {
                call = PublishCall(streamID: streamID, context: callContext, publisher: fanout.publish!, grant: grant)
            } else if path == GRPCProtocol.snapshotPath {
                call = UnaryCall.snapshot(streamID: streamID, context: callContext, grant: grant)
            } else if path == GRPCProtocol.healthCheckPath {
                call = UnaryCall.healthCheck(streamID: streamID, context: callContext)
            } else if path == GRPCProtocol.healthWatchPath {
                call = HealthWatchCall(streamID: streamID, context: callContext)
            } else if let path, GRPCProtocol.reflectionPaths.contains(path) {
                call = ReflectionCall(streamID: streamID, context: callContext, grant: grant)
            } else {
                call = StreamCall(streamID: streamID, context: callContext, grant: grant)
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

    /// Who makes the call, and whether they may: the key (none needed for
    /// health), the Publish right, and the key's connection and call limits.
    /// On success one call is counted against the key.
    private func admit(path: String?, authorization: String?) -> Result<Grant, GRPCStatus> {
        if path == GRPCProtocol.healthCheckPath || path == GRPCProtocol.healthWatchPath {
            _ = Grant.healthProbe.acquireStream()
            return .success(.healthProbe)
        }
        let grant: Grant
        switch access.authenticate(authorization) {
        case .success(let found): grant = found
        case .failure(let status):
            fanout.stats.unauthenticated.add(1, ordering: .relaxed)
            return .failure(status)
        }
        if path == GRPCProtocol.publishPath {
            guard publishEnabled, fanout.publish != nil else {
                return .failure(GRPCStatus(.unimplemented, "publishing is turned off on this gateway"))
            }
            guard grant.rights.publish != nil else {
                return .failure(GRPCStatus(.permissionDenied, access.requiresKeys
                    ? "this API key may not publish"
                    : "publishing needs an API key with the publish right; this gateway has no keys file (--allow-anonymous-publish lets anyone publish)"))
            }
        }
        if !keysHeld.contains(where: { $0 === grant }) {
            guard grant.acquireConnection() else {
                return .failure(GRPCStatus(.resourceExhausted, "this API key has as many connections open as it may (\(grant.rights.limits.connections ?? 0))"))
            }
            keysHeld.append(grant)
        }
        guard grant.acquireStream() else {
            return .failure(GRPCStatus(.resourceExhausted, "this API key has as many calls open as it may (\(grant.rights.limits.streams ?? 0))"))
        }
        return .success(grant)
    }

    private func respondTrailersOnly(streamID: Int32, _ status: GRPCStatus, extra: [HTTP2Header]) {
        fanout.stats.recordRequestError(code: status.code.rawValue)
        driver.session.submitResponse(
            streamID: streamID,
            headers: [HTTP2Header(":status", "200"), HTTP2Header("content-type", GRPCProtocol.contentType)] + status.trailerFields + extra,
            body: nil)
        requestFlush()
    }

    func sessionDidReceiveData(_ bytes: UnsafeRawBufferPointer, streamID: Int32) {
        calls[streamID]?.receivedData(bytes)
    }

    func sessionDidReceiveEndStream(streamID: Int32) {
        calls[streamID]?.receivedEndStream()
    }

    func sessionDidCloseStream(streamID: Int32, errorCode: UInt32) {
        deadlines.removeValue(forKey: streamID)?.cancel()
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
