import Synchronization
import NIOCore
import TickgateHTTP2
import TickgateModel

/// One `PriceStream/Stream` call: its lifecycle, request decoding,
/// subscriptions and the bytes waiting for its flow-control window.
///
/// The bytes it queues stay under `maxPendingBytesPerStream`: past it, what
/// is pending is first handed to the socket; if that cannot make room the
/// client is not reading, and the stream is conflated (it keeps only the
/// latest tick per pair until it catches up, see `StreamCall+Conflation`),
/// or, for a lossless subscription, told where it stands and ended.
final class StreamCall: GatewayCall, DeliveryTarget {
    // What a delivery reads and writes comes first (stored properties are
    // laid out in order): one cache line of the call per delivery.
    #if DEBUG
    var machine = StreamCallStateMachine() { didSet { updateDeliveryLimit() } }
    #else
    @exclusivity(unchecked) var machine = StreamCallStateMachine() { didSet { updateDeliveryLimit() } }
    #endif
    /// Behind: every tick goes through `conflated` until it catches up.
    #if DEBUG
    var conflating = false { didSet { updateDeliveryLimit() } }
    #else
    @exclusivity(unchecked) var conflating = false { didSet { updateDeliveryLimit() } }
    #endif
    /// Something was queued since the last heartbeat check.
    #if DEBUG
    var hadTraffic = false
    #else
    @exclusivity(unchecked) var hadTraffic = false
    #endif
    /// Cached from the configuration: read on every delivery.
    let maxPendingBytes: Int
    /// `outbound` and its pending bytes, for the delivery loop: used through
    /// `_withUnsafeGuaranteedRef`, they cost no retain and release per
    /// delivery (`outbound` keeps both alive as long as the call).
    let outboundRef: Unmanaged<HTTP2OutboundStream>
    let pendingRef: Unmanaged<PendingBytes>

    let streamID: Int32
    let grant: Grant
    /// Subscribe and unsubscribe requests, per second.
    var requestRate: RequestRateLimiter
    /// Strong: the context holds nothing back, and a strong `let` is read
    /// without retaining it (an `unowned(unsafe)` one is copied, retain and
    /// release, at every use).
    let context: CallContext
    let outbound: HTTP2OutboundStream
    private var deframer: GRPCMessageDeframer
    var subscriptions: StreamSubscriptions
    var conflated: [Int32: PendingTick] = [:]
    /// Pairs in `conflated`, oldest first.
    var conflationOrder: [Int32] = []
    /// Rate-capped pairs.
    var caps: [Int32: RateCap] = [:]
    var capsHolding = 0
    /// Some held pair is lossless (skips a lookup when none is).
    var hasLossless = false
    /// Symbols being replayed from Kafka before they join the live stream.
    var resumes: [String: SymbolResume] = [:]
    /// Live tick bytes held for them (bounded like what is pending).
    var heldBytes = 0
    /// This stream's replays running (one at a time).
    var replaysRunning = 0
    var quietSinceNanos: Int64
    /// A `Watch` call (or an SSE stream): the whole subscription comes in
    /// its one request, and a request refused as a whole ends the call.
    let isWatch: Bool
    private var watchRequested = false

    init(streamID: Int32, context: CallContext, grant: Grant, watch: Bool = false) {
        self.isWatch = watch
        self.streamID = streamID
        self.grant = grant
        self.requestRate = RequestRateLimiter(
            perSecond: min(context.limits.maxRequestsPerSecondPerStream, grant.rights.limits.requestsPerSecond ?? .max),
            now: Int64(NIODeadline.now().uptimeNanoseconds))
        self.context = context
        self.outbound = HTTP2OutboundStream()
        self.maxPendingBytes = context.limits.maxPendingBytesPerStream
        self.outboundRef = .passUnretained(outbound)
        self.pendingRef = .passUnretained(outbound.pending)
        outbound.pending.deliveryLimit = maxPendingBytes
        self.subscriptions = StreamSubscriptions(
            limit: min(context.limits.maxSubscriptionsPerStream, grant.rights.limits.subscriptions ?? .max))
        self.deframer = GRPCMessageDeframer(maxMessageSize: context.limits.maxMessageSize, allocator: context.allocator)
        self.quietSinceNanos = WallClock.nowNanos()
        context.stats.callObjects.add(1, ordering: .relaxed)
    }

    deinit { context.stats.callObjects.subtract(1, ordering: .relaxed) }

    // MARK: fan-out (hot path)

    /// A live tick of the delivery pass went to this stream's queue
    /// (`PendingBytes.borrowLive`: its shared, already-framed bytes are
    /// borrowed, not copied, until the pass ends) and the queue asks
    /// something of the call: list it for the pass's end or with the
    /// connection's output (once per stream per loop turn), or take the
    /// tick the slow way (refused: the stream is past its bound, behind, or
    /// ending).
    @inline(never)
    func borrowed(_ outcome: PendingBytes.BorrowOutcome, _ bytes: UnsafeRawBufferPointer, key: Int32) {
        if outcome.contains(.refused) {
            guard queuesTick(bytes, key: key) else { return }
            overflow(bytes, key: key, skipped: 0, snapshot: false)
            return
        }
        if outcome.contains(.listForPass) { context.borrowedInPass(pendingRef) }
        if outcome.contains(.queueForFlush) { context.queued(outbound) }
        // Once per flush is enough for the heartbeat check.
        hadTraffic = true
    }

    /// Live and not conflating: deliveries may borrow up to the bound;
    /// otherwise each is refused to ``borrowed(_:_:key:)``.
    private func updateDeliveryLimit() {
        outbound.pending.deliveryLimit = machine.isLive && !conflating ? maxPendingBytes : -1
    }

    /// Appends one tick's already-framed bytes (a copy: bytes that do not
    /// outlive the call, such as a held or replayed tick).
    @inline(__always)
    func enqueueTick(_ bytes: UnsafeRawBufferPointer, key: Int32) {
        guard queuesTick(bytes, key: key) else { return }
        let limit = maxPendingBytes
        if !pendingRef._withUnsafeGuaranteedRef({ $0.writeBytes(bytes, limit: limit) }) {
            overflow(bytes, key: key, skipped: 0, snapshot: false)
            return
        }
        hadTraffic = true
        // The context only once per stream per loop turn.
        if outboundRef._withUnsafeGuaranteedRef({ $0.queueForFlush() }) { context.queued(outbound) }
    }

    /// True when a tick goes into the queue; false when it was dropped (the
    /// call is ending) or conflated (the stream is behind).
    @inline(__always)
    private func queuesTick(_ bytes: UnsafeRawBufferPointer, key: Int32) -> Bool {
        guard machine.isLive else { return false }
        guard !conflating else {
            conflate(bytes, key: key, skipped: 0, snapshot: false)
            return false
        }
        return true
    }

    // MARK: events from the session

    func start(endStream: Bool) {
        if isWatch, endStream {
            perform(machine.start(endStream: false))
            perform(machine.fail(Self.watchNeedsRequest))
            return
        }
        perform(machine.start(endStream: endStream))
    }

    static let watchNeedsRequest = GRPCStatus(.invalidArgument, "Watch takes exactly one Subscribe request")

    /// The one request of a `Watch` call (or of an SSE stream).
    func watch(_ request: SubscribeRequest) {
        guard machine.acceptsMessages else { return }
        guard !watchRequested else {
            perform(machine.fail(Self.watchNeedsRequest))
            return
        }
        watchRequested = true
        subscribe(request)
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
        if isWatch, !watchRequested {
            perform(machine.fail(Self.watchNeedsRequest))
            return
        }
        perform(machine.receivedEndStream(subscriptions: subscriptions.interests.count))
    }

    func end(_ status: GRPCStatus) {
        perform(machine.fail(status))
    }

    func closed() {
        perform(machine.streamClosed())
    }

    // MARK: requests

    private func handle(_ message: ByteBuffer) {
        if isWatch {
            do {
                watch(try WireCodec.decodeSubscribe(message))
            } catch {
                perform(machine.fail(GRPCStatus(.internal, "error parsing request proto: \(error)")))
            }
            return
        }
        let decoded: ClientMessage
        do {
            decoded = try WireCodec.decodeClientMessage(message)
        } catch {
            perform(machine.fail(GRPCStatus(.internal, "error parsing request proto: \(error)")))
            return
        }
        switch decoded {
        case .subscribe(let request):
            guard withinRequestRate(request.requestID, request.symbols) else { return }
            subscribe(request)
        case .unsubscribe(let requestID, let requested, let venue):
            guard withinRequestRate(requestID, requested) else { return }
            unsubscribe(requestID: requestID, requested, venue: venue)
            perform(machine.subscriptionsChanged(count: subscriptions.interests.count))
        case .ping(let nonce, let clientTime):
            send(.pong(nonce: nonce, clientTimeNanos: clientTime, serverTimeNanos: WallClock.nowNanos()))
        }
    }

    /// Over the stream's request rate the request is refused (the stream
    /// stays) with a hint of when to retry.
    private func withinRequestRate(_ requestID: UInt64, _ symbols: [String]) -> Bool {
        guard let retryAfter = requestRate.take(now: Int64(NIODeadline.now().uptimeNanoseconds)) else { return true }
        context.stats.requestsRateLimited.add(1, ordering: .relaxed)
        let error = RequestError(
            requestID: requestID, code: Int32(GRPCStatusCode.resourceExhausted.rawValue),
            message: "more than \(requestRate.perSecond) subscribe/unsubscribe requests per second on this stream; retry in \(retryAfter) ms",
            symbols: Array(symbols.prefix(100)), retryAfterMillis: retryAfter)
        reply(refused: [error], accepted: [], requestID: requestID)
        return false
    }

    func reply(refused: [RequestError], accepted: [String], requestID: UInt64) {
        for error in refused {
            context.stats.recordRequestError(code: Int(error.code))
            send(.error(error))
        }
        send(.ack(requestID: requestID, symbols: accepted))
        if isWatch, accepted.isEmpty, let first = refused.first {
            // Nothing of the one request was taken: the call has no purpose.
            perform(machine.fail(GRPCStatus(GRPCStatusCode(rawValue: Int(first.code)) ?? .invalidArgument, first.message)))
        }
    }

    /// A `SymbolStatus` for one pair this stream holds.
    func sendStatus(_ status: SymbolStatus) {
        send(.symbolStatus(status))
    }

    /// The loop's periodic check: a stream with nothing sent for
    /// `intervalNanos` gets a heartbeat.
    func checkHeartbeat(now: Int64, intervalNanos: Int64) {
        guard machine.isLive else { return }
        if hadTraffic {
            hadTraffic = false
            quietSinceNanos = now
        } else if now - quietSinceNanos >= intervalNanos {
            send(.heartbeat(serverTimeNanos: now))
            context.stats.heartbeats.add(1, ordering: .relaxed)
            hadTraffic = false
            quietSinceNanos = now
        }
    }

    /// Control messages may pass the tick bound by this much: an ack or a
    /// status still reaches a stream that is behind (and conflated).
    static let controlAllowance = 64 * 1024

    func send(_ message: ServerMessage) {
        guard machine.isLive else { return }
        // Appended at once; far past the bound it is taken back, room is
        // made (or the stream reset) and, rarely, it is encoded again.
        let size = outbound.pending.writeMessage { WireCodec.encode(message, into: &$0) }
        if outbound.pending.readableBytes > maxPendingBytes + Self.controlAllowance {
            outbound.pending.removeLast(size)
            guard context.makeRoom(for: self), outbound.pending.readableBytes + size <= maxPendingBytes + Self.controlAllowance else {
                // Requests keep coming and nothing is read: not a client.
                perform(machine.tooSlow())
                return
            }
            outbound.pending.writeMessage { WireCodec.encode(message, into: &$0) }
        }
        hadTraffic = true
        context.hasOutput(outbound)
    }

    // MARK: actions

    func perform(_ actions: [StreamCallStateMachine.Action]) {
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
}
