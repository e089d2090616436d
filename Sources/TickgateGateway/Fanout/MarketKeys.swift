import Synchronization

/// Every (venue, symbol) the gateway has read, numbered in the order it was
/// first seen. The Kafka reader's thread assigns the numbers; each event
/// loop keeps its per-key state in an array indexed by them (one array
/// access per tick instead of a string hash) and asks here only for keys
/// it has not seen yet. Bounded: past `maxKeys`, ticks of further keys are
/// not routed (and counted), so a feed inventing symbols cannot exhaust
/// the gateway's memory.
final class MarketKeys: Sendable {
    struct Key: Hashable, Sendable {
        var venue: String
        var symbol: String
    }

    let maxKeys: Int
    private let state = Mutex<State>(State())

    private struct State {
        var ids: [Key: Int32] = [:]
        var keys: [Key] = []
    }

    init(maxKeys: Int) {
        self.maxKeys = maxKeys
    }

    /// The number of `key`, assigning the next one when it is new; nil
    /// past `maxKeys`.
    func id(of key: Key) -> Int32? {
        state.withLock { state in
            if let id = state.ids[key] { return id }
            guard state.keys.count < maxKeys else { return nil }
            let id = Int32(state.keys.count)
            state.ids[key] = id
            state.keys.append(key)
            return id
        }
    }

    /// Keys numbered from `start` on.
    func keys(from start: Int) -> ArraySlice<Key> {
        state.withLock { state in start < state.keys.count ? state.keys[start...] : [] }
    }
}

/// The reader thread's own cache of key numbers: no lock per tick.
struct MarketKeyCache {
    private var ids: [MarketKeys.Key: Int32] = [:]

    mutating func id(venue: String, symbol: String, in keys: MarketKeys) -> Int32? {
        let key = MarketKeys.Key(venue: venue, symbol: symbol)
        if let id = ids[key] { return id }
        guard let id = keys.id(of: key) else { return nil }
        ids[key] = id
        return id
    }
}
