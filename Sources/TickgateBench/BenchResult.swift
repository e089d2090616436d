/// Everything one run measured; written as JSON.
public struct BenchResult: Sendable, Codable {
    public struct Latency: Sendable, Codable {
        public var hop: String
        public var count: UInt64
        public var p50Micros: Double
        public var p90Micros: Double
        public var p99Micros: Double
        public var p999Micros: Double
        public var maxMicros: Double
    }

    public var scenario: BenchScenario
    public var startedAt: String
    public var machine: String
    public var command: String
    public var latencies: [Latency]
    public var publishedTicks: Int
    public var publishedPerSecond: Double
    public var measuredDeliveries: Int
    public var deliveriesPerSecond: Double
    public var offeredDeliveriesPerSecond: Double
    public var gatewayCPUSeconds: Double?
    public var gatewayMicrosPerDelivery: Double?
    public var gatewayPeakRSSKiB: Int?
    public var gatewayRSSPerConnectionKiB: Double?
    public var lost: Int
    public var duplicated: Int
    public var outOfOrder: Int
    public var unexpected: Int
    public var unstamped: Int
    public var requestErrors: Int
    /// `stall`: streams that never read, beside the measured ones.
    public var stalledStreams: Int = 0
    /// The load client spoke TLS to the gateway.
    public var tls: Bool = false
    /// Event loops of the load client.
    public var clientThreads: Int = 1
    /// Gateway RSS when the measured window opened and when it closed.
    public var gatewayRSSAtWindowStartKiB: Int? = nil
    public var gatewayRSSAtWindowEndKiB: Int? = nil

    /// p99 of one hop, in µs.
    public func p99Micros(hopPrefix: String) -> Double? {
        latencies.first { $0.hop.hasPrefix(hopPrefix) }?.p99Micros
    }
}
