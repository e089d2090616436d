import TickgateHTTP2
import TickgateModel

extension RequestError {
    /// Most symbols one error lists: an error stays a small control message
    /// however large the request (the ack lists what was accepted).
    static let maxListedSymbols = 1000

    static func capped(requestID: UInt64, code: GRPCStatusCode, message: String, symbols: [String]) -> RequestError {
        let more = symbols.count - maxListedSymbols
        return RequestError(
            requestID: requestID, code: Int32(code.rawValue),
            message: more > 0 ? "\(message) (\(symbols.count) in all; the first \(maxListedSymbols) are listed)" : message,
            symbols: Array(symbols.prefix(maxListedSymbols)))
    }
}

/// How the names in one subscribe or unsubscribe request split into
/// accepted symbols or patterns and refused ones. Pure: the stream applies
/// it to its ``StreamSubscriptions``. Linear in the request's size:
/// duplicates are found with a set, never by scanning.
struct SubscriptionDecision: Equatable {
    var accepted: [SymbolPattern] = []
    var refused: [RequestError] = []

    /// The accepted names, as acknowledged.
    var acceptedNames: [String] { accepted.map(\.description) }

    /// - Parameter catalog: the symbols this gateway serves, or nil to
    ///   accept any well-formed symbol. Patterns are always accepted: they
    ///   match only what the gateway serves.
    static func subscribe(requestID: UInt64, symbols: [String], catalog: Set<String>?) -> SubscriptionDecision {
        var decision = SubscriptionDecision()
        var seen: Set<SymbolPattern> = []
        var malformed: [String] = []
        var reasons: [String] = []
        var unknown: [String] = []
        for text in symbols {
            do {
                let pattern = try SymbolPattern(validating: text)
                guard seen.insert(pattern).inserted else { continue }
                if let catalog, let symbol = pattern.exactSymbol, !catalog.contains(symbol) {
                    unknown.append(text)
                } else {
                    decision.accepted.append(pattern)
                }
            } catch {
                malformed.append(text)
                reasons.append(error.reason)
            }
        }
        decision.refuseMalformed(malformed, reasons: reasons, requestID: requestID)
        if !unknown.isEmpty {
            decision.refused.append(RequestError.capped(
                requestID: requestID, code: .notFound,
                message: "unknown symbol(s): this gateway does not serve them", symbols: unknown))
        }
        return decision
    }

    /// Unsubscribing is idempotent: every well-formed name is acknowledged.
    static func unsubscribe(requestID: UInt64, symbols: [String]) -> SubscriptionDecision {
        var decision = SubscriptionDecision()
        var seen: Set<SymbolPattern> = []
        var malformed: [String] = []
        var reasons: [String] = []
        for text in symbols {
            do {
                let pattern = try SymbolPattern(validating: text)
                if seen.insert(pattern).inserted { decision.accepted.append(pattern) }
            } catch {
                malformed.append(text)
                reasons.append(error.reason)
            }
        }
        decision.refuseMalformed(malformed, reasons: reasons, requestID: requestID)
        return decision
    }

    /// What the caller's key may not subscribe to is refused
    /// PERMISSION_DENIED; the rest of the request goes on.
    mutating func refuseForbidden(by rights: AccessRights, requestID: UInt64) {
        let forbidden = accepted.filter { !rights.maySubscribe($0) }
        guard !forbidden.isEmpty else { return }
        accepted.removeAll { !rights.maySubscribe($0) }
        refused.append(RequestError.capped(
            requestID: requestID, code: .permissionDenied,
            message: "this API key may not subscribe to these", symbols: forbidden.map(\.description)))
    }

    private mutating func refuseMalformed(_ malformed: [String], reasons: [String], requestID: UInt64) {
        guard !malformed.isEmpty else { return }
        let detail = zip(malformed.prefix(20), reasons).map { "\"\($0)\": \($1)" }.joined(separator: "; ")
        let more = malformed.count > 20 ? " (and \(malformed.count - 20) more)" : ""
        refused.append(RequestError.capped(
            requestID: requestID, code: .invalidArgument,
            message: "malformed symbol(s) or pattern(s): \(detail)\(more)", symbols: malformed))
    }
}
