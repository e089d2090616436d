import CoreMetrics
import TickgateMetrics
import Synchronization
import TickgateKafka
import TickgateModel

/// The gateway's Prometheus metrics: one registry per gateway, fed through
/// swift-metrics types. Counts live in ``GatewayStats`` (atomics) and are
/// copied into the registry when scraped; latency histograms are recorded
/// per tick (Kafka hop, inside the gateway) or per loop turn (to the write),
/// never per delivery.
final class GatewayMetrics: Sendable {
    private let export = PrometheusExport(durationBuckets: [
        .microseconds(10), .microseconds(50), .microseconds(100), .microseconds(250), .microseconds(500),
        .milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10), .milliseconds(25),
        .milliseconds(50), .milliseconds(100), .milliseconds(250), .seconds(1), .seconds(5),
    ])
    private let kafkaHop: CoreMetrics.Timer
    private let gatewayInside: CoreMetrics.Timer
    private let gatewayToWrite: CoreMetrics.Timer

    init() {
        let factory = export.factory
        kafkaHop = Timer(label: "tickgate_hop_latency_seconds", dimensions: [("hop", "t1_publish_to_t3_gateway_receive")], factory: factory)
        gatewayInside = Timer(label: "tickgate_hop_latency_seconds", dimensions: [("hop", "t3_receive_to_t4_dispatch")], factory: factory)
        gatewayToWrite = Timer(label: "tickgate_hop_latency_seconds", dimensions: [("hop", "t3_receive_to_socket_write")], factory: factory)
    }

    /// t1 → t3, per tick, on the Kafka reader's thread.
    func recordKafkaHop(nanos: Int64) { kafkaHop.recordNanoseconds(max(0, nanos)) }
    /// t3 → t4, per tick.
    func recordGatewayInside(nanos: Int64) { gatewayInside.recordNanoseconds(max(0, nanos)) }
    /// t3 of a loop turn's first tick → its writes issued, per loop turn.
    func recordGatewayToWrite(nanos: Int64) { gatewayToWrite.recordNanoseconds(max(0, nanos)) }

    /// Text exposition format 0.0.4, current as of this call.
    func exposition(stats: GatewayStats, reader: KafkaPartitionReader?) -> [UInt8] {
        let s = stats.snapshot
        gauge("tickgate_connections", s.connections)
        gauge("tickgate_streams", s.streams)
        gauge("tickgate_subscriptions", s.subscriptions)
        counter("tickgate_deliveries_total", s.deliveries)
        counter("tickgate_ticks_malformed_total", s.ticksMalformed)
        counter("tickgate_slow_stream_resets_total", s.slowStreamResets)
        counter("tickgate_loop_dropped_ticks_total", s.ticksDroppedForLoops)
        counter("tickgate_conflated_streams_total", s.conflatedStreams)
        counter("tickgate_ticks_conflated_total", s.ticksConflated)
        counter("tickgate_delivery_bytes_held_total", s.deliveryBytesHeld)
        counter("tickgate_lagging_streams_ended_total", s.laggingStreamsEnded)
        counter("tickgate_heartbeats_total", s.heartbeats)
        gauge("tickgate_lvc_warming_up", s.warmingUp ? 1 : 0)
        counter("tickgate_replays_total", s.replays)
        counter("tickgate_replays_refused_total", s.replaysRefused)
        counter("tickgate_ticks_replayed_total", s.ticksReplayed)
        counter("tickgate_resumes_not_recovered_total", s.resumesNotRecovered)
        counter("tickgate_ticks_unroutable_total", s.ticksUnroutable)
        counter("tickgate_deadlines_exceeded_total", s.deadlinesExceeded)
        counter("tickgate_header_lists_refused_total", s.headerListsRefused)
        counter("tickgate_unauthenticated_total", s.unauthenticated)
        counter("tickgate_connections_refused_total", s.connectionsRefused)
        counter("tickgate_connections_aged_total", s.connectionsAged)
        counter("tickgate_requests_rate_limited_total", s.requestsRateLimited)
        counter("tickgate_tls_refused_total", s.tlsRefused)
        counter("tickgate_connections_idle_closed_total", s.connectionsIdleClosed)
        counter("tickgate_ping_floods_closed_total", s.pingFloodsClosed)
        counter("tickgate_reset_floods_closed_total", s.resetFloodsClosed)
        counter("tickgate_http1_connections_total", s.http1Connections)
        counter("tickgate_grpc_web_calls_total", s.grpcWebCalls)
        counter("tickgate_sse_streams_total", s.sseStreams)
        counter("tickgate_sse_tick_encodes_total", s.sseTickEncodes)
        counter("tickgate_handshakes_timed_out_total", s.handshakesTimedOut)
        gauge("tickgate_call_objects", s.callObjects)
        for (code, count) in stats.requestErrorsByCode.enumerated() where count > 0 {
            counter("tickgate_request_errors_total", count, [("grpc_code", String(code))])
        }
        for (symbol, seconds) in stats.staleness(now: WallClock.nowNanos()) {
            export.gauge("tickgate_symbol_staleness_seconds", seconds, [("symbol", symbol)])
        }
        if let reader {
            for (partition, count) in reader.consumedPerPartition.enumerated() {
                counter("tickgate_ticks_consumed_total", count, [("partition", String(partition))])
            }
            for (partition, lag) in reader.lag().enumerated() {
                gauge("tickgate_consumer_lag", Int(lag), [("partition", String(partition))])
            }
            gauge("tickgate_kafka_partitions", reader.partitionCount)
            gauge("tickgate_kafka_reachable", reader.brokersReachable ? 1 : 0)
            export.gauge("tickgate_kafka_watermark_age_seconds", Double(reader.watermarkAge.components.seconds), [])
            counter("tickgate_kafka_gaps_total", reader.gapCount)
            for (kind, count) in reader.errorCounts {
                counter("tickgate_kafka_errors_total", count, [("kind", kind.name)])
            }
        }
        return export.emit()
    }

    private func gauge(_ name: String, _ value: Int, _ labels: [(String, String)] = []) {
        export.gauge(name, Double(value), labels)
    }

    private func counter(_ name: String, _ total: Int, _ labels: [(String, String)] = []) {
        export.counter(name, total: total, labels)
    }
}

