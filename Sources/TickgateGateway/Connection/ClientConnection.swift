import NIOCore
import TickgateHTTP2

/// A client connection as its loop and its calls see it, whatever it
/// speaks: HTTP/2 through nghttp2 (``GatewayConnectionHandler``) or
/// HTTP/1.1 for browsers (``HTTP1ConnectionHandler``). Lives on one event
/// loop.
protocol ClientConnection: AnyObject {
    // MARK: the loop

    /// Writes what its calls queued, in one socket write.
    func flush()
    /// The loop's periodic check (idle limit, heartbeats, revoked keys).
    func tick(now: NIODeadline)
    /// Graceful drain: open calls end UNAVAILABLE, then the socket closes.
    func drain(_ reason: ConnectionStateMachine.DrainReason)

    // MARK: its calls

    /// `outbound` has bytes for the next flush.
    func queueForFlush(_ outbound: HTTP2OutboundStream)
    /// Control output queued outside a read or a delivery.
    func requestFlush()
    /// Hands what `call` has pending to the socket now; false when that
    /// cannot be done now (inside a read, or the socket is not writable).
    func flushNow(for call: any GatewayCall) -> Bool
    /// `call` fell behind: after each write it may refill.
    func startedConflating(_ call: StreamCall)
    /// The call's response head (its body follows from `call.outbound`).
    func submitResponse(_ call: any GatewayCall, headers: [HTTP2Header])
    /// Ends the call at once without trailers.
    func submitReset(_ call: any GatewayCall, _ code: HTTP2ErrorCode)
}
