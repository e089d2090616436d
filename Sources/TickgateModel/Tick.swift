/// One price update, as it travels from a feed adapter through Kafka and the
/// gateway to a client. See `Protos/tickgate/v1/tickgate.proto` for the hops
/// each time stamp marks.
public struct Tick: Hashable, Sendable {
    public var symbol: String
    public var venue: String
    public var price: ExactDecimal
    public var size: ExactDecimal
    public var side: Side
    /// Strictly increasing per (venue, symbol).
    public var sequence: UInt64
    public var tradeID: String

    /// t0: the venue's event time (0 if unknown).
    public var venueTimeNanos: Int64
    /// t1: the adapter handed the tick to Kafka.
    public var publishTimeNanos: Int64
    /// t2: Kafka's message time stamp, in milliseconds.
    public var kafkaTimeMillis: Int64
    /// t3: the gateway read it from Kafka.
    public var gatewayReceiveTimeNanos: Int64
    /// t4: the gateway encoded it for its subscribers.
    public var gatewayDispatchTimeNanos: Int64
    public var kafkaPartition: Int32
    public var kafkaOffset: Int64
    /// Set by the gateway on a Stream call: a subscription's snapshot (the
    /// last known tick), not a live delivery.
    public var snapshot: Bool = false
    /// Set by the gateway: ticks of this (venue, symbol) the stream skipped
    /// just before this one (conflation of a slow stream, or a rate cap).
    public var skipped: UInt64 = 0

    /// Where the tick sits in Kafka (meaningful once the gateway read it).
    public var position: KafkaPosition {
        KafkaPosition(symbol: symbol, partition: kafkaPartition, offset: kafkaOffset)
    }

    public init(
        symbol: String, venue: String, price: ExactDecimal, size: ExactDecimal,
        side: Side = .unspecified, sequence: UInt64, tradeID: String = "",
        venueTimeNanos: Int64 = 0, publishTimeNanos: Int64 = 0, kafkaTimeMillis: Int64 = 0,
        gatewayReceiveTimeNanos: Int64 = 0, gatewayDispatchTimeNanos: Int64 = 0,
        kafkaPartition: Int32 = 0, kafkaOffset: Int64 = 0
    ) {
        self.symbol = symbol
        self.venue = venue
        self.price = price
        self.size = size
        self.side = side
        self.sequence = sequence
        self.tradeID = tradeID
        self.venueTimeNanos = venueTimeNanos
        self.publishTimeNanos = publishTimeNanos
        self.kafkaTimeMillis = kafkaTimeMillis
        self.gatewayReceiveTimeNanos = gatewayReceiveTimeNanos
        self.gatewayDispatchTimeNanos = gatewayDispatchTimeNanos
        self.kafkaPartition = kafkaPartition
        self.kafkaOffset = kafkaOffset
    }
}
