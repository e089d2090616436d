public import TickgateKafka
import NIOCore
import TickgateHTTP2

/// Everything `tickgate serve` can be told.
public struct GatewayConfiguration: Sendable {
    public var host: String = "127.0.0.1"
    /// 0 picks a free port (tests).
    public var port: Int = 50051
    /// Serve gRPC over TLS (ALPN h2 required; reloaded with
    /// `Gateway.reloadTLS()`); nil: h2c, for local use.
    public var tls: GatewayTLS? = nil
    public var kafka: KafkaConfiguration
    public var topic: String = "ticks"
    /// Event loops serving connections. The Kafka reader has its own thread.
    public var eventLoopThreads: Int = max(1, System.coreCount - 1)
    /// Largest request message accepted (gRPC's default: 4 MiB).
    public var maxMessageSize: Int = GRPCProtocol.defaultMaxMessageSize
    /// Most (venue, symbol) pairs one stream's symbols and patterns may
    /// match; past it the request is refused (code 8 RESOURCE_EXHAUSTED).
    public var maxSubscriptionsPerStream: Int = 1000
    public var maxConcurrentStreamsPerConnection: Int = 1000
    /// Largest request header list (SETTINGS_MAX_HEADER_LIST_SIZE, enforced
    /// while decoding: past it the stream is reset and nothing is kept).
    public var maxHeaderListSize: Int = 16 * 1024
    /// Bytes that may wait for one stream's flow-control window. Past it a
    /// stream is conflated (it keeps only the latest tick per (venue,
    /// symbol) until it catches up), and a lossless one gets `Lagging` and
    /// ends RESOURCE_EXHAUSTED.
    public var maxPendingBytesPerStream: Int = 1 << 20
    /// A stream with nothing sent for this long gets a `Heartbeat`; nil: never.
    public var heartbeatInterval: Duration? = .seconds(5)
    /// Most distinct (venue, symbol) pairs the gateway routes; ticks of
    /// further pairs are counted and not delivered.
    public var maxMarketKeys: Int = 100_000
    /// At start-up the last-value cache is read back from Kafka: at most
    /// this many ticks from the end of each partition...
    public var warmupTicksPerPartition: Int = 10_000
    /// ...and none older than this (by Kafka time stamp).
    public var warmupWindow: Duration = .seconds(24 * 3600)
    /// Replays from Kafka (resume, since) running at once, gateway-wide;
    /// more are refused RESOURCE_EXHAUSTED with a retry hint. 0: no replays.
    public var maxConcurrentReplays: Int = 4
    /// Ticks replayed per second, gateway-wide and per replay.
    public var replayTicksPerSecond: Int = 200_000
    public var replayTicksPerSecondPerStream: Int = 50_000
    /// Most offsets one replay spans; a position further back than this
    /// goes on from the last ones (and says recovered = false).
    public var maxReplaySpan: Int64 = 1_000_000
    /// Where `GET /metrics` (Prometheus text format) is served; nil: nowhere.
    /// Port 0 picks a free port.
    public var metricsHost: String? = nil
    public var metricsPort: Int = 9464
    /// A subscribed symbol with no tick for this long is reported stale to
    /// its subscribers (`SymbolStatus`); nil: never.
    public var staleAfter: Duration? = .seconds(60)
    /// Serve `Publish` at all (feed adapters without a Kafka client); who
    /// may publish is `access`'s to say.
    public var enablePublish: Bool = true
    /// Who may subscribe and publish: API keys from a keys file, or
    /// (the default) anonymous subscriptions with Publish refused.
    public var access: AccessControl = AccessControl(anonymousPublish: false)
    /// Subscribe and unsubscribe requests one stream may make per second
    /// (bursts of as many); past it a request is refused with
    /// RESOURCE_EXHAUSTED and a retry hint, and the stream stays.
    public var maxRequestsPerSecondPerStream: Int = 50
    /// Client connections open at once, in all and from one IP address;
    /// past either a new connection gets GOAWAY ENHANCE_YOUR_CALM and is
    /// closed.
    public var maxConnections: Int = 20_000
    public var maxConnectionsPerAddress: Int = 1_000
    /// A connection older than this (±10 %, so a fleet's clients do not
    /// reconnect in step) is drained with a graceful GOAWAY: its open calls
    /// go on for `maxConnectionAgeGrace`, then end UNAVAILABLE ("max
    /// connection age"; resume makes the reconnect gap-free). nil: no limit.
    public var maxConnectionAge: Duration? = nil
    public var maxConnectionAgeGrace: Duration = .seconds(30)
    /// The symbols this gateway serves, or nil for any well-formed symbol.
    public var symbolCatalog: Set<String>? = nil
    /// A connection with no open call for this long is closed with
    /// GOAWAY (clients reconnect when they next need one); nil: never.
    public var idleTimeout: Duration? = .seconds(600)
    /// A client must finish its TLS handshake and its HTTP/2 connection
    /// preface within this time, or the connection closes; nil: no limit.
    public var handshakeTimeout: Duration? = .seconds(10)
    /// Streams one connection's client may reset per second (bursts of 5x);
    /// past it (rapid reset, CVE-2023-44487) GOAWAY ENHANCE_YOUR_CALM.
    public var maxClientResetsPerSecond: Int = 200
    /// Client PINGs closer together than this are strikes (gRPC's keepalive
    /// enforcement; after 2, GOAWAY ENHANCE_YOUR_CALM "too_many_pings");
    /// nil: not policed.
    public var minPingInterval: Duration? = nil
    /// With `minPingInterval`: whether PINGs on a connection with no open
    /// call are allowed (a strike when not).
    public var pingsWithoutCalls: Bool = true
    /// How long `shutdown` lets connections drain (GOAWAY sent, calls
    /// ended UNAVAILABLE) before it closes what is left.
    public var shutdownGrace: Duration = .seconds(5)
    /// Ticks an event loop may have waiting before the Kafka reader drops
    /// that loop's copy of a batch (and tells the affected streams) rather
    /// than hold every other loop back.
    public var maxQueuedTicksPerLoop: Int = 65_536
    /// Web origins (`https://app.example.com`, or `*`) whose pages may call
    /// the gateway (gRPC-Web, SSE) from a script: CORS. Empty: only pages
    /// the gateway serves itself (same origin).
    public var corsOrigins: [String] = []
    /// Serve browsers too: HTTP/1.1 on the same port, gRPC-Web, SSE
    /// (`/v1/ticks`) and the live page (`/`).
    public var serveWeb: Bool = true
    /// Where the live page's chart library is read from (Debian's
    /// libjs-chart.js); nil or missing: the page draws plain SVG.
    public var chartLibraryPath: String? = "/usr/share/javascript/chart.js/chart.min.js"

    public init(kafka: KafkaConfiguration) {
        self.kafka = kafka
    }

    /// Every default, for front ends (the CLI) to show and fall back on.
    public static let defaults = GatewayConfiguration(kafka: KafkaConfiguration(brokers: ""))
}
