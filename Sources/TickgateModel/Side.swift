/// The aggressor side of a trade.
public enum Side: Int32, Sendable, CaseIterable, CustomStringConvertible {
    case unspecified = 0
    case buy = 1
    case sell = 2

    public var description: String {
        switch self {
        case .unspecified: return "-"
        case .buy: return "buy"
        case .sell: return "sell"
        }
    }
}
