/// symbol → subscribers, for the streams of one event loop. Not thread-safe
/// by design: it is only touched on its loop, so delivery takes no lock.
///
/// Subscribers are held unretained: whoever adds one keeps it alive and
/// removes it before releasing it (a gateway stream removes all its
/// symbols when it closes). Iterating then costs no reference counting.
/// Adding and removing one subscriber of a symbol is O(1) (an index per
/// member, swap-remove), so N subscribers of one symbol cost O(N) to build
/// and to tear down.
struct SubscriptionTable<Subscriber: AnyObject> {
    final class Subscribers {
        #if DEBUG
        private(set) var members: ContiguousArray<Unmanaged<Subscriber>> = []
        #else
        @exclusivity(unchecked) private(set) var members: ContiguousArray<Unmanaged<Subscriber>> = []
        #endif
        /// Where each member sits in `members`.
        private var slots: [ObjectIdentifier: Int] = [:]

        var count: Int { members.count }
        var list: [Subscriber] { members.map { $0.takeUnretainedValue() } }

        @inline(__always)
        func forEach(_ body: (Subscriber) -> Void) {
            members.withUnsafeBufferPointer { buffer in
                for member in buffer { member._withUnsafeGuaranteedRef(body) }
            }
        }

        func contains(_ subscriber: Subscriber) -> Bool {
            slots[ObjectIdentifier(subscriber)] != nil
        }

        /// False if it was there already.
        func insert(_ subscriber: Subscriber) -> Bool {
            let id = ObjectIdentifier(subscriber)
            guard slots[id] == nil else { return false }
            slots[id] = members.count
            members.append(.passUnretained(subscriber))
            return true
        }

        /// False if it was not there. The last member takes its place.
        func remove(_ subscriber: Subscriber) -> Bool {
            guard let index = slots.removeValue(forKey: ObjectIdentifier(subscriber)) else { return false }
            let last = members.removeLast()
            if index < members.count {
                members[index] = last
                slots[ObjectIdentifier(last.takeUnretainedValue())] = index
            }
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
        guard entry.insert(subscriber) else { return false }
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
