import TickgateModel

/// What one event loop knows of one (venue, symbol): its subscribers, its
/// last tick (the last-value cache the snapshots come from) and where that
/// tick sits in Kafka. Updated once per tick per loop, read on subscribe.
final class MarketEntry {
    let id: Int32
    let venue: String
    let symbol: String
    /// Streams that take every tick as it comes (conflated only when behind).
    let subscribers = SubscriberList<StreamCall>()
    /// Streams with a rate cap on this key: their ticks go through a slot.
    let capped = SubscriberList<StreamCall>()
    /// Streams replaying this pair's symbol from Kafka: live ticks are held
    /// for them until the replay is stitched to the live stream.
    let replaying = SubscriberList<StreamCall>()
    /// The last tick read, framed as a live delivery.
    let last = FrameSlot()
    /// Kafka position and t3 of `last` (offset -1 while none).
    var partition: Int32 = -1
    var offset: Int64 = -1
    var lastReceiveNanos: Int64 = 0
    /// Reported stale to its subscribers and not ticking since.
    var stale = false

    init(id: Int32, venue: String, symbol: String) {
        self.id = id
        self.venue = venue
        self.symbol = symbol
    }

    var hasSubscribers: Bool { !subscribers.isEmpty || !capped.isEmpty || !replaying.isEmpty }

    var position: KafkaPosition? {
        offset >= 0 ? KafkaPosition(symbol: symbol, partition: partition, offset: offset) : nil
    }
}
