import ArgumentParser
import Logging
import TickgateGateway
import TickgateKafka
import TickgateModel

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the gateway: read every partition of the ticks topic and stream to gRPC clients.")

    @OptionGroup var kafka: KafkaOptions

    @Option(help: "Address to listen on for gRPC (h2c, or TLS with --tls-cert).")
    var listen: HostPort = HostPort(host: "127.0.0.1", port: 50051)

    @Option(help: "Where GET /metrics (Prometheus text format) is served.")
    var metricsListen: HostPort = HostPort(host: "127.0.0.1", port: 9464)

    @Option(help: "Report a subscribed symbol stale to its subscribers after this many seconds without a tick (0: never).")
    var staleAfter: Double = 60

    @Flag(help: "Do not serve /metrics.")
    var noMetrics = false

    @Flag(help: "Do not serve Publish at all (UNIMPLEMENTED), whatever the keys allow.")
    var noPublish = false

    @Option(help: "Serve gRPC over TLS with this certificate chain (PEM; ALPN h2 required). Reloaded on SIGHUP.")
    var tlsCert: String?

    @Option(help: "The certificate's private key (PEM).")
    var tlsKey: String?

    @Option(help: "Mutual TLS: every client presents a certificate that chains to these CAs (PEM).")
    var tlsClientCa: String?

    @Option(help: "API keys file (JSON, see the README); every call then needs a key. Reloaded on SIGHUP.")
    var apiKeys: String?

    @Flag(help: "Without --api-keys: let anyone who can reach the port publish ticks. Off by default.")
    var allowAnonymousPublish = false

    @Option(name: .customLong("cors-origin"), help: ArgumentHelp(
        "A web origin whose pages may call the gateway from scripts (gRPC-Web, SSE), e.g. https://app.example.com; repeat for more, * for any.",
        valueName: "origin"))
    var corsOrigins: [String] = []

    @Flag(help: "Serve gRPC over HTTP/2 only: no HTTP/1.1, gRPC-Web, Server-Sent Events or live page.")
    var noWeb = false

    @Option(help: "The Chart.js file the live page loads (Debian's libjs-chart.js).")
    var chartLibrary: String = GatewayConfiguration.defaults.chartLibraryPath ?? ""

    @Option(help: "Client connections open at once; more get GOAWAY.")
    var maxConnections: Int = GatewayConfiguration.defaults.maxConnections

    @Option(help: "Client connections open at once from one IP address.")
    var maxConnectionsPerAddress: Int = GatewayConfiguration.defaults.maxConnectionsPerAddress

    @Option(help: "Concurrent calls per connection (SETTINGS_MAX_CONCURRENT_STREAMS).")
    var maxStreamsPerConnection: Int = GatewayConfiguration.defaults.maxConcurrentStreamsPerConnection

    @Option(help: "Subscribe and unsubscribe requests per second per stream.")
    var maxRequestsPerSecond: Int = GatewayConfiguration.defaults.maxRequestsPerSecondPerStream

    @Option(help: "Close a connection with no open call after this many seconds (GOAWAY; 0: never).")
    var idleTimeout: Double = 600

    @Option(help: "Seconds a client has to finish its TLS handshake and HTTP/2 preface (0: no limit).")
    var handshakeTimeout: Double = 10

    @Option(help: "Streams one connection may reset per second (bursts of 5x); more get GOAWAY ENHANCE_YOUR_CALM (rapid reset).")
    var maxResetsPerSecond: Int = GatewayConfiguration.defaults.maxClientResetsPerSecond

    @Option(help: "Client PINGs closer together than this many seconds are strikes; after 2, GOAWAY ENHANCE_YOUR_CALM too_many_pings (0: not policed).")
    var minPingInterval: Double = 0

    @Flag(help: "With --min-ping-interval: a PING on a connection with no open call is a strike too.")
    var noPingsWithoutCalls = false

    @Option(help: "Drain a connection after this many seconds (±10 %) with a graceful GOAWAY, so clients spread over instances (0: never).")
    var maxConnectionAge: Double = 0

    @Option(help: "Seconds calls may go on once their connection is past --max-connection-age; then they end UNAVAILABLE.")
    var maxConnectionAgeGrace: Double = 30

    @Option(help: "Serve only these symbols (comma-separated); others are refused as unknown. Default: any well-formed symbol.")
    var symbols: String?

    @Option(help: "Event-loop threads for client connections.")
    var threads: Int = GatewayConfiguration.defaults.eventLoopThreads

    @Option(help: "Largest request message accepted, in bytes.")
    var maxMessageSize: Int = GatewayConfiguration.defaults.maxMessageSize

    @Option(help: "Bytes that may wait for one slow stream before it is conflated (latest tick per pair) or, if lossless, ended.")
    var maxPendingBytes: Int = GatewayConfiguration.defaults.maxPendingBytesPerStream

    @Option(help: "Most symbols and patterns one stream may hold, and most (venue, symbol) pairs they may match.")
    var maxSubscriptions: Int = GatewayConfiguration.defaults.maxSubscriptionsPerStream

    @Option(help: "Send a heartbeat on a stream quiet for this many seconds (0: never).")
    var heartbeat: Int = 5

    @Option(help: "At start-up, read the last-value cache back from up to this many ticks before each partition's end.")
    var warmupTicks: Int = GatewayConfiguration.defaults.warmupTicksPerPartition

    @Option(help: "...and from no tick older than this many seconds.")
    var warmupWindow: Int = 24 * 3600

    @Option(help: "Replays from Kafka (resume, since) running at once; more are refused with a retry hint (0: no replays).")
    var maxReplays: Int = GatewayConfiguration.defaults.maxConcurrentReplays

    @Option(help: "Ticks replayed per second, gateway-wide.")
    var replayRate: Int = GatewayConfiguration.defaults.replayTicksPerSecond

    @Option(help: "Ticks replayed per second by one replay.")
    var replayRatePerStream: Int = GatewayConfiguration.defaults.replayTicksPerSecondPerStream

    @Option(help: "Most offsets one replay goes back.")
    var maxReplaySpan: Int64 = GatewayConfiguration.defaults.maxReplaySpan

    @Option(help: "Most distinct (venue, symbol) pairs routed; ticks of more are counted, not delivered.")
    var maxMarketKeys: Int = GatewayConfiguration.defaults.maxMarketKeys

    @Flag(name: .shortAndLong, help: "Log debug detail.")
    var verbose = false

    func validate() throws {
        guard threads >= 1 else { throw ValidationError("--threads must be at least 1") }
        for origin in corsOrigins where origin != "*" {
            let rest = origin.hasPrefix("https://") ? origin.dropFirst(8) : origin.hasPrefix("http://") ? origin.dropFirst(7) : nil
            guard let rest, !rest.isEmpty, !rest.contains("/") else {
                throw ValidationError("--cors-origin \(origin): an origin is scheme://host[:port], e.g. https://app.example.com (or * for any)")
            }
        }
        guard maxMessageSize >= 1024 else { throw ValidationError("--max-message-size must be at least 1024") }
        guard maxPendingBytes >= 64 * 1024 else { throw ValidationError("--max-pending-bytes must be at least 65536") }
        guard maxSubscriptions >= 1 else { throw ValidationError("--max-subscriptions must be at least 1") }
        guard heartbeat >= 0 else { throw ValidationError("--heartbeat must be 0 or more seconds") }
        guard warmupTicks >= 0, warmupWindow >= 0 else { throw ValidationError("--warmup-ticks and --warmup-window must be 0 or more") }
        guard maxReplays >= 0 else { throw ValidationError("--max-replays must be 0 or more") }
        guard replayRate >= 1, replayRatePerStream >= 1 else { throw ValidationError("--replay-rate and --replay-rate-per-stream must be at least 1") }
        guard maxReplaySpan >= 1 else { throw ValidationError("--max-replay-span must be at least 1") }
        guard maxMarketKeys >= 1 else { throw ValidationError("--max-market-keys must be at least 1") }
        guard maxConnections >= 1, maxConnectionsPerAddress >= 1 else {
            throw ValidationError("--max-connections and --max-connections-per-address must be at least 1")
        }
        guard maxStreamsPerConnection >= 1 else { throw ValidationError("--max-streams-per-connection must be at least 1") }
        guard maxRequestsPerSecond >= 1 else { throw ValidationError("--max-requests-per-second must be at least 1") }
        guard maxResetsPerSecond >= 1 else { throw ValidationError("--max-resets-per-second must be at least 1") }
        guard idleTimeout >= 0, handshakeTimeout >= 0, minPingInterval >= 0, maxConnectionAge >= 0, maxConnectionAgeGrace >= 0 else {
            throw ValidationError("--idle-timeout, --min-ping-interval, --max-connection-age and --max-connection-age-grace must be 0 or more")
        }
        if (tlsCert == nil) != (tlsKey == nil) { throw ValidationError("--tls-cert and --tls-key go together") }
        if tlsClientCa != nil && tlsCert == nil { throw ValidationError("--tls-client-ca needs --tls-cert and --tls-key") }
        if apiKeys != nil && allowAnonymousPublish {
            throw ValidationError("--allow-anonymous-publish is for gateways without --api-keys; give the publishing key the publish right instead")
        }
        if let symbols { _ = try SymbolList.parse([symbols], option: "--symbols") }
    }

    private static func duration(_ seconds: Double) -> Duration? {
        seconds > 0 ? .nanoseconds(Int64(seconds * 1e9)) : nil
    }

    func run() async throws {
        let logger = CLILogging.logger("tickgate.serve", verbose: verbose)
        var configuration = GatewayConfiguration(kafka: try kafka.configuration())
        configuration.host = listen.host
        configuration.port = listen.port
        configuration.topic = kafka.topic
        configuration.eventLoopThreads = threads
        configuration.maxMessageSize = maxMessageSize
        configuration.maxPendingBytesPerStream = maxPendingBytes
        configuration.maxSubscriptionsPerStream = maxSubscriptions
        configuration.heartbeatInterval = heartbeat > 0 ? .seconds(heartbeat) : nil
        configuration.warmupTicksPerPartition = warmupTicks
        configuration.warmupWindow = .seconds(warmupWindow)
        configuration.maxConcurrentReplays = maxReplays
        configuration.replayTicksPerSecond = replayRate
        configuration.replayTicksPerSecondPerStream = replayRatePerStream
        configuration.maxReplaySpan = maxReplaySpan
        configuration.maxMarketKeys = maxMarketKeys
        configuration.metricsHost = noMetrics ? nil : metricsListen.host
        configuration.metricsPort = metricsListen.port
        configuration.enablePublish = !noPublish
        configuration.maxConnections = maxConnections
        configuration.corsOrigins = corsOrigins
        configuration.serveWeb = !noWeb
        configuration.chartLibraryPath = chartLibrary.isEmpty ? nil : chartLibrary
        configuration.maxConnectionsPerAddress = maxConnectionsPerAddress
        configuration.maxConcurrentStreamsPerConnection = maxStreamsPerConnection
        configuration.maxRequestsPerSecondPerStream = maxRequestsPerSecond
        configuration.idleTimeout = Self.duration(idleTimeout)
        configuration.handshakeTimeout = Self.duration(handshakeTimeout)
        configuration.maxClientResetsPerSecond = maxResetsPerSecond
        configuration.minPingInterval = Self.duration(minPingInterval)
        configuration.pingsWithoutCalls = !noPingsWithoutCalls
        configuration.maxConnectionAge = Self.duration(maxConnectionAge)
        configuration.maxConnectionAgeGrace = Self.duration(maxConnectionAgeGrace) ?? .zero
        let access: AccessControl
        if let apiKeys {
            do {
                access = try AccessControl(keyFile: apiKeys)
            } catch {
                throw failure("\(error)")
            }
        } else {
            access = AccessControl(anonymousPublish: allowAnonymousPublish)
        }
        configuration.access = access
        if let tlsCert, let tlsKey {
            configuration.tls = GatewayTLS(certificateChainFile: tlsCert, privateKeyFile: tlsKey, clientCAFile: tlsClientCa)
        }
        configuration.staleAfter = staleAfter > 0 ? .nanoseconds(Int64(staleAfter * 1e9)) : nil
        if let symbols {
            configuration.symbolCatalog = Set(try SymbolList.parse([symbols], option: "--symbols").map(\.rawValue))
        }
        let gateway: Gateway
        do {
            gateway = try await Gateway.start(configuration: configuration, logger: logger)
        } catch {
            throw failure("\(error)")
        }
        printOut("gateway listening on \(HostPort(host: gateway.host, port: gateway.port)) (gRPC over \(gateway.servesTLS ? tlsClientCa != nil ? "TLS, client certificates required" : "TLS" : "h2c")), reading \(gateway.partitionCount) partition(s) of \(kafka.topic) from \(kafka.brokers)")
        if let metricsPort = gateway.metricsPort {
            printOut("metrics on http://\(HostPort(host: metricsListen.host, port: metricsPort))/metrics")
        }
        let apiKeys = self.apiKeys
        Hangup.onSignal {
            if let apiKeys {
                do {
                    let count = try access.reload()
                    logger.notice("reloaded \(count) API key(s) from \(apiKeys)")
                } catch {
                    logger.error("keys file not reloaded, the previous keys stay: \(error)")
                }
            }
            if gateway.servesTLS {
                do {
                    try gateway.reloadTLS()
                    logger.notice("reloaded the TLS certificate and key; new connections use them")
                } catch {
                    logger.error("TLS certificate not reloaded, the previous one stays: \(error)")
                }
            }
        }
        if let apiKeys {
            printOut("API keys: \(access.keyCount) from \(apiKeys) (reloaded on SIGHUP); every call needs one")
        } else {
            printOut("no API keys: anyone who can reach the port may subscribe; Publish is \(noPublish ? "off" : allowAnonymousPublish ? "open to anyone (--allow-anonymous-publish)" : "refused (give --api-keys, or --allow-anonymous-publish)")")
        }
        let tlsHint = gateway.servesTLS ? " --tls [--ca-file CA.pem]" : ""
        let keyHint = self.apiKeys != nil ? " --api-key-file KEY" : ""
        printOut("subscribe with: tickgate subscribe --to \(HostPort(host: gateway.host, port: gateway.port))\(tlsHint)\(keyHint) BTC-USD")
        await Termination.wait()
        printOut("stopping gateway")
        await gateway.shutdown()
    }
}

