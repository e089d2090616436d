import Synchronization
import NIOCore
import TickgateHTTP2
import TickgateModel

/// A unary call (one request message in, one response out): its lifecycle
/// in ``UnaryCallStateMachine``, the I/O here, and what it answers in
/// `answer` (GetSnapshot, Health/Check).
final class UnaryCall: GatewayCall {
    /// The response message (written into the framed body), or the status
    /// that ends the call instead.
    typealias Answer = (ByteBuffer, CallContext) -> Result<(inout ByteBuffer) -> Void, GRPCStatus>

    let streamID: Int32
    let grant: Grant
    private let context: CallContext
    let outbound = HTTP2OutboundStream()
    private var machine = UnaryCallStateMachine()
    private var deframer: GRPCMessageDeframer
    private var request: ByteBuffer? = nil
    private let answer: Answer

    init(streamID: Int32, context: CallContext, grant: Grant, answer: @escaping Answer) {
        self.streamID = streamID
        self.grant = grant
        self.context = context
        self.answer = answer
        self.deframer = GRPCMessageDeframer(maxMessageSize: context.limits.maxMessageSize, allocator: context.allocator)
        context.stats.callObjects.add(1, ordering: .relaxed)
    }

    deinit { context.stats.callObjects.subtract(1, ordering: .relaxed) }

    func start(endStream: Bool) { perform(machine.start(endStream: endStream)) }

    func receivedData(_ bytes: UnsafeRawBufferPointer) {
        guard machine.acceptsMessages else { return }
        if let failure = deframer.feed(bytes, while: { machine.acceptsMessages }, { message in
            request = message
            perform(machine.receivedMessage())
        }) {
            perform(machine.fail(failure.status))
        }
    }

    func receivedEndStream() {
        if machine.acceptsMessages, let failure = deframer.unfinished() {
            perform(machine.fail(failure.status))
            return
        }
        perform(machine.receivedEndStream())
    }

    func end(_ status: GRPCStatus) { perform(machine.fail(status)) }

    func closed() { machine.streamClosed() }

    private func perform(_ actions: [UnaryCallStateMachine.Action]) {
        for action in actions {
            switch action {
            case .sendResponseHeaders:
                context.submitResponse(self, headers: grpcResponseHeaders)
            case .respond:
                guard let request else {
                    finish(GRPCStatus(.internal, "no request message"))
                    continue
                }
                switch answer(request, context) {
                case .success(let write):
                    outbound.pending.writeMessage(write)
                    finish(.ok)
                case .failure(let status):
                    finish(status)
                }
            case .finish(let status):
                finish(status)
            }
        }
    }

    private func finish(_ status: GRPCStatus) {
        if status.code != .ok { context.stats.recordRequestError(code: status.code.rawValue) }
        outbound.finish(trailers: status.trailerFields)
        context.hasOutput(outbound)
    }
}

extension UnaryCall {
    static func snapshot(streamID: Int32, context: CallContext, grant: Grant) -> UnaryCall {
        UnaryCall(streamID: streamID, context: context, grant: grant) { request, context in
            SnapshotAnswer.answer(request, context: context, rights: grant.rights).map { response in { WireCodec.encode(response, into: &$0) } }
        }
    }

    static func healthCheck(streamID: Int32, context: CallContext) -> UnaryCall {
        UnaryCall(streamID: streamID, context: context, grant: .healthProbe) { request, context in
            guard let service = try? WireCodec.decodeHealthCheckRequest(request) else {
                return .failure(GRPCStatus(.internal, "error parsing request proto"))
            }
            guard let status = context.health?.status(of: service) else {
                return .failure(GRPCStatus(.notFound, "unknown service \"\(service.prefix(128))\""))
            }
            return .success { WireCodec.encode(status, into: &$0) }
        }
    }
}
