/// The Kafka position of the last tick a subscriber has for one symbol
/// (every tick of a symbol lives in one partition, keyed by symbol).
public struct KafkaPosition: Hashable, Sendable, CustomStringConvertible {
    public var symbol: String
    public var partition: Int32
    public var offset: Int64

    public init(symbol: String, partition: Int32, offset: Int64) {
        self.symbol = symbol
        self.partition = partition
        self.offset = offset
    }

    public var description: String { "\(symbol)@\(partition):\(offset)" }
}
