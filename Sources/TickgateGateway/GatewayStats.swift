import Synchronization

/// Gateway-wide counters. Updated per connection, stream, subscription
/// change or Kafka batch; never per delivery (loops add their delivery
/// counts once per batch).
public final class GatewayStats: Sendable {
    let connections = Atomic<Int>(0)
    let streams = Atomic<Int>(0)
    let subscriptions = Atomic<Int>(0)
    let ticksConsumed = Atomic<Int>(0)
    let ticksMalformed = Atomic<Int>(0)
    let deliveries = Atomic<Int>(0)
    let slowStreamResets = Atomic<Int>(0)
    let requestErrors = Atomic<Int>(0)
    /// Call and publish-ledger objects alive (a leak shows as growth).
    let callObjects = Atomic<Int>(0)
    let ledgerObjects = Atomic<Int>(0)
    /// Ticks an event loop's inbox had no room for (the loop fell behind;
    /// its affected streams were ended UNAVAILABLE).
    let ticksDroppedForLoops = Atomic<Int>(0)
    /// Slow streams that fell behind and were conflated (kept the latest
    /// tick per pair), and ticks skipped that way.
    let conflatedStreams = Atomic<Int>(0)
    let ticksConflated = Atomic<Int>(0)
    /// Bytes of live ticks that a stream could not send in their own
    /// delivery pass (its window or socket was full), so were copied into
    /// its queue to wait: the one case of a second copy (``PendingBytes``).
    let deliveryBytesHeld = Atomic<Int>(0)
    /// Lossless streams ended because they fell too far behind.
    let laggingStreamsEnded = Atomic<Int>(0)
    /// Ticks of (venue, symbol) pairs past the gateway's `maxMarketKeys`.
    let ticksUnroutable = Atomic<Int>(0)
    let heartbeats = Atomic<Int>(0)
    /// Calls ended DEADLINE_EXCEEDED by their grpc-timeout.
    let deadlinesExceeded = Atomic<Int>(0)
    /// Request header lists past `maxHeaderListSize` (the stream was reset).
    let headerListsRefused = Atomic<Int>(0)
    /// Calls refused UNAUTHENTICATED (no key, or an unknown one).
    let unauthenticated = Atomic<Int>(0)
    /// Connections refused over `maxConnections` or `maxConnectionsPerAddress`.
    let connectionsRefused = Atomic<Int>(0)
    /// Connections drained at `maxConnectionAge`.
    let connectionsAged = Atomic<Int>(0)
    /// Subscribe or unsubscribe requests refused over the per-stream rate.
    let requestsRateLimited = Atomic<Int>(0)
    /// TLS connections refused (handshake failed or timed out, no ALPN h2,
    /// no valid client certificate).
    let tlsRefused = Atomic<Int>(0)
    /// Connections closed for having no call for `idleTimeout`, and for
    /// pinging more often than `minPingInterval` allows.
    let connectionsIdleClosed = Atomic<Int>(0)
    let pingFloodsClosed = Atomic<Int>(0)
    /// Connections closed for resetting streams too fast (rapid reset), and
    /// for not finishing their TLS handshake or HTTP/2 preface in time.
    let resetFloodsClosed = Atomic<Int>(0)
    let handshakesTimedOut = Atomic<Int>(0)
    /// Browsers: HTTP/1.1 connections, gRPC-Web calls and Server-Sent
    /// Events streams opened, and tick JSON encodings for SSE (one per tick
    /// and loop that some SSE stream took).
    let http1Connections = Atomic<Int>(0)
    let grpcWebCalls = Atomic<Int>(0)
    let sseStreams = Atomic<Int>(0)
    let sseTickEncodes = Atomic<Int>(0)
    /// Replays for resuming or time-started subscriptions: run, refused
    /// over budget, ticks replayed, and symbols not fully recovered.
    let replays = Atomic<Int>(0)
    let replaysRefused = Atomic<Int>(0)
    let ticksReplayed = Atomic<Int>(0)
    let resumesNotRecovered = Atomic<Int>(0)
    /// True while the last-value cache is still being read back from Kafka.
    let warmingUp = Atomic<Bool>(false)
    private let errorsByCode = Mutex<[Int]>(Array(repeating: 0, count: 17))

    /// A request ended or was refused with gRPC status `code` (rare: a lock is fine).
    func recordRequestError(code: Int) {
        requestErrors.add(1, ordering: .relaxed)
        errorsByCode.withLock { if code >= 0 && code < $0.count { $0[code] += 1 } }
    }

    private let lastTickBySymbol = Mutex<[String: Int64]>([:])

    /// Once per Kafka batch, from the reader thread.
    func recordLastTicks(_ times: [String: Int64]) {
        guard !times.isEmpty else { return }
        lastTickBySymbol.withLock { $0.merge(times) { max($0, $1) } }
    }

    /// When each symbol's last tick reached the gateway (t3).
    func lastTickTimes() -> [String: Int64] { lastTickBySymbol.withLock { $0 } }

    /// Seconds since each symbol's last tick reached the gateway (t3).
    public func staleness(now: Int64) -> [String: Double] {
        lastTickBySymbol.withLock { $0.mapValues { Double(max(0, now - $0)) / 1e9 } }
    }

    /// Request errors by gRPC status code (index = code).
    public var requestErrorsByCode: [Int] { errorsByCode.withLock { $0 } }

    public struct Snapshot: Sendable, Equatable {
        public var connections: Int
        public var streams: Int
        public var subscriptions: Int
        public var ticksConsumed: Int
        public var ticksMalformed: Int
        public var deliveries: Int
        public var slowStreamResets: Int
        public var requestErrors: Int
        public var callObjects: Int
        public var ledgerObjects: Int
        public var ticksDroppedForLoops: Int
        public var conflatedStreams: Int
        public var ticksConflated: Int
        public var deliveryBytesHeld: Int
        public var laggingStreamsEnded: Int
        public var heartbeats: Int
        public var warmingUp: Bool
        public var replays: Int
        public var replaysRefused: Int
        public var ticksReplayed: Int
        public var resumesNotRecovered: Int
        public var ticksUnroutable: Int
        public var deadlinesExceeded: Int
        public var headerListsRefused: Int
        public var unauthenticated: Int
        public var connectionsRefused: Int
        public var connectionsAged: Int
        public var requestsRateLimited: Int
        public var tlsRefused: Int
        public var connectionsIdleClosed: Int
        public var pingFloodsClosed: Int
        public var resetFloodsClosed: Int
        public var handshakesTimedOut: Int
        public var http1Connections: Int
        public var grpcWebCalls: Int
        public var sseStreams: Int
        public var sseTickEncodes: Int
    }

    public var snapshot: Snapshot {
        Snapshot(
            connections: connections.load(ordering: .relaxed),
            streams: streams.load(ordering: .relaxed),
            subscriptions: subscriptions.load(ordering: .relaxed),
            ticksConsumed: ticksConsumed.load(ordering: .relaxed),
            ticksMalformed: ticksMalformed.load(ordering: .relaxed),
            deliveries: deliveries.load(ordering: .relaxed),
            slowStreamResets: slowStreamResets.load(ordering: .relaxed),
            requestErrors: requestErrors.load(ordering: .relaxed),
            callObjects: callObjects.load(ordering: .relaxed),
            ledgerObjects: ledgerObjects.load(ordering: .relaxed),
            ticksDroppedForLoops: ticksDroppedForLoops.load(ordering: .relaxed),
            conflatedStreams: conflatedStreams.load(ordering: .relaxed),
            ticksConflated: ticksConflated.load(ordering: .relaxed),
            deliveryBytesHeld: deliveryBytesHeld.load(ordering: .relaxed),
            laggingStreamsEnded: laggingStreamsEnded.load(ordering: .relaxed),
            heartbeats: heartbeats.load(ordering: .relaxed),
            warmingUp: warmingUp.load(ordering: .relaxed),
            replays: replays.load(ordering: .relaxed),
            replaysRefused: replaysRefused.load(ordering: .relaxed),
            ticksReplayed: ticksReplayed.load(ordering: .relaxed),
            resumesNotRecovered: resumesNotRecovered.load(ordering: .relaxed),
            ticksUnroutable: ticksUnroutable.load(ordering: .relaxed),
            deadlinesExceeded: deadlinesExceeded.load(ordering: .relaxed),
            headerListsRefused: headerListsRefused.load(ordering: .relaxed),
            unauthenticated: unauthenticated.load(ordering: .relaxed),
            connectionsRefused: connectionsRefused.load(ordering: .relaxed),
            connectionsAged: connectionsAged.load(ordering: .relaxed),
            requestsRateLimited: requestsRateLimited.load(ordering: .relaxed),
            tlsRefused: tlsRefused.load(ordering: .relaxed),
            connectionsIdleClosed: connectionsIdleClosed.load(ordering: .relaxed),
            pingFloodsClosed: pingFloodsClosed.load(ordering: .relaxed),
            resetFloodsClosed: resetFloodsClosed.load(ordering: .relaxed),
            handshakesTimedOut: handshakesTimedOut.load(ordering: .relaxed),
            http1Connections: http1Connections.load(ordering: .relaxed),
            grpcWebCalls: grpcWebCalls.load(ordering: .relaxed),
            sseStreams: sseStreams.load(ordering: .relaxed),
            sseTickEncodes: sseTickEncodes.load(ordering: .relaxed))
    }
}
