/// What one `tickgate bench` run does.
public struct BenchScenario: Sendable, Codable {
    public var name: String
    /// Client connections and streams spread over them.
    public var connections: Int
    public var streams: Int
    /// Symbols published (M) and symbols per stream (K).
    public var symbols: Int
    public var symbolsPerStream: Int
    /// Ticks per second over all symbols, scheduled (open loop).
    public var rate: Double
    public var warmupSeconds: Double
    public var durationSeconds: Double
    public var partitions: Int

    public static let latency = BenchScenario(
        name: "latency", connections: 10, streams: 100, symbols: 10, symbolsPerStream: 1,
        rate: 1_000, warmupSeconds: 3, durationSeconds: 20, partitions: 6)
    public static let fanout = BenchScenario(
        name: "fanout", connections: 50, streams: 1_000, symbols: 100, symbolsPerStream: 10,
        rate: 10_000, warmupSeconds: 3, durationSeconds: 20, partitions: 6)
    public static let idle = BenchScenario(
        name: "idle", connections: 10_000, streams: 10_000, symbols: 100, symbolsPerStream: 1,
        rate: 100, warmupSeconds: 2, durationSeconds: 10, partitions: 6)
    public static let tiny = BenchScenario(
        name: "tiny", connections: 2, streams: 8, symbols: 4, symbolsPerStream: 2,
        rate: 200, warmupSeconds: 0.5, durationSeconds: 2, partitions: 2)

    /// Run twice by `tickgate bench --scenario stall`: as is, then with one
    /// stream that subscribes to everything and never reads.
    public static let stall = BenchScenario(
        name: "stall", connections: 50, streams: 1_000, symbols: 100, symbolsPerStream: 10,
        rate: 2_000, warmupSeconds: 3, durationSeconds: 20, partitions: 6)

    public static let all = [latency, fanout, idle, tiny, stall]

    /// Deliveries offered per second: every tick reaches the streams of its symbol.
    public var offeredDeliveriesPerSecond: Double {
        rate * Double(streams * symbolsPerStream) / Double(symbols)
    }

    /// The symbol name for index `i`: `X<i>-USD`, so the load client can
    /// read the index straight from the bytes.
    public static func symbolName(_ index: Int) -> String { "X\(index)-USD" }

    /// The K distinct symbols of stream `j`, spread evenly over the M symbols.
    public func symbolIndices(ofStream stream: Int) -> [Int] {
        (0..<symbolsPerStream).map { (stream * symbolsPerStream + $0) % symbols }
    }

    public func validate() throws(BenchError) {
        guard connections >= 1, streams >= connections else { throw .invalid("need streams ≥ connections ≥ 1") }
        guard symbols >= 1, symbolsPerStream >= 1, symbolsPerStream <= symbols else {
            throw .invalid("need 1 ≤ symbols per stream ≤ symbols")
        }
        guard rate > 0, durationSeconds > 0, warmupSeconds >= 0, partitions >= 1 else {
            throw .invalid("rate and duration must be positive")
        }
    }
}

public enum BenchError: Error, CustomStringConvertible {
    case invalid(String)
    case gateway(String)
    case timeout(String)

    public var description: String {
        switch self {
        case .invalid(let detail): return "invalid scenario: \(detail)"
        case .gateway(let detail): return "gateway: \(detail)"
        case .timeout(let detail): return "timed out: \(detail)"
        }
    }
}
