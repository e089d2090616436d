import CoreMetrics
public import Prometheus
import Synchronization

/// A Prometheus registry fed at scrape time from counts kept elsewhere
/// (atomics): gauges are set, counters grow by what grew since the last
/// scrape (Prometheus counters never go down).
public final class PrometheusExport: Sendable {
    private let registry = PrometheusCollectorRegistry()
    /// For swift-metrics types recorded as they happen (timers).
    public let factory: PrometheusMetricsFactory
    private let exported = Mutex<[String: Int]>([:])

    public init(durationBuckets: [Duration]? = nil) {
        var factory = PrometheusMetricsFactory(registry: registry)
        if let durationBuckets { factory.defaultDurationHistogramBuckets = durationBuckets }
        self.factory = factory
    }

    public func gauge(_ name: String, _ value: Double, _ labels: [(String, String)] = []) {
        Gauge(label: name, dimensions: labels, factory: factory).record(value)
    }

    public func counter(_ name: String, total: Int, _ labels: [(String, String)] = []) {
        let key = name + labels.map { "|\($0.0)=\($0.1)" }.joined()
        let delta = exported.withLock { exported -> Int in
            let delta = total - exported[key, default: 0]
            if delta > 0 { exported[key] = total }
            return delta
        }
        let counter = Counter(label: name, dimensions: labels, factory: factory)
        if delta > 0 { counter.increment(by: delta) }
    }

    /// Text exposition format 0.0.4.
    public func emit() -> [UInt8] { registry.emitToBuffer() }
}
