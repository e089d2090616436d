import Dispatch
#if canImport(Glibc)
import Glibc
#endif

/// SIGHUP: reload configuration (keys file, TLS certificates) without
/// dropping connections.
enum Hangup {
    nonisolated(unsafe) private static var source: (any DispatchSourceSignal)?

    static func onSignal(_ handler: @escaping @Sendable () -> Void) {
        signal(SIGHUP, SIG_IGN)
        let source = DispatchSource.makeSignalSource(signal: SIGHUP, queue: .global())
        source.setEventHandler(handler: handler)
        source.resume()
        self.source = source
    }
}
