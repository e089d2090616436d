import Synchronization
import TickgateHTTP2

/// What the Kafka reader hands one event loop.
enum LoopDelivery: Sendable {
    /// Ticks to deliver.
    case ticks(TickFrameBatch)
    /// End the calls subscribed to any of these (venue, symbol) pairs
    /// with `status`: ticks of theirs were lost before this point (the loop
    /// fell too far behind).
    case lost(keys: Set<Int32>, status: GRPCStatus)
    /// Kafka no longer holds ticks of this partition that were not read:
    /// end the calls subscribed to a pair read from it.
    case gap(partition: Int32, status: GRPCStatus)
}

/// Deliveries waiting for one event loop. The Kafka reader pushes and never
/// waits; the loop takes a bounded number of ticks per turn, delivers them
/// and writes each connection once. The busier the loop, the more each
/// write carries. One lock per batch, never per delivery.
///
/// Bounded: when a loop has more ticks queued than its limit, the reader
/// drops that loop's copy of the batch (other loops are not held back),
/// and the loop tells every stream subscribed to a dropped pair, by
/// ending it (UNAVAILABLE), once it catches up: never a silent gap.
final class LoopInbox: Sendable {
    private struct State {
        var queue: [LoopDelivery] = []
        var ticks = 0
        var scheduled = false
        /// Pairs of batches dropped since the loop last caught up.
        var dropped: Set<Int32> = []
        var droppedTicks = 0
    }

    private let state = Mutex(State())
    let maxQueuedTicks: Int

    init(maxQueuedTicks: Int) {
        self.maxQueuedTicks = maxQueuedTicks
    }

    enum PushResult { case queued(wake: Bool), dropped }

    /// Queues `batch` unless the loop is over its bound.
    func push(_ batch: TickFrameBatch) -> PushResult {
        state.withLock { state in
            // Once dropping, keep dropping until the loop has caught up, so
            // that no stream gets ticks after a gap before it is told.
            if state.ticks >= maxQueuedTicks || !state.dropped.isEmpty {
                for entry in batch.entries { state.dropped.insert(entry.key) }
                state.droppedTicks += batch.entries.count
                return .dropped
            }
            state.queue.append(.ticks(batch))
            state.ticks += batch.entries.count
            defer { state.scheduled = true }
            return .queued(wake: !state.scheduled)
        }
    }

    /// Queues a notice; true when the loop must be woken.
    func push(_ notice: LoopDelivery) -> Bool {
        state.withLock { state in
            state.queue.append(notice)
            defer { state.scheduled = true }
            return !state.scheduled
        }
    }

    /// Up to about `maxTicks` ticks (whole batches, at least one) and the
    /// notices between them. `more`: the loop must come back for the rest.
    func take(maxTicks: Int) -> (deliveries: [LoopDelivery], more: Bool) {
        state.withLock { state in
            var taken = 0
            var count = 0
            for item in state.queue {
                if case .ticks(let batch) = item {
                    if taken > 0 && taken + batch.entries.count > maxTicks { break }
                    taken += batch.entries.count
                }
                count += 1
            }
            let deliveries = Array(state.queue.prefix(count))
            state.queue.removeFirst(count)
            state.ticks -= taken
            if state.queue.isEmpty, !state.dropped.isEmpty {
                // Caught up: the drop becomes a notice, after everything
                // that was queued before it.
                let message = "this gateway fell behind: \(state.droppedTicks) tick(s) for this stream's event loop were dropped; resubscribe"
                let notice = LoopDelivery.lost(keys: state.dropped, status: GRPCStatus(.unavailable, message))
                state.dropped = []
                state.droppedTicks = 0
                state.scheduled = false
                return (deliveries + [notice], false)
            }
            let more = !state.queue.isEmpty
            state.scheduled = more
            return (deliveries, more)
        }
    }

    /// Ticks queued and not yet taken.
    var queuedTicks: Int { state.withLock { $0.ticks } }
}
