/// symbol → subscribers, for the streams of one event loop. Not thread-safe
/// by design: it is only touched on its loop, so delivery takes no lock.
struct SubscriptionTable<Subscriber: AnyObject> {
    final class Subscribers {
        var list: ContiguousArray<Subscriber> = []
    }

    private var bySymbol: [String: Subscribers] = [:]
    private(set) var count = 0

    /// Adds `subscriber` for `symbol`; false if it was already there.
    @discardableResult
    mutating func add(_ symbol: String, _ subscriber: Subscriber) -> Bool {
        let entry: Subscribers
        if let existing = bySymbol[symbol] {
            entry = existing
        } else {
            entry = Subscribers()
            bySymbol[symbol] = entry
        }
        guard !entry.list.contains(where: { $0 === subscriber }) else { return false }
        entry.list.append(subscriber)
        count += 1
        return true
    }

    /// Removes `subscriber` from `symbol`; false if it was not there.
    @discardableResult
    mutating func remove(_ symbol: String, _ subscriber: Subscriber) -> Bool {
        guard let entry = bySymbol[symbol],
              let index = entry.list.firstIndex(where: { $0 === subscriber }) else { return false }
        entry.list.remove(at: index)
        count -= 1
        if entry.list.isEmpty { bySymbol[symbol] = nil }
        return true
    }

    /// The subscribers of `symbol` (one hash lookup per tick, not per delivery).
    func subscribers(of symbol: String) -> Subscribers? {
        bySymbol[symbol]
    }

    var symbolCount: Int { bySymbol.count }
}
