/// Remembers the last `capacity` keys (venue, symbol, trade id) and drops
/// a tick seen again, as a reconnecting venue or a restarted adapter sends
/// them. Memory is bounded: the oldest key is forgotten first.
public struct DuplicateFilter: Sendable {
    public let capacity: Int
    private var keys: Set<String> = []
    private var order: [String] = []
    private var next = 0
    public private(set) var dropped = 0

    public init(capacity: Int = 100_000) {
        precondition(capacity > 0)
        self.capacity = capacity
        order.reserveCapacity(capacity)
    }

    /// True the first time `key` is seen within the window.
    public mutating func admit(_ key: String) -> Bool {
        if keys.contains(key) {
            dropped += 1
            return false
        }
        if order.count < capacity {
            order.append(key)
        } else {
            keys.remove(order[next])
            order[next] = key
            next = (next + 1) % capacity
        }
        keys.insert(key)
        return true
    }
}
