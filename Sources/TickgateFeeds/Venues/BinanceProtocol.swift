public import TickgateModel

/// Binance spot WebSocket streams (`trade`, `bookTicker`), combined-stream
/// endpoint with a `SUBSCRIBE` request. Prices arrive as decimal strings.
public struct BinanceProtocol: VenueProtocol {
    public enum Stream: String, Sendable, CaseIterable { case trade, bookTicker }

    public let venue = "binance"
    public let defaultURL = "wss://stream.binance.com:9443"
    public let streams: [Stream]
    public let keepAliveMessage: String? = nil  // Binance pings at the WebSocket level
    private var trades = TradeIDTracker()

    public init(streams: [Stream] = [.trade]) {
        self.streams = streams
    }

    static func venueSymbol(_ symbol: Symbol) -> String {
        (symbol.base + symbol.quote).lowercased()
    }

    public func url(base: String, symbols: [Symbol]) -> String {
        base.hasSuffix("/stream") ? base : base + "/stream"
    }

    public func subscribeMessages(symbols: [Symbol]) -> [String] {
        let params = symbols.flatMap { symbol in streams.map { "\"\(Self.venueSymbol(symbol))@\($0.rawValue)\"" } }
        return ["{\"method\":\"SUBSCRIBE\",\"params\":[\(params.joined(separator: ","))],\"id\":1}"]
    }

    public mutating func resetSequences() { trades.reset() }

    public mutating func parse(_ text: String) -> [VenueEvent] {
        guard let message = try? JSONLine.parse(Substring(text)) else { return [.malformed(text)] }
        if let error = message["error"] {
            return [.venueError(error["msg"]?.text ?? "\(error)")]
        }
        if message["result"] != nil, message["id"] != nil {
            return [.subscribed("request \(message["id"]?.text ?? "?")")]
        }
        // Combined streams wrap each event: {"stream": "...", "data": {...}}.
        let event = message["data"] ?? message
        if event["e"]?.text == "trade" {
            guard let venueSymbol = event["s"]?.text, let symbol = try? VenueSymbols.canonical(venueSymbol),
                  let price = event.decimal("p"), let size = event.decimal("q"),
                  let id = event["t"]?.text.flatMap({ UInt64($0) }),
                  let millis = event["T"]?.text.flatMap({ Int64($0) }), millis >= 0,
                  case (let time, false) = millis.multipliedReportingOverflow(by: 1_000_000),  // a trap, found by fuzzing
                  let maker = event["m"] else {
                return [.malformed(text)]
            }
            var events: [VenueEvent] = []
            if let gap = trades.observe(id, symbol: symbol) { events.append(gap) }
            // The buyer made the resting order: the seller was the aggressor.
            let side: Side = maker == .bool(true) ? .sell : .buy
            events.append(.tick(VenueTick(symbol: symbol, price: price, size: size, side: side, tradeID: String(id), venueTimeNanos: time)))
            return events
        }
        if event["u"] != nil, event["b"] != nil, event["a"] != nil {
            guard let venueSymbol = event["s"]?.text, let symbol = try? VenueSymbols.canonical(venueSymbol),
                  let bid = event.decimal("b"), let bidSize = event.decimal("B"),
                  let ask = event.decimal("a"), let askSize = event.decimal("A") else {
                return [.malformed(text)]
            }
            return VenueTick.quote(symbol: symbol, bid: bid, bidSize: bidSize, ask: ask, askSize: askSize, time: 0)
        }
        return [.ignored]
    }
}
