import TickgateHTTP2

/// The lifecycle of one `PriceStream/Stream` call, as a pure value that
/// returns what to do; ``GatewayStream`` performs the I/O.
///
///     idle ──headers ok──▶ open ──client END_STREAM──▶ halfClosed
///       │                   │                            │ (no subscriptions left)
///       └─rejected──▶ closed ◀──finish(status)/reset─────┘
struct ServerStreamStateMachine {
    enum State: Equatable {
        case idle
        case open
        /// The client sent END_STREAM: no more requests, ticks keep flowing
        /// while subscriptions remain.
        case halfClosed
        /// Trailers are queued; nothing more is accepted.
        case finishing
        case closed
    }

    enum Action: Equatable {
        case none
        /// Send response headers; the stream is live.
        case sendResponseHeaders
        /// Answer not-gRPC with an HTTP status.
        case respondHTTP(status: Int, reason: String)
        /// Trailers-only response.
        case respondTrailersOnly(GRPCStatus, extraHeaders: [HTTP2Header])
        /// End the call after pending messages, with this status.
        case finish(GRPCStatus)
        /// Drop every subscription the stream holds.
        case releaseSubscriptions
    }

    private(set) var state: State = .idle

    var acceptsMessages: Bool { state == .open }
    var isLive: Bool { state == .open || state == .halfClosed }

    mutating func receivedHeaders(_ headers: [HTTP2Header], endStream: Bool) -> Action {
        guard state == .idle else {
            // Trailers from a client: they only carry END_STREAM for us.
            return endStream ? receivedEndStream(workRemaining: false) : .none
        }
        switch RequestHeadValidator.validate(headers) {
        case .accept:
            state = endStream ? .halfClosed : .open
            return .sendResponseHeaders
        case .rejectHTTP(let status, let reason):
            state = .finishing
            return .respondHTTP(status: status, reason: reason)
        case .rejectGRPC(let status, let extra):
            state = .finishing
            return .respondTrailersOnly(status, extraHeaders: extra)
        }
    }

    /// Refuses a request the validator accepted but this gateway cannot
    /// serve (publishing disabled): trailers-only.
    mutating func refuse(_ status: GRPCStatus) -> Action {
        guard state == .idle else { return .none }
        state = .finishing
        return .respondTrailersOnly(status, extraHeaders: [])
    }

    /// The client half-closed. With no work left (no subscriptions on a
    /// `Stream` call; a `Publish` call always waits for Kafka) the call is done.
    mutating func receivedEndStream(workRemaining: Bool) -> Action {
        switch state {
        case .open:
            state = .halfClosed
            return workRemaining ? .none : finish(.ok)
        default:
            return .none
        }
    }

    /// After an unsubscribe: a half-closed call with nothing left ends OK.
    mutating func subscriptionsChanged(count: Int) -> Action {
        state == .halfClosed && count == 0 ? finish(.ok) : .none
    }

    /// A request error that ends the call (malformed frame or protobuf,
    /// oversized message).
    mutating func fail(_ status: GRPCStatus) -> Action {
        isLive ? finish(status) : .none
    }

    /// nghttp2 closed the stream (done, reset by the client, or the
    /// connection went away).
    mutating func streamClosed() -> Action {
        let wasClosed = state == .closed
        state = .closed
        return wasClosed ? .none : .releaseSubscriptions
    }

    private mutating func finish(_ status: GRPCStatus) -> Action {
        state = .finishing
        return .finish(status)
    }
}
