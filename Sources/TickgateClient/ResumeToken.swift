public import TickgateModel

/// Where a subscriber stands, per symbol, in a form to print and paste
/// back: `t1:BTC-USD@0:1234,ETH-USD@2:99` (symbol, Kafka partition and
/// offset of the last tick it has). `tickgate subscribe` prints one on exit
/// and `--resume` continues from it.
public struct ResumeToken: Hashable, Sendable, CustomStringConvertible {
    public var positions: [KafkaPosition]

    public init(positions: [KafkaPosition]) {
        self.positions = positions.sorted { $0.symbol < $1.symbol }
    }

    public var description: String { ResumeTokenText.format(positions) }

    public struct ParseError: Error, CustomStringConvertible {
        public let text: String
        public let reason: String
        public var description: String { "invalid resume token \"\(text.prefix(80))\": \(reason)" }
    }

    public init(parsing text: String) throws(ParseError) {
        switch ResumeTokenText.parse(text) {
        case .success(let positions): self.init(positions: positions)
        case .failure(let failure): throw ParseError(text: text, reason: failure.reason)
        }
    }
}

/// The last position of each symbol a subscriber was given: what a resume
/// (or a reconnect) asks to continue after.
public struct PositionLedger: Sendable, Equatable {
    public private(set) var bySymbol: [String: KafkaPosition] = [:]

    public init(_ positions: [KafkaPosition] = []) {
        for position in positions { bySymbol[position.symbol] = position }
    }

    /// False when `tick` is at or before what was already given (a
    /// duplicate a resume must never deliver).
    public mutating func record(_ tick: Tick) -> Bool {
        if let known = bySymbol[tick.symbol], known.partition == tick.kafkaPartition, tick.kafkaOffset <= known.offset {
            return false
        }
        bySymbol[tick.symbol] = tick.position
        return true
    }

    public var token: ResumeToken? { bySymbol.isEmpty ? nil : ResumeToken(positions: Array(bySymbol.values)) }
    public var positions: [KafkaPosition] { Array(bySymbol.values) }
}
