import Synchronization
import NIOCore
import TickgateHTTP2
import TickgateModel

/// What a call may ask of its connection and event loop: the narrow view
/// a call gets instead of the connection's internals. Owned by the
/// connection, which outlives its calls.
final class CallContext {
    /// The connection owns its calls and closes them all before it goes
    /// away, so these back-references need no checked `unowned` (which
    /// costs an atomic per access on the delivery path).
    private unowned(unsafe) let connection: any ClientConnection
    private unowned(unsafe) let fanout: LoopFanout
    /// The fan-out for its per-stream calls of a delivery pass: used
    /// through `_withUnsafeGuaranteedRef`, it costs no retain and release
    /// (an `unowned(unsafe)` reference is copied, retained, at every use).
    private let fanoutRef: Unmanaged<LoopFanout>
    let limits: Limits
    let allocator: ByteBufferAllocator

    struct Limits {
        var heartbeatIntervalNanos: Int64?
        var maxMessageSize: Int
        var maxPendingBytesPerStream: Int
        var maxSubscriptionsPerStream: Int
        var maxRequestsPerSecondPerStream: Int
        var symbolCatalog: Set<String>?

        init(_ configuration: GatewayConfiguration) {
            heartbeatIntervalNanos = configuration.heartbeatInterval?.wholeNanoseconds
            maxMessageSize = configuration.maxMessageSize
            maxPendingBytesPerStream = configuration.maxPendingBytesPerStream
            maxSubscriptionsPerStream = configuration.maxSubscriptionsPerStream
            maxRequestsPerSecondPerStream = configuration.maxRequestsPerSecondPerStream
            symbolCatalog = configuration.symbolCatalog
        }
    }

    init(connection: any ClientConnection, fanout: LoopFanout, limits: Limits, allocator: ByteBufferAllocator) {
        self.connection = connection
        self.fanout = fanout
        self.fanoutRef = .passUnretained(fanout)
        self.limits = limits
        self.allocator = allocator
    }

    var stats: GatewayStats { fanout.stats }
    var eventLoop: any EventLoop { fanout.eventLoop }
    var publisher: PublishCoordinator? { fanout.publish }
    /// The JSON of ticks this loop's Server-Sent Events streams took.
    var tickJSON: TickJSONCache { fanout.tickJSON }

    // MARK: subscriptions

    func subscribe(_ id: Int32, _ call: StreamCall, capped: Bool) { fanout.subscribe(id, call, capped: capped) }
    func unsubscribe(_ id: Int32, _ call: StreamCall) { fanout.unsubscribe(id, call) }
    /// The pairs this loop knows that `pattern` may match.
    func candidates(for pattern: SymbolPattern) -> [MarketEntry] { fanout.candidates(for: pattern) }
    func entry(_ id: Int32) -> MarketEntry { fanout.entry(id) }
    func subscribeReplaying(_ id: Int32, _ call: StreamCall) { fanout.subscribeReplaying(id, call) }
    /// The last offset of `partition` the loop has handled.
    func position(of partition: Int32) -> Int64 { fanout.position(of: partition) }
    var replay: ReplayService? { fanout.replay }
    var health: GatewayHealth? { fanout.health }
    var partitionCount: Int { fanout.partitionCount() }
    /// Makes pairs the reader numbered since the loop last looked known here.
    func learnKeys() { fanout.learnKeys() }
    /// Offered every pair first seen from now on (it has symbols or patterns).
    func setInterested(_ call: StreamCall, _ interested: Bool) { fanout.setInterested(call, interested) }
    /// The call holds rate-capped ticks for the loop's rate timer.
    func holdsCappedTicks(_ call: StreamCall) { fanout.holdsCappedTicks(call) }
    /// The call fell behind: after each write the connection lets it refill.
    func startedConflating(_ call: StreamCall) { connection.startedConflating(call) }

    // MARK: output

    func submitResponse(_ call: some GatewayCall, headers: [HTTP2Header]) {
        connection.submitResponse(call, headers: headers)
    }

    func submitReset(_ call: some GatewayCall, _ code: HTTP2ErrorCode) {
        connection.submitReset(call, code)
    }

    /// The call appended to its pending bytes.
    @inline(__always)
    func hasOutput(_ outbound: HTTP2OutboundStream) {
        if outbound.queueForFlush() { queued(outbound) }
    }

    /// `pending` borrowed bytes of the loop's delivery pass for the first
    /// time in it: the pass copies in what is unsent when it ends.
    @inline(__always)
    func borrowedInPass(_ pending: Unmanaged<PendingBytes>) { fanoutRef._withUnsafeGuaranteedRef { $0.borrowedInPass(pending) } }

    /// `outbound` was just marked for the next flush: list it.
    @inline(__always)
    func queued(_ outbound: HTTP2OutboundStream) {
        connection.queueForFlush(outbound)
    }

    /// Hands what is pending to nghttp2 and the socket now, to make room
    /// under the call's bound. False when it cannot be done now (inside a
    /// read, or the socket is not writable): the bytes stay where they are.
    func makeRoom(for call: some GatewayCall) -> Bool {
        connection.flushNow(for: call)
    }

    /// Frames queued outside a read or a delivery (a publish summary):
    /// written on the next loop turn.
    func requestFlush() { connection.requestFlush() }
}
