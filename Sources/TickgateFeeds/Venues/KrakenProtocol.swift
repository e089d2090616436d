public import TickgateModel

/// Kraken WebSocket v2: `trade` and `ticker` channels, `heartbeat`,
/// `ping`/`pong`. Prices arrive as full-precision JSON numbers, read exactly
/// from their text. A ticker update becomes two quote ticks.
public struct KrakenProtocol: VenueProtocol {
    public enum Channel: String, Sendable, CaseIterable { case trade, ticker }

    public let venue = "kraken"
    public let channels: [Channel]
    public let defaultURL = "wss://ws.kraken.com/v2"
    public let keepAliveMessage: String? = "{\"method\":\"ping\"}"
    private var trades = TradeIDTracker()

    public init(channels: [Channel] = [.trade]) {
        self.channels = channels
    }

    static func venueSymbol(_ symbol: Symbol) -> String { "\(symbol.base)/\(symbol.quote)" }

    public func url(base: String, symbols: [Symbol]) -> String { base }

    public func subscribeMessages(symbols: [Symbol]) -> [String] {
        let pairs = symbols.map { "\"\(Self.venueSymbol($0))\"" }.joined(separator: ",")
        // One subscribe request per channel, as v2 requires.
        return channels.enumerated().map { index, channel in
            let snapshot = channel == .ticker ? "true" : "false"
            return "{\"method\":\"subscribe\",\"params\":{\"channel\":\"\(channel.rawValue)\",\"symbol\":[\(pairs)],\"snapshot\":\(snapshot)},\"req_id\":\(index + 1)}"
        }
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
        case "ticker":
            guard let data = message["data"]?.array else { return [.malformed(text)] }
            var events: [VenueEvent] = []
            for quote in data {
                guard let pair = quote["symbol"]?.text, let symbol = try? VenueSymbols.canonical(pair),
                      let bid = quote.decimal("bid"), let bidSize = quote.decimal("bid_qty"),
                      let ask = quote.decimal("ask"), let askSize = quote.decimal("ask_qty") else {
                    events.append(.malformed(text))
                    continue
                }
                let time = quote["timestamp"]?.text.flatMap { TimeParsing.rfc3339(Substring($0)) } ?? 0
                events += VenueTick.quote(symbol: symbol, bid: bid, bidSize: bidSize, ask: ask, askSize: askSize, time: time)
            }
            return events
        case "status":
            return [.ignored]
        default:
            return [.ignored]
        }
    }
}
