#if canImport(Glibc)
import Glibc
#endif

/// A named OS thread for blocking work (librdkafka polls, paced feeds) that
/// must never run on Swift's cooperative pool. Joined with ``join()``, or
/// detached when the object goes away unjoined: no thread is ever leaked
/// as a zombie.
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

    /// Waits for the thread to finish. Idempotent; never call it from the
    /// thread itself.
    public func join() {
        guard !joined else { return }
        joined = true
        pthread_join(thread, nil)
    }

    /// Lets the thread run on alone: its resources go back to the system
    /// when it ends.
    public func detach() {
        guard !joined else { return }
        joined = true
        pthread_detach(thread)
    }

    deinit { detach() }
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
/// cooperative pool never blocks. The thread is detached: it ends with
/// `work` and its resources are freed then.
public func runOnDedicatedThread<T: Sendable, E: Error>(
    name: String, _ work: @escaping @Sendable () throws(E) -> T
) async throws(E) -> T {
    let result: Result<T, E> = await withCheckedContinuation { continuation in
        DedicatedThread(name: name) {
            continuation.resume(returning: Result { () throws(E) -> T in try work() })
        }.detach()
    }
    return try result.get()
}

/// Sleeps the calling (dedicated) thread.
func sleepMillis(_ millis: Int) {
    usleep(UInt32(max(0, millis)) * 1000)
}
