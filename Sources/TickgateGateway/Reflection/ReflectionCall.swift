import Synchronization
import NIOCore
import TickgateHTTP2
import TickgateModel

/// `grpc.reflection.v1[alpha].ServerReflection/ServerReflectionInfo`: one
/// response per request, in order, until the client half-closes (then
/// OK). Its lifecycle is a stream's, with no subscription. What is pending
/// for a client that asks without reading is bounded like a stream's.
final class ReflectionCall: GatewayCall {
    let streamID: Int32
    let grant: Grant
    private let context: CallContext
    let outbound = HTTP2OutboundStream()
    private var machine = StreamCallStateMachine()
    private var deframer: GRPCMessageDeframer
    private let index: ReflectionIndex

    init(streamID: Int32, context: CallContext, grant: Grant, index: ReflectionIndex = .served) {
        self.streamID = streamID
        self.grant = grant
        self.context = context
        self.index = index
        self.deframer = GRPCMessageDeframer(maxMessageSize: context.limits.maxMessageSize, allocator: context.allocator)
        context.stats.callObjects.add(1, ordering: .relaxed)
    }

    deinit { context.stats.callObjects.subtract(1, ordering: .relaxed) }

    func start(endStream: Bool) { perform(machine.start(endStream: endStream)) }

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
        perform(machine.receivedEndStream(subscriptions: 0))
    }

    func end(_ status: GRPCStatus) { perform(machine.fail(status)) }

    func closed() { _ = machine.streamClosed() }

    private func handle(_ message: ByteBuffer) {
        let request: ReflectionRequest
        do {
            request = try WireCodec.decodeReflectionRequest(message)
        } catch {
            perform(machine.fail(GRPCStatus(.internal, "error parsing request proto: \(error)")))
            return
        }
        guard outbound.pending.readableBytes <= context.limits.maxPendingBytesPerStream else {
            perform(machine.fail(GRPCStatus(.resourceExhausted, "reflection requests keep coming and the answers are not read")))
            return
        }
        let answer = index.answer(request)
        outbound.pending.writeMessage { WireCodec.encodeReflectionResponse(to: request, answer, into: &$0) }
        context.hasOutput(outbound)
    }

    private func perform(_ actions: [StreamCallStateMachine.Action]) {
        performStreamActions(actions, context: context)
    }
}
