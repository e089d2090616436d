import TickgateHTTP2

/// The lifecycle of a unary call (one request message in, one response
/// out), as a pure value; ``UnaryCall`` performs the I/O.
///
///     awaitingRequest ──message──▶ haveRequest ──END_STREAM──▶ (respond) finishing ──▶ closed
///            └──END_STREAM / second message / bad frame──▶ finishing (error status)
struct UnaryCallStateMachine {
    enum State: Equatable {
        case awaitingRequest
        case haveRequest
        case finishing
        case closed
    }

    enum Action: Equatable {
        case sendResponseHeaders
        /// Answer the request held, then end OK.
        case respond
        case finish(GRPCStatus)
    }

    private(set) var state: State = .awaitingRequest

    var acceptsMessages: Bool { state == .awaitingRequest || state == .haveRequest }

    mutating func start(endStream: Bool) -> [Action] {
        [.sendResponseHeaders] + (endStream ? receivedEndStream() : [])
    }

    mutating func receivedMessage() -> [Action] {
        switch state {
        case .awaitingRequest:
            state = .haveRequest
            return []
        case .haveRequest:
            return fail(GRPCStatus(.internal, "more than one request message for a unary call"))
        case .finishing, .closed:
            return []
        }
    }

    mutating func receivedEndStream() -> [Action] {
        switch state {
        case .awaitingRequest:
            return fail(GRPCStatus(.internal, "no request message for a unary call"))
        case .haveRequest:
            state = .finishing
            return [.respond]
        case .finishing, .closed:
            return []
        }
    }

    mutating func fail(_ status: GRPCStatus) -> [Action] {
        guard acceptsMessages else { return [] }
        state = .finishing
        return [.finish(status)]
    }

    mutating func streamClosed() {
        state = .closed
    }
}
