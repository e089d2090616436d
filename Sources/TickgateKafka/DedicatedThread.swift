#if canImport(Glibc)
import Glibc
#endif

/// A named OS thread for blocking work (librdkafka polls, paced feeds) that
/// must never run on Swift's cooperative pool.
public final class DedicatedThread: @unchecked Sendable {
    private var thread: pthread_t = pthread_t()
    private var joined = false

    private final class Body {
        let run: @Sendable () -> Void
        init(run: @escaping @Sendable () -> Void) { self.run = run }
    }

    /// `name` says what the thread is for at the call site; Glibc does not
    /// expose `pthread_setname_np` to Swift, so the OS thread is not named.
    public init(name: String, _ run: @escaping @Sendable () -> Void) {
        let body = Unmanaged.passRetained(Body(run: run)).toOpaque()
        let result = pthread_create(&thread, nil, { argument in
            let body = Unmanaged<Body>.fromOpaque(argument!).takeRetainedValue()
            body.run()
            return nil
        }, body)
        precondition(result == 0, "pthread_create failed: \(result)")
    }

    /// Waits for the thread to finish. Call once.
    public func join() {
        guard !joined else { return }
        joined = true
        pthread_join(thread, nil)
    }
}

import Synchronization

/// A one-way flag a dedicated thread polls to know when to stop.
public final class StopFlag: Sendable {
    private let flag = Atomic<Bool>(false)
    public init() {}
    public var isSet: Bool { flag.load(ordering: .acquiring) }
    public func set() { flag.store(true, ordering: .releasing) }
}

/// Runs blocking work (connecting librdkafka, joining its threads) on a
/// thread of its own and resumes the caller when it is done, so that the
/// cooperative pool never blocks.
public func runOnDedicatedThread<T: Sendable, E: Error>(
    name: String, _ work: @escaping @Sendable () throws(E) -> T
) async throws(E) -> T {
    let result: Result<T, E> = await withCheckedContinuation { continuation in
        let thread = DedicatedThread(name: name) {
            continuation.resume(returning: Result { () throws(E) -> T in try work() })
        }
        _ = thread  // detached: the thread ends when `work` does
    }
    return try result.get()
}
