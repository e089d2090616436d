public import TickgateModel

/// Coinbase Exchange WebSocket feed: `matches`, `ticker` and `heartbeat`.
/// `side` in a match is the maker's; the aggressor took the other side.
/// A ticker update becomes two quote ticks (best bid, best ask).
public struct CoinbaseProtocol: VenueProtocol {
    public enum Channel: String, Sendable, CaseIterable { case matches, ticker }

    public let venue = "coinbase"
    public let channels: [Channel]
    public let defaultURL = "wss://ws-feed.exchange.coinbase.com"
    public let keepAliveMessage: String? = nil  // the heartbeat channel keeps it alive
    private var trades = TradeIDTracker()

    public init(channels: [Channel] = [.matches]) {
        self.channels = channels
    }

    public func url(base: String, symbols: [Symbol]) -> String { base }

    public func subscribeMessages(symbols: [Symbol]) -> [String] {
        let products = symbols.map { "\"\($0.rawValue)\"" }.joined(separator: ",")
        let names = (channels.map(\.rawValue) + ["heartbeat"]).map { "\"\($0)\"" }.joined(separator: ",")
        return ["{\"type\":\"subscribe\",\"product_ids\":[\(products)],\"channels\":[\(names)]}"]
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
        case "ticker":
            guard let product = message["product_id"]?.text, let symbol = try? VenueSymbols.canonical(product),
                  let bid = message.decimal("best_bid"), let bidSize = message.decimal("best_bid_size"),
                  let ask = message.decimal("best_ask"), let askSize = message.decimal("best_ask_size") else {
                return [.malformed(text)]
            }
            let time = message["time"]?.text.flatMap { TimeParsing.rfc3339(Substring($0)) } ?? 0
            return VenueTick.quote(symbol: symbol, bid: bid, bidSize: bidSize, ask: ask, askSize: askSize, time: time)
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
