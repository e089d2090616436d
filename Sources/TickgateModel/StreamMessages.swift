/// What a client sends on a `PriceStream/Stream` call.
public enum ClientMessage: Hashable, Sendable {
    case subscribe(SubscribeRequest)
    case unsubscribe(requestID: UInt64, symbols: [String], venue: String)
    case ping(nonce: UInt64, clientTimeNanos: Int64)

    /// A plain subscription: live ticks of these symbols or patterns, every venue.
    public static func subscribe(requestID: UInt64, symbols: [String]) -> ClientMessage {
        .subscribe(SubscribeRequest(requestID: requestID, symbols: symbols))
    }

    public static func unsubscribe(requestID: UInt64, symbols: [String]) -> ClientMessage {
        .unsubscribe(requestID: requestID, symbols: symbols, venue: "")
    }
}

/// One `Subscribe` request: see `Protos/tickgate/v1/tickgate.proto`.
public struct SubscribeRequest: Hashable, Sendable {
    public var requestID: UInt64
    /// Symbols or patterns (`BTC-*`, `*-USD`, `*`).
    public var symbols: [String]
    /// Only this venue; empty for every venue.
    public var venue: String
    /// The last known tick of each match first, then live.
    public var snapshot: Bool
    /// Most ticks per second per (venue, symbol); 0 for no cap.
    public var maxRate: UInt32
    /// Never conflated: past the gateway's bound the stream ends with its positions.
    public var lossless: Bool
    /// Per symbol, the position of the last tick the client has: replayed from after it.
    public var resume: [KafkaPosition]
    /// Or every symbol from this time (Unix ms); 0: not asked.
    public var sinceTimeMillis: Int64
    /// When a resume position is older than Kafka holds: earliest (false) or live (true).
    public var liveWhenMissing: Bool

    public init(
        requestID: UInt64, symbols: [String], venue: String = "", snapshot: Bool = false, maxRate: UInt32 = 0,
        lossless: Bool = false, resume: [KafkaPosition] = [], sinceTimeMillis: Int64 = 0, liveWhenMissing: Bool = false
    ) {
        self.requestID = requestID
        self.symbols = symbols
        self.venue = venue
        self.snapshot = snapshot
        self.maxRate = maxRate
        self.lossless = lossless
        self.resume = resume
        self.sinceTimeMillis = sinceTimeMillis
        self.liveWhenMissing = liveWhenMissing
    }
}

/// How a resumed (or time-started) symbol's replay began.
public struct ResumeStatus: Hashable, Sendable {
    public var requestID: UInt64
    public var symbol: String
    /// Every tick after the asked position (or since the asked time) follows.
    public var recovered: Bool
    public var partition: Int32
    /// The first offset replayed from.
    public var fromOffset: Int64
    public var reason: String

    public init(requestID: UInt64, symbol: String, recovered: Bool, partition: Int32, fromOffset: Int64, reason: String = "") {
        self.requestID = requestID
        self.symbol = symbol
        self.recovered = recovered
        self.partition = partition
        self.fromOffset = fromOffset
        self.reason = reason
    }
}

/// What the server sends on a `PriceStream/Stream` call.
public enum ServerMessage: Hashable, Sendable {
    case tick(Tick)
    case batch([Tick])
    case ack(requestID: UInt64, symbols: [String])
    case error(RequestError)
    case pong(nonce: UInt64, clientTimeNanos: Int64, serverTimeNanos: Int64)
    /// A subscribed (venue, symbol) went stale (no tick for a while), came
    /// back, or was first seen and matched one of the stream's patterns.
    case symbolStatus(SymbolStatus)
    /// Nothing else was sent for the gateway's heartbeat interval.
    case heartbeat(serverTimeNanos: Int64)
    /// A lossless stream fell too far behind; it ends RESOURCE_EXHAUSTED next.
    case lagging(positions: [KafkaPosition], message: String)
    /// How the replay of a resumed symbol began.
    case resumeStatus(ResumeStatus)
}

/// A change in what a stream receives for one (venue, symbol).
public struct SymbolStatus: Hashable, Sendable {
    public var symbol: String
    public var venue: String
    /// No tick for the gateway's `--stale-after` (false: ticking again).
    public var stale: Bool
    /// First seen after the subscription, and matched by one of its patterns.
    public var added: Bool
    /// t3 of its last tick (0 if none yet).
    public var lastTickTimeNanos: Int64

    public init(symbol: String, venue: String = "", stale: Bool = false, added: Bool = false, lastTickTimeNanos: Int64 = 0) {
        self.symbol = symbol
        self.venue = venue
        self.stale = stale
        self.added = added
        self.lastTickTimeNanos = lastTickTimeNanos
    }
}

/// A `GetSnapshot` request.
public struct SnapshotRequest: Hashable, Sendable {
    public var symbols: [String]
    public var venue: String

    public init(symbols: [String], venue: String = "") {
        self.symbols = symbols
        self.venue = venue
    }
}

/// A `GetSnapshot` answer.
public struct SnapshotResponse: Hashable, Sendable {
    public var ticks: [Tick]
    /// The gateway is still reading its last-value cache back from Kafka.
    public var warmingUp: Bool

    public init(ticks: [Tick], warmingUp: Bool) {
        self.ticks = ticks
        self.warmingUp = warmingUp
    }
}

/// Symbols of one subscribe or unsubscribe request that were refused.
/// The stream stays open.
public struct RequestError: Hashable, Sendable, Error, CustomStringConvertible {
    public var requestID: UInt64
    /// A gRPC status code: 3 INVALID_ARGUMENT, 5 NOT_FOUND, 8 RESOURCE_EXHAUSTED.
    public var code: Int32
    public var message: String
    public var symbols: [String]
    /// For a replay over the gateway's budget: ask again after this many ms.
    public var retryAfterMillis: Int64

    public init(requestID: UInt64, code: Int32, message: String, symbols: [String], retryAfterMillis: Int64 = 0) {
        self.requestID = requestID
        self.code = code
        self.message = message
        self.symbols = symbols
        self.retryAfterMillis = retryAfterMillis
    }

    public var description: String {
        "request \(requestID) refused \(symbols.joined(separator: ",")) (code \(code)): \(message)"
    }
}
