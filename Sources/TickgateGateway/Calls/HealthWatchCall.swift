import Synchronization
import NIOCore
import TickgateHTTP2
import TickgateModel

/// `grpc.health.v1.Health/Watch`: the status now, then each change (checked
/// on the loop's one-second tick). Its lifecycle is a stream's with one
/// subscription (the service) until it ends. `Check` is a ``UnaryCall``.
final class HealthWatchCall: GatewayCall {
    let streamID: Int32
    var grant: Grant { .healthProbe }
    private let context: CallContext
    let outbound = HTTP2OutboundStream()
    private var machine = StreamCallStateMachine()
    private var deframer: GRPCMessageDeframer
    private var watched: String? = nil
    private var lastSent: HealthStatus? = nil

    init(streamID: Int32, context: CallContext) {
        self.streamID = streamID
        self.context = context
        self.deframer = GRPCMessageDeframer(maxMessageSize: context.limits.maxMessageSize, allocator: context.allocator)
        context.stats.callObjects.add(1, ordering: .relaxed)
    }

    deinit { context.stats.callObjects.subtract(1, ordering: .relaxed) }

    func start(endStream: Bool) { perform(machine.start(endStream: endStream)) }

    func receivedData(_ bytes: UnsafeRawBufferPointer) {
        guard machine.acceptsMessages else { return }
        if let failure = deframer.feed(bytes, while: { machine.acceptsMessages && watched == nil }, startWatching) {
            perform(machine.fail(failure.status))
        }
    }

    func receivedEndStream() {
        perform(machine.receivedEndStream(subscriptions: watched == nil ? 0 : 1))
    }

    func end(_ status: GRPCStatus) {
        // Draining: watchers hear NOT_SERVING before the stream ends.
        if watched != nil, lastSent != .notServing { send(.notServing) }
        perform(machine.fail(status))
    }

    func closed() { _ = machine.streamClosed() }

    /// The loop's tick: a watcher is told when the status changed.
    func poll() {
        guard machine.isLive, let service = watched else { return }
        let now = context.health?.status(of: service) ?? .serviceUnknown
        if now != lastSent { send(now) }
    }

    private func startWatching(_ message: ByteBuffer) {
        guard let service = try? WireCodec.decodeHealthCheckRequest(message) else {
            perform(machine.fail(GRPCStatus(.internal, "error parsing request proto")))
            return
        }
        watched = service
        send(context.health?.status(of: service) ?? .serviceUnknown)
    }

    private func send(_ status: HealthStatus) {
        lastSent = status
        outbound.pending.writeMessage { WireCodec.encode(status, into: &$0) }
        context.hasOutput(outbound)
    }

    private func perform(_ actions: [StreamCallStateMachine.Action]) {
        performStreamActions(actions, context: context) { watched = nil }
    }
}
