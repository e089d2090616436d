import Synchronization
import NIOCore
import TickgateHTTP2
import TickgateModel

/// `PriceStream/GetSnapshot`: the current tick of each (venue, symbol) the
/// request's symbols or patterns match, from this loop's last-value cache.
/// Served by a ``UnaryCall``.
enum SnapshotAnswer {
    /// The current ticks the request matches, from `context`'s loop cache.
    static func answer(_ request: ByteBuffer, context: CallContext, rights: AccessRights) -> Result<SnapshotResponse, GRPCStatus> {
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
        let forbidden = decision.accepted.filter { !rights.maySubscribe($0) }
        if !forbidden.isEmpty {
            return .failure(GRPCStatus(.permissionDenied, "this API key may not read \(forbidden.prefix(20).map(\.description).joined(separator: ", "))"))
        }
        var matched: [Int32: MarketEntry] = [:]
        let limit = min(context.limits.maxSubscriptionsPerStream, rights.limits.subscriptions ?? .max)
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
