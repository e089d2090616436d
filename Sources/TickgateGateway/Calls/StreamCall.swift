import Synchronization
import NIOCore
import TickgateHTTP2
import TickgateModel

/// One `PriceStream/Stream` call: its lifecycle, request decoding,
/// subscriptions and the bytes waiting for its flow-control window.
///
/// Every byte it queues (ticks, acks, pongs, statuses) stays under
/// `maxPendingBytesPerStream` at all times: past it, what is pending is
/// first handed to the socket; if that cannot make room, the client is not
/// reading and the stream is reset.
final class StreamCall: GatewayCall {
    let streamID: Int32
    /// Strong: the context holds nothing back, and a strong `let` is read
    /// without retaining it (an `unowned(unsafe)` one is copied, retain and
    /// release, at every use).
    private let context: CallContext
    let outbound: HTTP2OutboundStream
    #if DEBUG
    private var machine = StreamCallStateMachine()
    #else
    @exclusivity(unchecked) private var machine = StreamCallStateMachine()
    #endif
    private var deframer: GRPCMessageDeframer
    private(set) var symbols: Set<String> = []
    /// Cached from the configuration: read on every delivery.
    private let maxPendingBytes: Int
    /// `outbound` and its pending bytes, for the delivery loop: used through
    /// `_withUnsafeGuaranteedRef`, they cost no retain and release per
    /// delivery (`outbound` keeps both alive as long as the call).
    private let outboundRef: Unmanaged<HTTP2OutboundStream>
    private let pendingRef: Unmanaged<PendingBytes>

    init(streamID: Int32, context: CallContext) {
        self.streamID = streamID
        self.context = context
        self.outbound = HTTP2OutboundStream()
        self.maxPendingBytes = context.limits.maxPendingBytesPerStream
        self.outboundRef = .passUnretained(outbound)
        self.pendingRef = .passUnretained(outbound.pending)
        self.deframer = GRPCMessageDeframer(maxMessageSize: context.limits.maxMessageSize, allocator: context.allocator)
        context.stats.callObjects.add(1, ordering: .relaxed)
    }

    deinit { context.stats.callObjects.subtract(1, ordering: .relaxed) }

    // MARK: fan-out (hot path)

    /// Appends one tick's shared, already-framed bytes.
    @inline(__always)
    func enqueueTick(_ bytes: UnsafeRawBufferPointer) {
        guard machine.isLive else { return }
        let limit = maxPendingBytes
        if !pendingRef._withUnsafeGuaranteedRef({ $0.writeBytes(bytes, limit: limit) }) {
            guard makeRoomOrReset(for: bytes.count) else { return }
            pendingRef._withUnsafeGuaranteedRef { $0.writeBytes(bytes) }
        }
        // The context only once per stream per loop turn.
        if outboundRef._withUnsafeGuaranteedRef({ $0.queueForFlush() }) { context.queued(outbound) }
    }

    /// True when `count` more bytes fit under the bound, after handing
    /// what is pending to the socket if need be; otherwise the stream is
    /// reset as too slow.
    @inline(__always)
    private func hasRoom(for count: Int) -> Bool {
        pendingRef._withUnsafeGuaranteedRef { $0.readableBytes } &+ count <= maxPendingBytes || makeRoomOrReset(for: count)
    }

    /// The rare path, kept out of the delivery loop.
    @inline(never)
    private func makeRoomOrReset(for count: Int) -> Bool {
        if context.makeRoom(for: self), outbound.pending.readableBytes &+ count <= maxPendingBytes { return true }
        perform(machine.tooSlow())
        return false
    }

    // MARK: events from the session

    func start(endStream: Bool) {
        perform(machine.start(endStream: endStream))
    }

    func receivedData(_ bytes: UnsafeRawBufferPointer) {
        guard machine.acceptsMessages else { return }
        if let failure = deframer.feed(bytes, while: { machine.acceptsMessages }, handle) {
            perform(machine.fail(failure.status))
        }
    }

    func receivedEndStream() {
        if machine.acceptsMessages, let failure = deframer.unfinished() {
            perform(machine.fail(failure.status))
            return
        }
        perform(machine.receivedEndStream(subscriptions: symbols.count))
    }

    func end(_ status: GRPCStatus) {
        perform(machine.fail(status))
    }

    func closed() {
        perform(machine.streamClosed())
    }

    // MARK: requests

    private func handle(_ message: ByteBuffer) {
        let decoded: ClientMessage
        do {
            decoded = try WireCodec.decodeClientMessage(message)
        } catch {
            perform(machine.fail(GRPCStatus(.internal, "error parsing request proto: \(error)")))
            return
        }
        switch decoded {
        case .subscribe(let requestID, let requested):
            let limits = context.limits
            let decision = SubscriptionDecision.subscribe(
                requestID: requestID, symbols: requested, current: symbols,
                catalog: limits.symbolCatalog, limit: limits.maxSubscriptionsPerStream)
            var added = 0
            for symbol in decision.accepted where symbols.insert(symbol).inserted {
                context.subscribe(symbol, self)
                added += 1
            }
            if added > 0 { context.stats.subscriptions.add(added, ordering: .relaxed) }
            reply(decision, requestID: requestID)
            for symbol in decision.accepted {
                if let last = context.staleSince(symbol) {
                    sendStatus(symbol: symbol, stale: true, lastTickTimeNanos: last)
                }
            }
        case .unsubscribe(let requestID, let requested):
            let decision = SubscriptionDecision.unsubscribe(requestID: requestID, symbols: requested)
            var removed = 0
            for symbol in decision.accepted where symbols.remove(symbol) != nil {
                context.unsubscribe(symbol, self)
                removed += 1
            }
            if removed > 0 { context.stats.subscriptions.subtract(removed, ordering: .relaxed) }
            reply(decision, requestID: requestID)
            perform(machine.subscriptionsChanged(count: symbols.count))
        case .ping(let nonce, let clientTime):
            send(.pong(nonce: nonce, clientTimeNanos: clientTime, serverTimeNanos: WallClock.nowNanos()))
        }
    }

    private func reply(_ decision: SubscriptionDecision, requestID: UInt64) {
        for refused in decision.refused {
            context.stats.recordRequestError(code: Int(refused.code))
            send(.error(refused))
        }
        send(.ack(requestID: requestID, symbols: decision.accepted))
    }

    /// A `SymbolStatus` for one symbol this stream holds.
    func sendStatus(symbol: String, stale: Bool, lastTickTimeNanos: Int64) {
        send(.symbolStatus(symbol: symbol, stale: stale, lastTickTimeNanos: lastTickTimeNanos))
    }

    private func send(_ message: ServerMessage) {
        guard machine.isLive else { return }
        // Appended at once; past the bound it is taken back, room is made
        // (or the stream reset) and, rarely, it is encoded again.
        let size = outbound.pending.writeMessage { WireCodec.encode(message, into: &$0) }
        if outbound.pending.readableBytes > maxPendingBytes {
            outbound.pending.removeLast(size)
            guard hasRoom(for: size) else { return }
            outbound.pending.writeMessage { WireCodec.encode(message, into: &$0) }
        }
        context.hasOutput(outbound)
    }

    // MARK: actions

    private func perform(_ actions: [StreamCallStateMachine.Action]) {
        for action in actions {
            switch action {
            case .sendResponseHeaders:
                context.submitResponse(self, headers: grpcResponseHeaders)
            case .finish(let status):
                if status.code != .ok { context.stats.recordRequestError(code: status.code.rawValue) }
                releaseSubscriptions()
                outbound.finish(trailers: status.trailerFields)
                context.hasOutput(outbound)
            case .reset(let code):
                releaseSubscriptions()
                outbound.discardPending()
                if code == .enhanceYourCalm { context.stats.slowStreamResets.add(1, ordering: .relaxed) }
                context.submitReset(self, code)
            case .releaseSubscriptions:
                releaseSubscriptions()
            }
        }
    }

    private func releaseSubscriptions() {
        guard !symbols.isEmpty else { return }
        for symbol in symbols {
            context.unsubscribe(symbol, self)
        }
        context.stats.subscriptions.subtract(symbols.count, ordering: .relaxed)
        symbols.removeAll()
    }
}
