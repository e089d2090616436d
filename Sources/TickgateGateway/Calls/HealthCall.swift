import Synchronization
import NIOCore
import TickgateHTTP2
import TickgateModel

/// `grpc.health.v1.Health/Check` (unary) and `/Watch` (the status now,
/// then each change, checked on the loop's one-second tick).
final class HealthCall: GatewayCall {
    let streamID: Int32
    private let context: CallContext
    let outbound = HTTP2OutboundStream()
    private let watch: Bool
    private var unary = UnaryCallStateMachine()
    /// Watch: a stream with one subscription (the service) until it ends.
    private var stream = StreamCallStateMachine()
    private var deframer: GRPCMessageDeframer
    private var request: ByteBuffer? = nil
    private var watched: String? = nil
    private var lastSent: HealthStatus? = nil

    init(streamID: Int32, context: CallContext, watch: Bool) {
        self.streamID = streamID
        self.context = context
        self.watch = watch
        self.deframer = GRPCMessageDeframer(maxMessageSize: context.limits.maxMessageSize, allocator: context.allocator)
        context.stats.callObjects.add(1, ordering: .relaxed)
    }

    deinit { context.stats.callObjects.subtract(1, ordering: .relaxed) }

    func start(endStream: Bool) {
        if watch {
            perform(stream.start(endStream: endStream))
        } else {
            perform(unary.start(endStream: endStream))
        }
    }

    func receivedData(_ bytes: UnsafeRawBufferPointer) {
        if watch {
            guard stream.acceptsMessages else { return }
            if let failure = deframer.feed(bytes, while: { stream.acceptsMessages && watched == nil }, startWatching) {
                perform(stream.fail(failure.status))
            }
        } else {
            guard unary.acceptsMessages else { return }
            if let failure = deframer.feed(bytes, while: { unary.acceptsMessages }, { message in
                request = message
                perform(unary.receivedMessage())
            }) {
                perform(unary.fail(failure.status))
            }
        }
    }

    func receivedEndStream() {
        if watch {
            perform(stream.receivedEndStream(subscriptions: watched == nil ? 0 : 1))
        } else {
            if unary.acceptsMessages, let failure = deframer.unfinished() {
                perform(unary.fail(failure.status))
                return
            }
            perform(unary.receivedEndStream())
        }
    }

    func end(_ status: GRPCStatus) {
        if watch {
            // Draining: watchers hear NOT_SERVING before the stream ends.
            if watched != nil, lastSent != .notServing { send(.notServing) }
            perform(stream.fail(status))
        } else {
            perform(unary.fail(status))
        }
    }

    func closed() {
        if watch { _ = stream.streamClosed() } else { unary.streamClosed() }
    }

    /// The loop's tick: a watcher is told when the status changed.
    func poll() {
        guard watch, stream.isLive, let service = watched else { return }
        let now = context.health?.status(of: service) ?? .serviceUnknown
        if now != lastSent { send(now) }
    }

    private func startWatching(_ message: ByteBuffer) {
        guard let service = try? WireCodec.decodeHealthCheckRequest(message) else {
            perform(stream.fail(GRPCStatus(.internal, "error parsing request proto")))
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

    private func perform(_ actions: [UnaryCallStateMachine.Action]) {
        for action in actions {
            switch action {
            case .sendResponseHeaders:
                context.submitResponse(self, headers: grpcResponseHeaders)
            case .respond:
                guard let request, let service = try? WireCodec.decodeHealthCheckRequest(request) else {
                    finish(GRPCStatus(.internal, "error parsing request proto"))
                    continue
                }
                guard let status = context.health?.status(of: service) else {
                    finish(GRPCStatus(.notFound, "unknown service \"\(service.prefix(128))\""))
                    continue
                }
                outbound.pending.writeMessage { WireCodec.encode(status, into: &$0) }
                finish(.ok)
            case .finish(let status):
                finish(status)
            }
        }
    }

    private func perform(_ actions: [StreamCallStateMachine.Action]) {
        for action in actions {
            switch action {
            case .sendResponseHeaders:
                context.submitResponse(self, headers: grpcResponseHeaders)
            case .finish(let status):
                finish(status)
            case .reset(let code):
                outbound.discardPending()
                context.submitReset(self, code)
            case .releaseSubscriptions:
                watched = nil
            }
        }
    }

    private func finish(_ status: GRPCStatus) {
        if status.code != .ok { context.stats.recordRequestError(code: status.code.rawValue) }
        outbound.finish(trailers: status.trailerFields)
        context.hasOutput(outbound)
    }
}
