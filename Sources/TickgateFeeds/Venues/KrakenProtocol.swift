public import TickgateModel

/// Kraken WebSocket v2: `trade` channel, `heartbeat`, `ping`/`pong`.
/// Prices arrive as full-precision JSON numbers, read exactly from their text.
public struct KrakenProtocol: VenueProtocol {
    public let venue = "kraken"
    public let defaultURL = "wss://ws.kraken.com/v2"
    public let keepAliveMessage: String? = "{\"method\":\"ping\"}"
    private var trades = TradeIDTracker()

    public init() {}

    static func venueSymbol(_ symbol: Symbol) -> String { "\(symbol.base)/\(symbol.quote)" }

    public func url(base: String, symbols: [Symbol]) -> String { base }

    public func subscribeMessages(symbols: [Symbol]) -> [String] {
        let pairs = symbols.map { "\"\(Self.venueSymbol($0))\"" }.joined(separator: ",")
        return ["{\"method\":\"subscribe\",\"params\":{\"channel\":\"trade\",\"symbol\":[\(pairs)],\"snapshot\":false},\"req_id\":1}"]
    }

    public mutating func resetSequences() { trades.reset() }

    public mutating func parse(_ text: String) -> [VenueEvent] {
        guard let message = try? JSONLine.parse(Substring(text)) else { return [.malformed(text)] }
        if let method = message["method"]?.text {
            switch method {
            case "subscribe":
                if message["success"] == .bool(true) { return [.subscribed(message["result"]?["symbol"]?.text ?? "")] }
                return [.venueError(message["error"]?.text ?? "subscription refused")]
            case "pong":
                return [.heartbeat]
            default:
                return [.ignored]
            }
        }
        switch message["channel"]?.text {
        case "heartbeat":
            return [.heartbeat]
        case "trade":
            guard let data = message["data"]?.array else { return [.malformed(text)] }
            var events: [VenueEvent] = []
            for trade in data {
                guard let pair = trade["symbol"]?.text, let symbol = try? VenueSymbols.canonical(pair),
                      let price = trade.decimal("price"), let size = trade.decimal("qty"),
                      let id = trade["trade_id"]?.text.flatMap({ UInt64($0) }),
                      let time = trade["timestamp"]?.text.flatMap({ TimeParsing.rfc3339(Substring($0)) }),
                      let side = trade["side"]?.text, side == "buy" || side == "sell" else {
                    events.append(.malformed(text))
                    continue
                }
                if let gap = trades.observe(id, symbol: symbol) { events.append(gap) }
                events.append(.tick(VenueTick(
                    symbol: symbol, price: price, size: size, side: side == "buy" ? .buy : .sell,
                    tradeID: String(id), venueTimeNanos: time)))
            }
            return events
        case "status":
            return [.ignored]
        default:
            return [.ignored]
        }
    }
}
