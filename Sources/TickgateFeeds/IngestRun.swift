public import Logging
public import TickgateKafka
public import TickgateModel
#if canImport(Glibc)
import Glibc
#endif

/// Runs a feed at a scheduled rate on a dedicated thread: tick `n` is due at
/// `start + n / rate` (open loop), whatever happened to earlier ticks.
public final class IngestRun: @unchecked Sendable {
    public struct Options: Sendable {
        public var ratePerSecond: Double
        public var count: Int?
        public var duration: Duration?
        /// Every `burstEvery`, `burstSize` extra ticks go out at once, on top
        /// of the steady rate (a market event; 0 = none).
        public var burstSize: Int = 0
        public var burstEvery: Duration = .seconds(1)

        public init(ratePerSecond: Double, count: Int? = nil, duration: Duration? = nil) {
            self.ratePerSecond = ratePerSecond
            self.count = count
            self.duration = duration
        }
    }

    public struct Report: Sendable {
        public var published: Int
        public var delivered: Int
        public var failed: Int
        public var elapsedSeconds: Double
    }

    private let stopFlag = StopFlag()
    private var thread: DedicatedThread?
    private let publisher: TickPublisher
    private let started = ContinuousClock.now

    /// Starts publishing at once. `makeTick(now, scheduled)` returns the next
    /// tick; `scheduled` is the wall time the open-loop schedule assigned it,
    /// which benchmarks use to correct for coordinated omission.
    public init(publisher: TickPublisher, options: Options, logger: Logger, makeTick: @escaping @Sendable (Int64, Int64) -> Tick) {
        self.publisher = publisher
        let stop = stopFlag
        let box = ResultBox()
        self.resultBox = box
        thread = DedicatedThread(name: "ingest") {
            box.result = Self.run(publisher: publisher, options: options, stop: stop, makeTick: makeTick)
        }
    }

    private let resultBox: ResultBox
    private final class ResultBox: @unchecked Sendable {
        var result: Result<Int, KafkaError> = .success(0)
    }

    public func stop() { stopFlag.set() }

    /// Waits for the run to end (count or duration reached, or ``stop()``),
    /// then flushes: throws if any tick was not delivered.
    public func finish(flushTimeout: Duration = .seconds(30)) throws(KafkaError) -> Report {
        thread?.join()
        thread = nil
        let published = try resultBox.result.get()
        try publisher.producer.flush(timeout: flushTimeout)
        let elapsed = ContinuousClock.now - started
        return Report(
            published: published, delivered: publisher.producer.delivered, failed: publisher.producer.failed,
            elapsedSeconds: Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
    }

    private static func run(
        publisher: TickPublisher, options: Options, stop: StopFlag, makeTick: @Sendable (Int64, Int64) -> Tick
    ) -> Result<Int, KafkaError> {
        let startNanos = monotonicNanos()
        let wallStart = WallClock.nowNanos()
        let endNanos = options.duration.map { startNanos + $0.wholeNanoseconds }
        let interval = 1e9 / max(options.ratePerSecond, 0.001)
        let burstEvery = max(1_000_000, options.burstEvery.wholeNanoseconds)
        var nextBurst = startNanos + burstEvery
        var burstSent = 0
        var sent = 0
        while !stop.isSet {
            if let count = options.count, sent >= count { break }
            let now = monotonicNanos()
            if let endNanos, now >= endNanos { break }
            // A burst: extra ticks at once, outside the steady schedule.
            if options.burstSize > 0, now >= nextBurst {
                nextBurst += burstEvery
                for _ in 0..<options.burstSize {
                    if let count = options.count, sent >= count { break }
                    do {
                        let wall = WallClock.nowNanos()
                        try publisher.publish(makeTick(wall, wall))
                    } catch {
                        return .failure(error)
                    }
                    sent += 1
                    burstSent += 1
                }
            }
            // Everything due by now goes out; then sleep to the next due time.
            var due = Int(Double(now - startNanos) / interval) + 1 + burstSent
            if let count = options.count { due = min(due, count) }
            while sent < due && !stop.isSet {
                do {
                    let scheduled = wallStart + Int64(Double(sent - burstSent) * interval)
                    try publisher.publish(makeTick(WallClock.nowNanos(), scheduled))
                } catch {
                    return .failure(error)
                }
                sent += 1
            }
            var next = startNanos + Int64(Double(sent - burstSent) * interval)
            if options.burstSize > 0 { next = min(next, nextBurst) }
            sleepUntil(monotonicNanos: min(next, now + 100_000_000))
        }
        return .success(sent)
    }
}

func monotonicNanos() -> Int64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec)
}

/// Sleeps to an absolute deadline (no drift from sleep overshoot).
func sleepUntil(monotonicNanos deadline: Int64) {
    var ts = timespec(tv_sec: Int(deadline / 1_000_000_000), tv_nsec: Int(deadline % 1_000_000_000))
    while clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, nil) == EINTR {}
}
