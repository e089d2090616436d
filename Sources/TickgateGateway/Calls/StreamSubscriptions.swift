import TickgateModel

/// What one stream asked for and which (venue, symbol) pairs that holds,
/// as a pure value: the stream applies the changes it returns to its loop.
///
/// An interest is one symbol or pattern with a venue filter and options,
/// as one Subscribe named it. A pair is held while at least one interest
/// matches it, with the options of the latest request that matched it.
/// Unsubscribe removes interests exactly as they were named. At most
/// `limit` pairs are held, through at most `limit` symbols and patterns.
struct StreamSubscriptions {
    struct Options: Equatable {
        /// Most ticks per second per pair; 0: no cap.
        var maxRate: UInt32 = 0
        var lossless = false
    }

    struct InterestKey: Hashable {
        var pattern: SymbolPattern
        var venue: String
    }

    struct Interest: Equatable {
        var key: InterestKey
        var options: Options
        var requestID: UInt64
        /// Pairs that matched it.
        var matches = 0
    }

    struct Held: Equatable {
        var options: Options
        /// Interests matching the pair.
        var interests: Int
    }

    /// A pair as the loop knows it.
    struct Pair {
        var id: Int32
        var venue: String
        var symbol: String
    }

    enum Change: Equatable {
        /// Start delivering the pair with these options.
        case add(Int32, Options)
        /// The pair's options changed (it stays held).
        case update(Int32, Options)
        /// Stop delivering the pair.
        case remove(Int32)
    }

    let limit: Int
    private(set) var interests: [InterestKey: Interest] = [:]
    private(set) var held: [Int32: Held] = [:]

    init(limit: Int) {
        self.limit = limit
    }

    var heldCount: Int { held.count }
    var isEmpty: Bool { interests.isEmpty }

    static func matches(_ key: InterestKey, venue: String, symbol: String) -> Bool {
        (key.venue.isEmpty || key.venue == venue) && key.pattern.matches(symbol)
    }

    enum AddOutcome: Equatable {
        /// `isNew`: the stream did not have this interest before.
        case added([Change], isNew: Bool)
        /// Holding its matches would pass the limit: nothing changed.
        case overLimit(wouldHold: Int)
        /// The stream has `limit` symbols and patterns already.
        case tooManyInterests
    }

    /// Adds (or renews) an interest; `candidates` are the pairs the loop
    /// knows that it may match (every pair, or those of one symbol).
    mutating func add(_ key: InterestKey, options: Options, requestID: UInt64, candidates: [Pair]) -> AddOutcome {
        let previous = interests[key]
        if previous == nil && interests.count >= limit { return .tooManyInterests }
        let matching = candidates.filter { Self.matches(key, venue: $0.venue, symbol: $0.symbol) }
        let newPairs = matching.reduce(0) { $0 + (held[$1.id] == nil ? 1 : 0) }
        if held.count + newPairs > limit { return .overLimit(wouldHold: held.count + newPairs) }
        var changes: [Change] = []
        for pair in matching {
            if var entry = held[pair.id] {
                if previous == nil { entry.interests += 1 }
                if entry.options != options {
                    entry.options = options
                    changes.append(.update(pair.id, options))
                }
                held[pair.id] = entry
            } else {
                held[pair.id] = Held(options: options, interests: 1)
                changes.append(.add(pair.id, options))
            }
        }
        interests[key] = Interest(key: key, options: options, requestID: requestID, matches: matching.count)
        return .added(changes, isNew: previous == nil)
    }

    /// Removes an interest; false if the stream did not have it.
    mutating func remove(_ key: InterestKey, candidates: [Pair]) -> (found: Bool, changes: [Change]) {
        guard interests.removeValue(forKey: key) != nil else { return (false, []) }
        var changes: [Change] = []
        for pair in candidates where Self.matches(key, venue: pair.venue, symbol: pair.symbol) {
            guard var entry = held[pair.id] else { continue }
            entry.interests -= 1
            if entry.interests <= 0 {
                held[pair.id] = nil
                changes.append(.remove(pair.id))
            } else {
                held[pair.id] = entry
            }
        }
        return (true, changes)
    }

    enum NewPairOutcome: Equatable {
        case none
        /// `byPattern`: a pattern (not only an exact symbol) matched it.
        case add(Options, byPattern: Bool)
        /// It matches, but the stream holds `limit` pairs already: the
        /// request that asked for it is told (its id).
        case overLimit(requestID: UInt64)
    }

    /// A pair the loop sees for the first time: held if an interest matches.
    mutating func newPair(_ pair: Pair) -> NewPairOutcome {
        var options: Options? = nil
        var latestRequest: UInt64 = 0
        var count = 0
        var byPattern = false
        for (key, interest) in interests where Self.matches(key, venue: pair.venue, symbol: pair.symbol) {
            count += 1
            if key.pattern.exactSymbol == nil { byPattern = true }
            if options == nil || interest.requestID >= latestRequest {
                options = interest.options
                latestRequest = interest.requestID
            }
        }
        guard let options else { return .none }
        guard held.count < limit else { return .overLimit(requestID: latestRequest) }
        held[pair.id] = Held(options: options, interests: count)
        return .add(options, byPattern: byPattern)
    }

    /// Everything is dropped (the stream ends); returns the pairs it held.
    /// (The interest count is read first by the caller, for its metrics.)
    mutating func removeAll() -> [Int32] {
        let ids = Array(held.keys)
        held.removeAll()
        interests.removeAll()
        return ids
    }
}
