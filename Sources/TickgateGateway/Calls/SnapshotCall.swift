import Synchronization
import NIOCore
import TickgateHTTP2
import TickgateModel

/// One `PriceStream/GetSnapshot` call: the current tick of each (venue,
/// symbol) the request's symbols or patterns match, from this loop's
/// last-value cache.
final class SnapshotCall: GatewayCall {
    let streamID: Int32
    private let context: CallContext
    let outbound = HTTP2OutboundStream()
    private var machine = UnaryCallStateMachine()
    private var deframer: GRPCMessageDeframer
    private var request: ByteBuffer? = nil

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
                switch answer() {
                case .success(let response):
                    outbound.pending.writeMessage { WireCodec.encode(response, into: &$0) }
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

    private func answer() -> Result<SnapshotResponse, GRPCStatus> {
        guard let request else { return .failure(GRPCStatus(.internal, "no request message")) }
        let decoded: SnapshotRequest
        do {
            decoded = try WireCodec.decodeSnapshotRequest(request)
        } catch {
            return .failure(GRPCStatus(.internal, "error parsing request proto: \(error)"))
        }
        if !decoded.venue.isEmpty, !StreamCall.isValidVenue(decoded.venue) {
            return .failure(GRPCStatus(.invalidArgument, "malformed venue \"\(decoded.venue.prefix(64))\""))
        }
        let decision = SubscriptionDecision.subscribe(requestID: 0, symbols: decoded.symbols, catalog: context.limits.symbolCatalog)
        if let refused = decision.refused.first(where: { $0.code == GRPCStatusCode.invalidArgument.rawValue }) {
            return .failure(GRPCStatus(.invalidArgument, refused.message))
        }
        if decision.accepted.isEmpty {
            return .failure(GRPCStatus(.invalidArgument, "name at least one symbol or pattern"))
        }
        var matched: [Int32: MarketEntry] = [:]
        let limit = context.limits.maxSubscriptionsPerStream
        for pattern in decision.accepted {
            let key = StreamSubscriptions.InterestKey(pattern: pattern, venue: decoded.venue)
            for entry in context.candidates(for: pattern)
            where !entry.last.isEmpty && StreamSubscriptions.matches(key, venue: entry.venue, symbol: entry.symbol) {
                matched[entry.id] = entry
            }
            if matched.count > limit {
                return .failure(GRPCStatus(.resourceExhausted, "more than \(limit) (venue, symbol) pairs match; narrow the request"))
            }
        }
        var ticks: [Tick] = []
        for entry in matched.values {
            let message = entry.last.withBytes { bytes in
                try? WireCodec.decodeServerMessage(UnsafeRawBufferPointer(rebasing: bytes.dropFirst(5)))
            }
            guard case .tick(var tick) = message else { continue }
            tick.snapshot = true
            ticks.append(tick)
        }
        ticks.sort { ($0.symbol, $0.venue) < ($1.symbol, $1.venue) }
        return .success(SnapshotResponse(ticks: ticks, warmingUp: context.stats.warmingUp.load(ordering: .relaxed)))
    }
}
