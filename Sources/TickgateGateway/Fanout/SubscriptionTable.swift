/// symbol → subscribers, for the streams of one event loop. Not thread-safe
/// by design: it is only touched on its loop, so delivery takes no lock.
///
/// Subscribers are held unretained: whoever adds one keeps it alive and
/// removes it before releasing it (a gateway stream removes all its
/// symbols when it closes). Iterating then costs no reference counting.
struct SubscriptionTable<Subscriber: AnyObject> {
    final class Subscribers {
        private(set) var members: ContiguousArray<Unmanaged<Subscriber>> = []

        var count: Int { members.count }
        var list: [Subscriber] { members.map { $0.takeUnretainedValue() } }

        @inline(__always)
        func forEach(_ body: (Subscriber) -> Void) {
            members.withUnsafeBufferPointer { buffer in
                for member in buffer { member._withUnsafeGuaranteedRef(body) }
            }
        }

        func contains(_ subscriber: Subscriber) -> Bool {
            members.contains { $0.toOpaque() == Unmanaged.passUnretained(subscriber).toOpaque() }
        }

        func append(_ subscriber: Subscriber) { members.append(.passUnretained(subscriber)) }

        func remove(_ subscriber: Subscriber) -> Bool {
            let target = Unmanaged.passUnretained(subscriber).toOpaque()
            guard let index = members.firstIndex(where: { $0.toOpaque() == target }) else { return false }
            members.remove(at: index)
            return true
        }
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
        guard !entry.contains(subscriber) else { return false }
        entry.append(subscriber)
        count += 1
        return true
    }

    /// Removes `subscriber` from `symbol`; false if it was not there.
    @discardableResult
    mutating func remove(_ symbol: String, _ subscriber: Subscriber) -> Bool {
        guard let entry = bySymbol[symbol], entry.remove(subscriber) else { return false }
        count -= 1
        if entry.count == 0 { bySymbol[symbol] = nil }
        return true
    }

    /// The subscribers of `symbol` (one hash lookup per tick, not per delivery).
    func subscribers(of symbol: String) -> Subscribers? {
        bySymbol[symbol]
    }

    var symbolCount: Int { bySymbol.count }

    /// Every symbol with at least one subscriber.
    func forEachSymbol(_ body: (String, Subscribers) -> Void) {
        for (symbol, subscribers) in bySymbol { body(symbol, subscribers) }
    }
}
