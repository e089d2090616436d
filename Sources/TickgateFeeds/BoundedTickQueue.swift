import Dispatch
public import Logging
import Synchronization
public import TickgateModel

/// Ticks between a feed (async, reading a venue) and the thread that
/// publishes them to Kafka. When Kafka stalls and the queue fills, `put`
/// suspends, so the feed stops reading the venue instead of dropping; each
/// time that happens is logged loudly and counted.
public final class BoundedTickQueue: Sendable {
    private struct State {
        var items: [Tick] = []
        var head = 0
        var waiting: [(Tick, CheckedContinuation<Void, Never>)] = []
        var closed = false
        var full = false
        var fullEpisodes = 0
    }

    public let capacity: Int
    private let state = Mutex(State())
    private let available = DispatchSemaphore(value: 0)
    private let logger: Logger

    public init(capacity: Int = 100_000, logger: Logger) {
        precondition(capacity > 0)
        self.capacity = capacity
        self.logger = logger
    }

    public var depth: Int { state.withLock { $0.items.count - $0.head + $0.waiting.count } }
    /// Times the queue filled up and the feed had to wait.
    public var fullEpisodes: Int { state.withLock { $0.fullEpisodes } }

    /// Queues `tick`, suspending while the queue is full.
    public func put(_ tick: Tick) async {
        let queued: Bool = state.withLock { state in
            guard state.items.count - state.head >= capacity else {
                state.items.append(tick)
                return true
            }
            return false
        }
        if queued {
            available.signal()
            return
        }
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let (queuedNow, announce) = state.withLock { state -> (Bool, Bool) in
                if state.items.count - state.head < capacity {
                    state.items.append(tick)
                    return (true, false)
                }
                state.waiting.append((tick, continuation))
                let announce = !state.full
                if announce {
                    state.full = true
                    state.fullEpisodes += 1
                }
                return (false, announce)
            }
            if announce {
                logger.warning("Kafka is not keeping up: the local queue of \(capacity) ticks is full; reading from the venue is paused until it drains")
            }
            if queuedNow {
                available.signal()
                continuation.resume()
            }
        }
    }

    /// The next tick, blocking the calling (dedicated) thread; nil once
    /// closed and empty.
    public func take() -> Tick? {
        while true {
            available.wait()
            let (tick, resumed, drained): (Tick?, CheckedContinuation<Void, Never>?, Bool) = state.withLock { state in
                guard state.head < state.items.count else { return (nil, nil, false) }
                let tick = state.items[state.head]
                state.head += 1
                if state.head > 4096 && state.head * 2 > state.items.count {
                    state.items.removeFirst(state.head)
                    state.head = 0
                }
                var resumed: CheckedContinuation<Void, Never>? = nil
                if !state.waiting.isEmpty {
                    let (waitingTick, continuation) = state.waiting.removeFirst()
                    state.items.append(waitingTick)
                    resumed = continuation
                }
                var drained = false
                if state.full && state.waiting.isEmpty && state.items.count - state.head < capacity / 2 {
                    state.full = false
                    drained = true
                }
                return (tick, resumed, drained)
            }
            if let resumed {
                available.signal()
                resumed.resume()
            }
            if drained { logger.notice("the local queue drained below half; reading from the venue again") }
            if let tick { return tick }
            if state.withLock({ $0.closed }) { return nil }
        }
    }

    /// No more ticks: `take` returns nil once the queue is empty.
    public func close() {
        state.withLock { $0.closed = true }
        available.signal()
    }
}
