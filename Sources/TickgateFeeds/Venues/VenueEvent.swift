public import TickgateModel

/// What a venue's message says, once parsed.
public enum VenueEvent: Sendable, Equatable {
    /// A trade (or a quote, for book-ticker streams: side = book side).
    case tick(VenueTick)
    /// The venue confirmed a subscription.
    case subscribed(String)
    case heartbeat
    /// The venue reported an error in-band.
    case venueError(String)
    /// The venue's own sequence skipped: `missing` updates of `symbol` never came.
    case gap(symbol: Symbol, expected: UInt64, received: UInt64)
    /// A message that is not what the venue documents.
    case malformed(String)
    /// Something known but not needed (status, snapshots of other channels).
    case ignored
}

public struct VenueTick: Sendable, Equatable {
    public var symbol: Symbol
    public var price: ExactDecimal
    public var size: ExactDecimal
    public var side: Side
    public var tradeID: String
    public var venueTimeNanos: Int64

    public init(symbol: Symbol, price: ExactDecimal, size: ExactDecimal, side: Side, tradeID: String, venueTimeNanos: Int64) {
        self.symbol = symbol
        self.price = price
        self.size = size
        self.side = side
        self.tradeID = tradeID
        self.venueTimeNanos = venueTimeNanos
    }
}

/// One exchange's WebSocket protocol: what to send, how to read what comes.
/// Pure: no I/O, so every venue is tested on recorded messages.
public protocol VenueProtocol: Sendable {
    var venue: String { get }
    /// The live endpoint, used when no `--url` is given.
    var defaultURL: String { get }
    /// The URL to connect to for `symbols` (some venues subscribe in the URL).
    func url(base: String, symbols: [Symbol]) -> String
    /// Text frames to send once connected.
    func subscribeMessages(symbols: [Symbol]) -> [String]
    /// An application-level keep-alive to send when the venue has been quiet,
    /// if the venue has one (WebSocket pings are answered separately).
    var keepAliveMessage: String? { get }
    /// Reads one text frame. Tracks the venue's sequence per symbol to report gaps.
    mutating func parse(_ text: String) -> [VenueEvent]
    /// After a reconnect the venue's sequences start afresh.
    mutating func resetSequences()
}

/// Last trade id per symbol, for venues whose trade ids count up by one.
struct TradeIDTracker: Sendable {
    private var last: [Symbol: UInt64] = [:]

    /// A gap event when `id` skips ids after the previous one of `symbol`.
    mutating func observe(_ id: UInt64, symbol: Symbol) -> VenueEvent? {
        defer { if id > (last[symbol] ?? 0) { last[symbol] = id } }
        guard let previous = last[symbol], id > previous + 1 else { return nil }
        return .gap(symbol: symbol, expected: previous + 1, received: id)
    }

    mutating func reset() { last.removeAll() }
}

extension JSONValue {
    func decimal(_ key: String) -> ExactDecimal? {
        guard let text = self[key]?.text else { return nil }
        return try? ExactDecimal(parsing: text)
    }
}

extension VenueTick {
    /// A quote as two ticks, one per side of the book (side = book side), as
    /// Binance's bookTicker, Coinbase's and Kraken's ticker channels give it.
    static func quote(symbol: Symbol, bid: ExactDecimal, bidSize: ExactDecimal, ask: ExactDecimal, askSize: ExactDecimal, time: Int64) -> [VenueEvent] {
        [
            .tick(VenueTick(symbol: symbol, price: bid, size: bidSize, side: .buy, tradeID: "", venueTimeNanos: time)),
            .tick(VenueTick(symbol: symbol, price: ask, size: askSize, side: .sell, tradeID: "", venueTimeNanos: time)),
        ]
    }
}
