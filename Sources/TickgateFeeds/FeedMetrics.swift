import CoreMetrics
import Prometheus
import Synchronization
import TickgateKafka

/// A feed adapter's Prometheus metrics, labelled with the adapter and the
/// venue: what it received, published and dropped, its reconnects and
/// gaps, its queue, and per-symbol staleness (seconds since the last tick).
/// Counts are read from the feed's atomics when scraped.
public final class FeedMetrics: Sendable {
    private let registry = PrometheusCollectorRegistry()
    private let factory: PrometheusMetricsFactory
    private let labels: [(String, String)]
    private let exported = Mutex<[String: Int]>([:])

    public init(adapter: String, venue: String) {
        self.factory = PrometheusMetricsFactory(registry: registry)
        self.labels = [("adapter", adapter), ("venue", venue)]
    }

    /// Text exposition format 0.0.4.
    public func exposition(publisher: TickPublisher, feed: FeedStats? = nil, queue: BoundedTickQueue? = nil) -> [UInt8] {
        let producer = publisher.producer
        counter("tickgate_feed_delivered_total", producer.delivered)
        counter("tickgate_feed_delivery_failures_total", producer.failed)
        counter("tickgate_feed_kafka_queue_full_total", producer.queueFullCount)
        gauge("tickgate_feed_kafka_pending", Double(producer.pending))
        if let feed {
            let s = feed.snapshot
            counter("tickgate_feed_messages_total", s.messages)
            counter("tickgate_feed_ticks_total", s.ticks)
            counter("tickgate_feed_duplicates_dropped_total", s.duplicates)
            counter("tickgate_feed_gaps_total", s.gaps)
            counter("tickgate_feed_missing_updates_total", s.missing)
            counter("tickgate_feed_reconnects_total", s.reconnects)
            counter("tickgate_feed_malformed_total", s.malformed)
            counter("tickgate_feed_venue_errors_total", s.venueErrors)
        }
        if let queue {
            gauge("tickgate_feed_queue_depth", Double(queue.depth))
            counter("tickgate_feed_queue_full_total", queue.fullEpisodes)
        }
        for (symbol, seconds) in publisher.staleness() {
            Gauge(label: "tickgate_feed_symbol_staleness_seconds", dimensions: labels + [("symbol", symbol)], factory: factory)
                .record(seconds)
        }
        return registry.emitToBuffer()
    }

    private func gauge(_ name: String, _ value: Double) {
        Gauge(label: name, dimensions: labels, factory: factory).record(value)
    }

    /// Counters only go up: add what grew since the last scrape.
    private func counter(_ name: String, _ total: Int) {
        let delta = exported.withLock { exported -> Int in
            let delta = total - exported[name, default: 0]
            if delta > 0 { exported[name] = total }
            return delta
        }
        let counter = Counter(label: name, dimensions: labels, factory: factory)
        if delta > 0 { counter.increment(by: delta) }
    }
}
