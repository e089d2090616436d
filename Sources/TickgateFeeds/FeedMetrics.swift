import TickgateKafka
import TickgateMetrics

/// A feed adapter's Prometheus metrics, labelled with the adapter and the
/// venue: what it received, published and dropped, its reconnects and
/// gaps, its queue, and per-symbol staleness (seconds since the last tick).
/// Counts are read from the feed's atomics when scraped.
public final class FeedMetrics: Sendable {
    private let export = PrometheusExport()
    private let labels: [(String, String)]

    public init(adapter: String, venue: String) {
        self.labels = [("adapter", adapter), ("venue", venue)]
    }

    /// Text exposition format 0.0.4.
    public func exposition(publisher: TickPublisher, feed: FeedStats? = nil, queue: BoundedTickQueue? = nil) -> [UInt8] {
        let producer = publisher.producer
        counter("tickgate_feed_delivered_total", producer.delivered)
        counter("tickgate_feed_delivery_failures_total", producer.failed)
        counter("tickgate_feed_kafka_queue_full_total", producer.queueFullCount)
        export.gauge("tickgate_feed_kafka_pending", Double(producer.pending), labels)
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
            export.gauge("tickgate_feed_queue_depth", Double(queue.depth), labels)
            counter("tickgate_feed_queue_full_total", queue.fullEpisodes)
        }
        for (symbol, seconds) in publisher.staleness() {
            export.gauge("tickgate_feed_symbol_staleness_seconds", seconds, labels + [("symbol", symbol)])
        }
        return export.emit()
    }

    private func counter(_ name: String, _ total: Int) {
        export.counter(name, total: total, labels)
    }
}
