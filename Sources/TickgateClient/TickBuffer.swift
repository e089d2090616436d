import NIOCore
import Synchronization

/// Ticks received on one stream and not yet read by the app, bounded.
///
/// The connection's event loop pushes; the app reads through
/// ``TickSequence``. Once `highWatermark` ticks wait, the stream stops
/// returning HTTP/2 flow-control window to the gateway (the bytes it
/// receives are not acknowledged as consumed), so the gateway's own
/// slow-client handling takes over rather than the app's memory; when the
/// app has read the buffer down to `lowWatermark`, `onResume` runs and the
/// withheld window is returned.
final class TickBuffer: Sendable {
    private struct State {
        var items = CircularBuffer<TickDelivery>()
        var waiter: (id: UInt64, continuation: CheckedContinuation<TickDelivery?, any Error>)?
        var nextWaiterID: UInt64 = 0
        /// Set once the call ended: nil error for a normal end.
        var end: (any Error)?? = nil
        var paused = false
    }

    private let state = Mutex(State())
    let highWatermark: Int
    let lowWatermark: Int
    private let onResume: @Sendable () -> Void

    init(highWatermark: Int, onResume: @escaping @Sendable () -> Void) {
        self.highWatermark = max(1, highWatermark)
        self.lowWatermark = max(0, highWatermark / 2)
        self.onResume = onResume
    }

    /// Adds a tick; false while the reader is behind (stop returning window).
    func push(_ delivery: TickDelivery) -> Bool {
        let (waiter, accepting) = state.withLock { s -> (CheckedContinuation<TickDelivery?, any Error>?, Bool) in
            if let waiter = s.waiter {
                s.waiter = nil
                return (waiter.continuation, true)
            }
            s.items.append(delivery)
            if s.items.count >= highWatermark { s.paused = true }
            return (nil, !s.paused)
        }
        waiter?.resume(returning: delivery)
        return accepting
    }

    /// Why the call ended, once it ended with an error.
    var endError: (any Error)? {
        state.withLock { s in
            if case .some(.some(let error)) = s.end { return error }
            return nil
        }
    }

    /// True while the reader is behind.
    var isPaused: Bool { state.withLock { $0.paused } }

    /// The call ended: readers get what is buffered, then the end.
    func finish(_ error: (any Error)?) {
        let waiter = state.withLock { s -> CheckedContinuation<TickDelivery?, any Error>? in
            guard s.end == nil else { return nil }
            s.end = .some(error)
            guard s.items.isEmpty, let waiter = s.waiter else { return nil }
            s.waiter = nil
            return waiter.continuation
        }
        guard let waiter else { return }
        if let error { waiter.resume(throwing: error) } else { waiter.resume(returning: nil) }
    }

    private enum Next {
        case value(TickDelivery, resume: Bool)
        case ended((any Error)?)
        case cancelled
        case wait
    }

    /// The next tick; nil when the call ended normally (or the reading task
    /// was cancelled: the buffer stays readable by a later loop).
    func next() async throws -> TickDelivery? {
        let id = state.withLock { s -> UInt64 in
            s.nextWaiterID += 1
            return s.nextWaiterID
        }
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<TickDelivery?, any Error>) in
                let next = state.withLock { s -> Next in
                    if let item = s.items.popFirst() {
                        let resume = s.paused && s.items.count <= lowWatermark
                        if resume { s.paused = false }
                        return .value(item, resume: resume)
                    }
                    if let end = s.end { return .ended(end) }
                    if Task.isCancelled { return .cancelled }
                    s.waiter = (id, continuation)
                    return .wait
                }
                switch next {
                case .value(let item, let resume):
                    if resume { onResume() }
                    continuation.resume(returning: item)
                case .ended(let error):
                    if let error { continuation.resume(throwing: error) } else { continuation.resume(returning: nil) }
                case .cancelled:
                    continuation.resume(returning: nil)
                case .wait:
                    break
                }
            }
        } onCancel: {
            let waiter = state.withLock { s -> CheckedContinuation<TickDelivery?, any Error>? in
                guard let waiter = s.waiter, waiter.id == id else { return nil }
                s.waiter = nil
                return waiter.continuation
            }
            waiter?.resume(returning: nil)
        }
    }

    /// Ticks waiting to be read.
    var count: Int { state.withLock { $0.items.count } }
}

/// The ticks of one stream, in order, as they arrive. Reading may stop and
/// start again (several loops one after another read one sequence); the
/// sequence ends when the call ends, throwing unless it ended OK.
public struct TickSequence: AsyncSequence, Sendable {
    public typealias Element = TickDelivery
    let buffer: TickBuffer

    public struct AsyncIterator: AsyncIteratorProtocol {
        let buffer: TickBuffer
        public mutating func next() async throws -> TickDelivery? { try await buffer.next() }
    }

    public func makeAsyncIterator() -> AsyncIterator { AsyncIterator(buffer: buffer) }

    /// Ticks received and not yet read.
    public var buffered: Int { buffer.count }
}
