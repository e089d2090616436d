import Synchronization

/// Batches waiting for one event loop. The Kafka reader pushes; the loop
/// takes everything queued in one turn, delivers it all and then writes
/// each connection once. The busier the loop, the more each write carries.
/// One lock per batch, never per delivery.
final class LoopInbox: Sendable {
    private struct State {
        var batches: [TickFrameBatch] = []
        var ticks = 0
        var scheduled = false
    }

    private let state = Mutex(State())

    /// Queues `batch`; true when the loop must be woken (no drain pending).
    func push(_ batch: TickFrameBatch) -> Bool {
        state.withLock { state in
            state.batches.append(batch)
            state.ticks += batch.entries.count
            defer { state.scheduled = true }
            return !state.scheduled
        }
    }

    /// Everything queued so far; the next push wakes the loop again.
    func takeAll() -> [TickFrameBatch] {
        state.withLock { state in
            let batches = state.batches
            state.batches.removeAll(keepingCapacity: true)
            state.ticks = 0
            state.scheduled = false
            return batches
        }
    }

    /// Ticks queued and not yet taken: the reader waits while this is large,
    /// so a slow loop makes Kafka lag grow instead of memory.
    var queuedTicks: Int { state.withLock { $0.ticks } }
}
