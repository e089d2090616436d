import Synchronization
import TickgateModel

/// How much replaying the gateway allows at once, so that a reconnect
/// storm cannot take the live path down: replays running at once (each on
/// a thread of its own, never on an event loop), one per stream at a time,
/// and ticks replayed per second, per replay and for the whole gateway
/// (a shared token bucket the replays draw from).
final class ReplayBudget: Sendable {
    struct Limits: Sendable {
        var maxConcurrent: Int
        var ticksPerSecond: Int
        var ticksPerSecondPerStream: Int
        /// Most offsets one replay may span (older: refused as too far back).
        var maxSpan: Int64
    }

    let limits: Limits
    private let state: Mutex<State>

    private struct State {
        var running = 0
        var tokens: Double
        var refilledAt: Int64
    }

    init(limits: Limits, now: Int64 = WallClock.nowNanos()) {
        self.limits = limits
        self.state = Mutex(State(tokens: Double(limits.ticksPerSecond), refilledAt: now))
    }

    /// A replay may start now; false (and how long to wait) when the
    /// gateway runs as many as it allows.
    func tryStart() -> (started: Bool, retryAfterMillis: Int64) {
        state.withLock { state in
            guard state.running < limits.maxConcurrent else { return (false, 1000) }
            state.running += 1
            return (true, 0)
        }
    }

    /// A follow-up round of a replay already admitted: counted, never refused.
    func forceStart() {
        state.withLock { $0.running += 1 }
    }

    func finished() {
        state.withLock { $0.running = max(0, $0.running - 1) }
    }

    /// Takes `count` ticks from the gateway's bucket; returns how long the
    /// caller (a replay thread) must wait before it may go on.
    func take(_ count: Int, now: Int64 = WallClock.nowNanos()) -> Int64 {
        state.withLock { state in
            let rate = Double(limits.ticksPerSecond)
            state.tokens = min(rate, state.tokens + Double(now - state.refilledAt) / 1e9 * rate)
            state.refilledAt = now
            state.tokens -= Double(count)
            return state.tokens >= 0 ? 0 : Int64(-state.tokens / rate * 1e9)
        }
    }
}
