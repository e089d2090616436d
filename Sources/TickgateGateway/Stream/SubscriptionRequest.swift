import TickgateModel

/// How one subscribe request splits into accepted and refused symbols.
/// Pure: the caller applies it to the routing table.
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
        var malformed: [String] = []
        var reasons: [String] = []
        var unknown: [String] = []
        var overLimit: [String] = []
        var held = current
        for text in symbols {
            do {
                let symbol = try Symbol(validating: text)
                if let catalog, !catalog.contains(symbol.rawValue) {
                    unknown.append(text)
                } else if held.contains(symbol.rawValue) {
                    if !decision.accepted.contains(symbol.rawValue) { decision.accepted.append(symbol.rawValue) }
                } else if held.count >= limit {
                    overLimit.append(text)
                } else {
                    held.insert(symbol.rawValue)
                    decision.accepted.append(symbol.rawValue)
                }
            } catch {
                malformed.append(text)
                reasons.append(error.reason)
            }
        }
        if !malformed.isEmpty {
            let detail = zip(malformed, reasons).map { "\"\($0)\": \($1)" }.joined(separator: "; ")
            decision.refused.append(RequestError(requestID: requestID, code: 3, message: "malformed symbol(s): \(detail)", symbols: malformed))
        }
        if !unknown.isEmpty {
            decision.refused.append(RequestError(requestID: requestID, code: 5, message: "unknown symbol(s): this gateway does not serve them", symbols: unknown))
        }
        if !overLimit.isEmpty {
            decision.refused.append(RequestError(requestID: requestID, code: 8, message: "a stream holds at most \(limit) subscriptions", symbols: overLimit))
        }
        return decision
    }

    /// Unsubscribing is idempotent: every well-formed symbol is acknowledged.
    static func unsubscribe(requestID: UInt64, symbols: [String]) -> SubscriptionDecision {
        var decision = SubscriptionDecision()
        var malformed: [String] = []
        for text in symbols {
            if (try? Symbol(validating: text)) != nil {
                if !decision.accepted.contains(text) { decision.accepted.append(text) }
            } else {
                malformed.append(text)
            }
        }
        if !malformed.isEmpty {
            decision.refused.append(RequestError(requestID: requestID, code: 3, message: "malformed symbol(s)", symbols: malformed))
        }
        return decision
    }
}
