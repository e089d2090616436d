public import TickgateModel

/// What one API key may do: the symbols it may subscribe to (and take
/// snapshots of), what it may publish, and its own limits.
public struct AccessRights: Sendable, Equatable {
    /// A requested symbol or pattern must be covered by one of these
    /// (`SymbolPattern.covers`): a key allowed `BTC-*` may ask for
    /// `BTC-USD` or `BTC-*`, not for `*`.
    public var subscribe: [SymbolPattern]
    /// nil: the key may not publish.
    public var publish: PublishRight?
    public var limits: KeyLimits

    public init(subscribe: [SymbolPattern], publish: PublishRight? = nil, limits: KeyLimits = KeyLimits()) {
        self.subscribe = subscribe
        self.publish = publish
        self.limits = limits
    }

    /// Everything, under the gateway's own limits (no key file).
    public static func anonymous(publish: Bool) -> AccessRights {
        AccessRights(subscribe: [.all], publish: publish ? PublishRight(venues: nil, symbols: [.all]) : nil)
    }

    func maySubscribe(_ pattern: SymbolPattern) -> Bool {
        subscribe.contains { $0.covers(pattern) }
    }
}

/// Which ticks a key may publish.
public struct PublishRight: Sendable, Equatable {
    /// nil: any venue.
    public var venues: Set<String>?
    public var symbols: [SymbolPattern]

    public init(venues: Set<String>?, symbols: [SymbolPattern]) {
        self.venues = venues
        self.symbols = symbols
    }

    func allows(venue: String, symbol: String) -> Bool {
        (venues?.contains(venue) ?? true) && symbols.contains { $0.matches(symbol) }
    }
}

/// A key's own limits, on top of the gateway's (the tighter one holds);
/// nil: only the gateway's.
public struct KeyLimits: Sendable, Equatable {
    /// Connections that used the key and are still open, gateway-wide.
    public var connections: Int?
    /// Calls open with the key at once, gateway-wide.
    public var streams: Int?
    /// (venue, symbol) pairs one stream may hold.
    public var subscriptions: Int?
    /// Subscribe and unsubscribe requests per second, per stream.
    public var requestsPerSecond: Int?

    public init(connections: Int? = nil, streams: Int? = nil, subscriptions: Int? = nil, requestsPerSecond: Int? = nil) {
        self.connections = connections
        self.streams = streams
        self.subscriptions = subscriptions
        self.requestsPerSecond = requestsPerSecond
    }
}
