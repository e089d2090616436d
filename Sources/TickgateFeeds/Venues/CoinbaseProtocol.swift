public import TickgateModel

/// Coinbase Exchange WebSocket feed: `matches` and `heartbeat` channels.
/// `side` in a match is the maker's; the aggressor took the other side.
public struct CoinbaseProtocol: VenueProtocol {
    public let venue = "coinbase"
    public let defaultURL = "wss://ws-feed.exchange.coinbase.com"
    public let keepAliveMessage: String? = nil  // the heartbeat channel keeps it alive
    private var trades = TradeIDTracker()

    public init() {}

    public func url(base: String, symbols: [Symbol]) -> String { base }

    public func subscribeMessages(symbols: [Symbol]) -> [String] {
        let products = symbols.map { "\"\($0.rawValue)\"" }.joined(separator: ",")
        return ["{\"type\":\"subscribe\",\"product_ids\":[\(products)],\"channels\":[\"matches\",\"heartbeat\"]}"]
    }

    public mutating func resetSequences() { trades.reset() }

    public mutating func parse(_ text: String) -> [VenueEvent] {
        guard let message = try? JSONLine.parse(Substring(text)), let type = message["type"]?.text else {
            return [.malformed(text)]
        }
        switch type {
        case "subscriptions":
            return [.subscribed(text)]
        case "heartbeat":
            return [.heartbeat]
        case "error":
            return [.venueError([message["message"]?.text, message["reason"]?.text].compactMap { $0 }.joined(separator: ": "))]
        case "match", "last_match":
            guard let product = message["product_id"]?.text, let symbol = try? VenueSymbols.canonical(product),
                  let price = message.decimal("price"), let size = message.decimal("size"),
                  let id = message["trade_id"]?.text.flatMap({ UInt64($0) }),
                  let time = message["time"]?.text.flatMap({ TimeParsing.rfc3339(Substring($0)) }),
                  let makerSide = message["side"]?.text, makerSide == "buy" || makerSide == "sell" else {
                return [.malformed(text)]
            }
            var events: [VenueEvent] = []
            if let gap = trades.observe(id, symbol: symbol), type == "match" { events.append(gap) }
            let side: Side = makerSide == "sell" ? .buy : .sell
            events.append(.tick(VenueTick(symbol: symbol, price: price, size: size, side: side, tradeID: String(id), venueTimeNanos: time)))
            return events
        default:
            return [.ignored]
        }
    }
}
