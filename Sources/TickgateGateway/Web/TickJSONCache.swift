import Synchronization
import TickgateModel

/// The JSON of recent ticks, per event loop, built the first time a
/// Server-Sent Events stream of the loop takes a tick and shared by every
/// other one: one JSON encoding per tick (and loop), and none for ticks no
/// SSE client wants. Keyed by the tick's Kafka position, which names it.
/// Loop-local; bounded (oldest out first).
final class TickJSONCache {
    struct Key: Hashable {
        var partition: Int32
        var offset: Int64
    }

    struct Entry {
        let symbol: String
        /// `{` and the tick's shared fields, without the closing brace: one
        /// delivery's marks go after them.
        let json: [UInt8]
    }

    private var entries: [Key: Entry] = [:]
    private var order: [Key] = []
    private var next = 0
    let capacity: Int
    private let stats: GatewayStats

    init(stats: GatewayStats, capacity: Int = 8192) {
        self.stats = stats
        self.capacity = capacity
        entries.reserveCapacity(capacity)
    }

    /// The entry of the tick in `frame` (a framed tick message); nil when
    /// its bytes do not decode.
    func entry(_ frame: UnsafeRawBufferPointer, at key: Key) -> Entry? {
        if let known = entries[key] { return known }
        guard let tick = try? WireCodec.decodeTick(UnsafeRawBufferPointer(rebasing: frame[TickFrame.tickBytesStart(frame)...])) else {
            return nil
        }
        stats.sseTickEncodes.add(1, ordering: .relaxed)
        let entry = Entry(symbol: tick.symbol, json: Array(("{" + TickJSON.sharedFields(tick)).utf8))
        if order.count < capacity {
            order.append(key)
        } else {
            entries[order[next]] = nil
            order[next] = key
            next = (next + 1) % capacity
        }
        entries[key] = entry
        return entry
    }
}
