import Dispatch
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// SIGINT/SIGTERM: the first one runs `handler` (a graceful stop); a second
/// one exits at once.
enum Termination {
    nonisolated(unsafe) private static var sources: [any DispatchSourceSignal] = []
    private static let fired = Atomic<Int>(0)

    static func onSignal(_ handler: @escaping @Sendable (Int32) -> Void) {
        for sig in [SIGINT, SIGTERM] {
            signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            source.setEventHandler {
                if fired.add(1, ordering: .relaxed).newValue > 1 { exit(130) }
                handler(sig)
            }
            source.resume()
            sources.append(source)
        }
    }

    /// Suspends until SIGINT or SIGTERM.
    static func wait() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            onSignal { _ in continuation.resume() }
        }
    }
}
