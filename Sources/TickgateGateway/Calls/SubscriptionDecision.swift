import TickgateHTTP2
import TickgateModel

/// How one subscribe request splits into accepted and refused symbols.
/// Pure: the caller applies it to the routing table. Linear in the
/// request's size: duplicates are found with a set, never by scanning.
struct SubscriptionDecision: Equatable {
    var accepted: [String] = []
    var refused: [RequestError] = []

    /// - Parameters:
    ///   - current: symbols the stream already holds.
    ///   - catalog: the symbols this gateway serves, or nil to accept any
    ///     well-formed symbol.
    ///   - limit: most symbols one stream may hold.
    static func subscribe(
        requestID: UInt64, symbols: [String], current: Set<String>, catalog: Set<String>?, limit: Int
    ) -> SubscriptionDecision {
        var decision = SubscriptionDecision()
        var seen: Set<String> = []
        var malformed: [String] = []
        var reasons: [String] = []
        var unknown: [String] = []
        var overLimit: [String] = []
        var held = current.count
        for text in symbols {
            do {
                let symbol = try Symbol(validating: text).rawValue
                guard seen.insert(symbol).inserted else { continue }
                if let catalog, !catalog.contains(symbol) {
                    unknown.append(text)
                } else if current.contains(symbol) {
                    decision.accepted.append(symbol)
                } else if held >= limit {
                    overLimit.append(text)
                } else {
                    held += 1
                    decision.accepted.append(symbol)
                }
            } catch {
                malformed.append(text)
                reasons.append(error.reason)
            }
        }
        if !malformed.isEmpty {
            let detail = zip(malformed.prefix(20), reasons).map { "\"\($0)\": \($1)" }.joined(separator: "; ")
            let more = malformed.count > 20 ? " (and \(malformed.count - 20) more)" : ""
            decision.refused.append(RequestError(
                requestID: requestID, code: Int32(GRPCStatusCode.invalidArgument.rawValue),
                message: "malformed symbol(s): \(detail)\(more)", symbols: malformed))
        }
        if !unknown.isEmpty {
            decision.refused.append(RequestError(
                requestID: requestID, code: Int32(GRPCStatusCode.notFound.rawValue),
                message: "unknown symbol(s): this gateway does not serve them", symbols: unknown))
        }
        if !overLimit.isEmpty {
            decision.refused.append(RequestError(
                requestID: requestID, code: Int32(GRPCStatusCode.resourceExhausted.rawValue),
                message: "a stream holds at most \(limit) subscriptions", symbols: overLimit))
        }
        return decision
    }

    /// Unsubscribing is idempotent: every well-formed symbol is acknowledged.
    static func unsubscribe(requestID: UInt64, symbols: [String]) -> SubscriptionDecision {
        var decision = SubscriptionDecision()
        var seen: Set<String> = []
        var malformed: [String] = []
        for text in symbols {
            if (try? Symbol(validating: text)) != nil {
                if seen.insert(text).inserted { decision.accepted.append(text) }
            } else {
                malformed.append(text)
            }
        }
        if !malformed.isEmpty {
            decision.refused.append(RequestError(
                requestID: requestID, code: Int32(GRPCStatusCode.invalidArgument.rawValue),
                message: "malformed symbol(s)", symbols: malformed))
        }
        return decision
    }
}
