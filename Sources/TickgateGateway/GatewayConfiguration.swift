public import TickgateKafka
import NIOCore
import TickgateHTTP2

/// Everything `tickgate serve` can be told.
public struct GatewayConfiguration: Sendable {
    public var host: String = "127.0.0.1"
    /// 0 picks a free port (tests).
    public var port: Int = 50051
    public var kafka: KafkaConfiguration
    public var topic: String = "ticks"
    /// Event loops serving connections. The Kafka reader has its own thread.
    public var eventLoopThreads: Int = max(1, System.coreCount - 1)
    /// Largest request message accepted (gRPC's default: 4 MiB).
    public var maxMessageSize: Int = GRPCProtocol.defaultMaxMessageSize
    public var maxSubscriptionsPerStream: Int = 1000
    public var maxConcurrentStreamsPerConnection: Int = 1000
    /// Bytes that may wait for one stream's flow-control window before the
    /// stream is reset as too slow (RST_STREAM ENHANCE_YOUR_CALM, which gRPC
    /// clients report as RESOURCE_EXHAUSTED).
    public var maxPendingBytesPerStream: Int = 1 << 20
    /// Where `GET /metrics` (Prometheus text format) is served; nil: nowhere.
    /// Port 0 picks a free port.
    public var metricsHost: String? = nil
    public var metricsPort: Int = 9464
    /// A subscribed symbol with no tick for this long is reported stale to
    /// its subscribers (`SymbolStatus`); nil: never.
    public var staleAfter: Duration? = .seconds(60)
    /// Accept `Publish` calls (feed adapters without a Kafka client).
    public var enablePublish: Bool = true
    /// The symbols this gateway serves, or nil for any well-formed symbol.
    public var symbolCatalog: Set<String>? = nil
    /// A connection with no open stream for this long is closed with
    /// GOAWAY; nil: never.
    public var idleTimeout: Duration? = nil
    /// Client PINGs closer together than this are strikes (gRPC's keepalive
    /// enforcement; after 2, GOAWAY ENHANCE_YOUR_CALM "too_many_pings");
    /// nil: not policed.
    public var minPingInterval: Duration? = nil
    /// How long `shutdown` lets connections drain (GOAWAY sent, calls
    /// ended UNAVAILABLE) before it closes what is left.
    public var shutdownGrace: Duration = .seconds(5)
    /// Ticks an event loop may have waiting before the Kafka reader drops
    /// that loop's copy of a batch (and tells the affected streams) rather
    /// than hold every other loop back.
    public var maxQueuedTicksPerLoop: Int = 65_536

    public init(kafka: KafkaConfiguration) {
        self.kafka = kafka
    }

    /// Every default, for front ends (the CLI) to show and fall back on.
    public static let defaults = GatewayConfiguration(kafka: KafkaConfiguration(brokers: ""))
}
