import NIOCore
import TickgateHTTP2
import TickgateModel

/// One stream's client-side state, on the connection's event loop.
final class ClientStreamState {
    let outbound: HTTP2OutboundStream
    var deframer: GRPCMessageDeframer
    let ticks: TickBuffer
    /// Received DATA bytes not yet given back as window: the reader is behind.
    var withheldBytes = 0
    let statuses: AsyncStream<SymbolStatusUpdate>.Continuation
    let heartbeats: AsyncStream<Int64>.Continuation
    let resumes: AsyncStream<ResumeStatus>.Continuation
    var nextRequestID: UInt64 = 1
    var pendingRequests: [UInt64: (errors: [SubscriptionResult.RefusedSymbols], continuation: CheckedContinuation<SubscriptionResult, any Error>)] = [:]
    var pendingPings: [UInt64: (sent: Int64, continuation: CheckedContinuation<PingResult, any Error>)] = [:]
    var sawResponseHeaders = false
    var finished = false

    init(
        outbound: HTTP2OutboundStream, maxMessageSize: Int, ticks: TickBuffer,
        statuses: AsyncStream<SymbolStatusUpdate>.Continuation, heartbeats: AsyncStream<Int64>.Continuation,
        resumes: AsyncStream<ResumeStatus>.Continuation
    ) {
        self.heartbeats = heartbeats
        self.resumes = resumes
        self.outbound = outbound
        self.deframer = GRPCMessageDeframer(maxMessageSize: maxMessageSize)
        self.ticks = ticks
        self.statuses = statuses
    }

    func handle(_ message: ServerMessage, receivedAt: Int64) {
        switch message {
        case .tick(let tick):
            _ = ticks.push(TickDelivery(tick: tick, receivedAtNanos: receivedAt))
        case .batch(let batch):
            for tick in batch { _ = ticks.push(TickDelivery(tick: tick, receivedAtNanos: receivedAt)) }
        case .error(let error):
            pendingRequests[error.requestID]?.errors.append(
                .init(code: error.code, message: error.message, symbols: error.symbols, retryAfterMillis: error.retryAfterMillis))
        case .ack(let requestID, let symbols):
            if let pending = pendingRequests.removeValue(forKey: requestID) {
                pending.continuation.resume(returning: SubscriptionResult(accepted: symbols, refused: pending.errors))
            }
        case .symbolStatus(let status):
            statuses.yield(SymbolStatusUpdate(
                symbol: status.symbol, venue: status.venue, stale: status.stale, added: status.added,
                lastTickTimeNanos: status.lastTickTimeNanos))
        case .heartbeat(let serverTime):
            heartbeats.yield(serverTime)
        case .resumeStatus(let status):
            resumes.yield(status)
        case .lagging(let positions, let message):
            finish(TickgateClientError.lagging(positions: positions, message: message))
        case .pong(let nonce, _, let serverTime):
            if let pending = pendingPings.removeValue(forKey: nonce) {
                pending.continuation.resume(returning: PingResult(
                    clientSendNanos: pending.sent, serverTimeNanos: serverTime, clientReceiveNanos: WallClock.nowNanos()))
            }
        }
    }

    /// Ends the stream: the tick sequence finishes (throwing unless `error`
    /// is nil) and every waiting request fails.
    func finish(_ error: (any Error)?) {
        guard !finished else { return }
        finished = true
        let failure = error ?? TickgateClientError.connectionClosed
        for (_, pending) in pendingRequests { pending.continuation.resume(throwing: failure) }
        for (_, pending) in pendingPings { pending.continuation.resume(throwing: failure) }
        pendingRequests.removeAll()
        pendingPings.removeAll()
        statuses.finish()
        heartbeats.finish()
        resumes.finish()
        ticks.finish(error)
    }
}
