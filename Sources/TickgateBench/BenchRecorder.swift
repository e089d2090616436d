import Histogram
import TickgateModel

/// What the load client saw, on its event loop (no locks): latency per hop
/// for ticks published inside the measured window, and per (stream, symbol)
/// sequence checks over the whole run.
final class BenchRecorder {
    let scenario: BenchScenario
    var measureFromNanos: Int64 = .max
    var measureUntilNanos: Int64 = .max
    private(set) var endToEnd = HopHistograms.make()
    private(set) var endToEndScheduled = HopHistograms.make()
    private(set) var kafkaHop = HopHistograms.make()
    private(set) var producerToKafka = HopHistograms.make()
    private(set) var gatewayInside = HopHistograms.make()
    private(set) var gatewayAdded = HopHistograms.make()

    /// Last sequence per (stream slot, symbol index); 0 = none yet.
    private var lastSequence: [UInt64]
    /// Whether a stream subscribed to a symbol.
    private var subscribed: [Bool]
    private(set) var received = 0
    private(set) var measured = 0
    /// Deliveries that arrived inside the window (by receipt time): the
    /// sustained rate, which a backlog draining later cannot inflate.
    private(set) var arrivedInWindow = 0
    private(set) var duplicates = 0
    private(set) var outOfOrder = 0
    private(set) var unexpected = 0
    /// Deliveries without the gateway's t3/t4 stamps: a broken gateway or
    /// probe, and the latency figures cannot be trusted.
    private(set) var unstamped = 0
    var acks = 0
    var errors = 0

    init(scenario: BenchScenario) {
        self.scenario = scenario
        let cells = scenario.streams * scenario.symbols
        self.lastSequence = Array(repeating: 0, count: cells)
        self.subscribed = Array(repeating: false, count: cells)
        for stream in 0..<scenario.streams {
            for symbol in scenario.symbolIndices(ofStream: stream) {
                subscribed[stream * scenario.symbols + symbol] = true
            }
        }
    }

    @inline(__always)
    func record(slot: Int, tick: ProbedTick, now: Int64) {
        received &+= 1
        guard tick.symbolIndex >= 0, tick.symbolIndex < scenario.symbols else {
            unexpected &+= 1
            return
        }
        let cell = slot * scenario.symbols + tick.symbolIndex
        guard subscribed[cell] else {
            unexpected &+= 1
            return
        }
        let last = lastSequence[cell]
        if tick.sequence > last {
            lastSequence[cell] = tick.sequence
        } else if tick.sequence == last {
            duplicates &+= 1
        } else {
            outOfOrder &+= 1
        }
        if tick.receiveNanos == 0 || tick.dispatchNanos == 0 { unstamped &+= 1 }
        if now >= measureFromNanos && now < measureUntilNanos { arrivedInWindow &+= 1 }
        guard tick.publishNanos >= measureFromNanos, tick.publishNanos < measureUntilNanos else { return }
        measured &+= 1
        endToEnd.recordClamped(now - tick.publishNanos)
        endToEndScheduled.recordClamped(now - tick.scheduledNanos)
        kafkaHop.recordClamped(tick.receiveNanos - tick.publishNanos)
        producerToKafka.recordClamped(tick.kafkaMillis &* 1_000_000 - tick.publishNanos)
        gatewayInside.recordClamped(tick.dispatchNanos - tick.receiveNanos)
        gatewayAdded.recordClamped(now - tick.receiveNanos)
    }

    /// Deliveries the streams received, counted as distinct sequence numbers:
    /// with sequences from 1 per symbol, the last one seen is how many the
    /// stream should have by now.
    var distinctReceived: Int { received - duplicates - outOfOrder - unexpected }

    /// What one recorder counted, to be summed over the client's loops.
    struct Totals: Sendable {
        var histograms = HopHistograms()
        var measured = 0
        var duplicates = 0
        var outOfOrder = 0
        var unexpected = 0
        var errors = 0
        var unstamped = 0
        var arrivedInWindow = 0
        var distinctReceived = 0

        init() {}

        init(_ recorder: BenchRecorder) {
            histograms = recorder.histograms
            measured = recorder.measured
            duplicates = recorder.duplicates
            outOfOrder = recorder.outOfOrder
            unexpected = recorder.unexpected
            errors = recorder.errors
            unstamped = recorder.unstamped
            arrivedInWindow = recorder.arrivedInWindow
            distinctReceived = recorder.distinctReceived
        }

        mutating func add(_ other: Totals) {
            histograms.merge(other.histograms)
            measured += other.measured
            duplicates += other.duplicates
            outOfOrder += other.outOfOrder
            unexpected += other.unexpected
            errors += other.errors
            unstamped += other.unstamped
            arrivedInWindow += other.arrivedInWindow
            distinctReceived += other.distinctReceived
        }
    }

    var histograms: HopHistograms {
        var result = HopHistograms()
        result.byHop[.endToEnd] = endToEnd
        result.byHop[.endToEndScheduled] = endToEndScheduled
        result.byHop[.kafkaHop] = kafkaHop
        result.byHop[.producerToKafka] = producerToKafka
        result.byHop[.gatewayInside] = gatewayInside
        result.byHop[.gatewayAdded] = gatewayAdded
        return result
    }
}
