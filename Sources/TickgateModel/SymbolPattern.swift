/// What a subscription names: one symbol (`BTC-USD`) or a pattern over
/// symbols: `BTC-*` (every quote of base BTC), `*-USD` (every base quoted
/// in USD) or `*` (everything). Matching is decided once per symbol, when
/// the gateway first sees it, never per tick.
public enum SymbolPattern: Hashable, Sendable, CustomStringConvertible {
    case exact(String)
    case base(String)
    case quote(String)
    case all

    /// Parses a symbol or pattern; the error says what is wrong with it.
    public init(validating text: String) throws(SymbolError) {
        if text == "*" {
            self = .all
        } else if text.hasSuffix("-*") {
            let base = String(text.dropLast(2))
            _ = try Symbol(validating: "\(base)-X").rawValue
            self = .base(base)
        } else if text.hasPrefix("*-") {
            let quote = String(text.dropFirst(2))
            _ = try Symbol(validating: "X-\(quote)").rawValue
            self = .quote(quote)
        } else if text.contains("*") {
            throw SymbolError(text: text, reason: "a pattern is BASE-*, *-QUOTE or *")
        } else {
            self = .exact(try Symbol(validating: text).rawValue)
        }
    }

    /// True when `symbol` (canonical) matches.
    public func matches(_ symbol: String) -> Bool {
        switch self {
        case .exact(let wanted): return symbol == wanted
        case .all: return true
        case .base(let base):
            return symbol.utf8.count > base.utf8.count + 1 && symbol.hasPrefix(base)
                && symbol.utf8[symbol.utf8.index(symbol.utf8.startIndex, offsetBy: base.utf8.count)] == UInt8(ascii: "-")
        case .quote(let quote):
            return symbol.utf8.count > quote.utf8.count + 1 && symbol.hasSuffix(quote)
                && symbol.utf8[symbol.utf8.index(symbol.utf8.endIndex, offsetBy: -quote.utf8.count - 1)] == UInt8(ascii: "-")
        }
    }

    /// The one symbol it names, if it is not a pattern.
    public var exactSymbol: String? {
        if case .exact(let symbol) = self { return symbol }
        return nil
    }

    public var description: String {
        switch self {
        case .exact(let symbol): return symbol
        case .base(let base): return "\(base)-*"
        case .quote(let quote): return "*-\(quote)"
        case .all: return "*"
        }
    }
}
