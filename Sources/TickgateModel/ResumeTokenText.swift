/// The text form of a resume token: `t1:BTC-USD@0:1234,ETH-USD@2:99`
/// (symbol, Kafka partition and offset of the last tick a subscriber has).
/// `tickgate subscribe` prints and reads it; the gateway's Server-Sent
/// Events carry it as the event id.
public enum ResumeTokenText {
    public static let prefix = "t1:"

    public static func format(_ positions: [KafkaPosition]) -> String {
        prefix + positions.sorted { $0.symbol < $1.symbol }.map(\.description).joined(separator: ",")
    }

    /// The positions in `text`, or why it is not a token.
    public static func parse(_ text: String) -> Result<[KafkaPosition], ParseFailure> {
        guard text.hasPrefix(prefix) else { return .failure(.init("expected it to start with \(prefix)")) }
        var positions: [KafkaPosition] = []
        var seen: Set<String> = []
        for item in text.dropFirst(prefix.count).split(separator: ",", omittingEmptySubsequences: false) {
            let parts = item.split(separator: "@")
            guard parts.count == 2 else { return .failure(.init("each position is SYMBOL@PARTITION:OFFSET")) }
            let where_ = parts[1].split(separator: ":")
            guard where_.count == 2, let partition = Int32(where_[0]), partition >= 0, let offset = Int64(where_[1]), offset >= -1 else {
                return .failure(.init("each position is SYMBOL@PARTITION:OFFSET"))
            }
            let symbol: String
            do {
                symbol = try Symbol(validating: parts[0]).rawValue
            } catch {
                return .failure(.init(error.description))
            }
            guard seen.insert(symbol).inserted else { return .failure(.init("\(symbol) appears twice")) }
            positions.append(KafkaPosition(symbol: symbol, partition: partition, offset: offset))
        }
        guard !positions.isEmpty else { return .failure(.init("no position")) }
        return .success(positions)
    }

    public struct ParseFailure: Error, Equatable, Sendable {
        public let reason: String
        init(_ reason: String) { self.reason = reason }
    }
}
