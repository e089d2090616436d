import TickgateHTTP2

/// The lifecycle of one `PriceStream/Stream` call, as a pure value that
/// returns what to do; ``StreamCall`` performs the I/O.
///
///     open ──client END_STREAM / trailers──▶ halfClosed
///      │                                        │ (no subscriptions left)
///      └──finish(status) / reset──▶ finishing ◀─┘ ──stream closed──▶ closed
///
/// A request whose HEADERS carry END_STREAM has no request message, so no
/// subscription: it ends OK at once. Request trailers are an END_STREAM
/// like any other: ticks keep flowing while subscriptions remain.
struct StreamCallStateMachine {
    enum State: Equatable {
        case open
        /// The client sent END_STREAM: no more requests, ticks keep flowing
        /// while subscriptions remain.
        case halfClosed
        /// Trailers or a reset are queued; nothing more is accepted.
        case finishing
        case closed
    }

    enum Action: Equatable {
        /// Send response headers; the call is live.
        case sendResponseHeaders
        /// Drop every subscription, then end the call after what is
        /// pending with these trailers.
        case finish(GRPCStatus)
        /// Drop every subscription and what is pending, and reset the
        /// stream with this HTTP/2 error code.
        case reset(HTTP2ErrorCode)
        /// Drop every subscription (the stream is gone).
        case releaseSubscriptions
    }

    private(set) var state: State = .open

    var acceptsMessages: Bool { state == .open }
    var isLive: Bool { state == .open || state == .halfClosed }

    /// The request's HEADERS were accepted.
    mutating func start(endStream: Bool) -> [Action] {
        guard endStream else { return [.sendResponseHeaders] }
        return [.sendResponseHeaders] + receivedEndStream(subscriptions: 0)
    }

    /// END_STREAM (on DATA, or on request trailers). With nothing
    /// subscribed the call is done.
    mutating func receivedEndStream(subscriptions: Int) -> [Action] {
        guard state == .open else { return [] }
        state = .halfClosed
        return subscriptions == 0 ? [finish(.ok)] : []
    }

    /// After an unsubscribe: a half-closed call with nothing left ends OK.
    mutating func subscriptionsChanged(count: Int) -> [Action] {
        state == .halfClosed && count == 0 ? [finish(.ok)] : []
    }

    /// A request error that ends the call (malformed frame or protobuf,
    /// oversized message), or the gateway ending it (shutdown, overload).
    mutating func fail(_ status: GRPCStatus) -> [Action] {
        isLive ? [finish(status)] : []
    }

    /// More would wait for this client than its bound allows: it is not
    /// reading. gRPC clients see ENHANCE_YOUR_CALM as RESOURCE_EXHAUSTED.
    mutating func tooSlow() -> [Action] {
        guard isLive else { return [] }
        state = .finishing
        return [.reset(.enhanceYourCalm)]
    }

    /// nghttp2 closed the stream (done, reset by the client, or the
    /// connection went away).
    mutating func streamClosed() -> [Action] {
        let wasClosed = state == .closed
        state = .closed
        return wasClosed ? [] : [.releaseSubscriptions]
    }

    private mutating func finish(_ status: GRPCStatus) -> Action {
        state = .finishing
        return .finish(status)
    }
}
