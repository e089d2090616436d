import Synchronization

/// Per-feed counters, shown in logs and by `tickgate ingest`.
public final class FeedStats: Sendable {
    let messages = Atomic<Int>(0)
    let ticks = Atomic<Int>(0)
    let duplicates = Atomic<Int>(0)
    let gaps = Atomic<Int>(0)
    let missing = Atomic<Int>(0)
    let reconnects = Atomic<Int>(0)
    let malformed = Atomic<Int>(0)
    let venueErrors = Atomic<Int>(0)
    let subscriptions = Atomic<Int>(0)
    private let lastErrorText = Mutex<String?>(nil)

    public init() {}

    /// The last connection error (TLS, refused, upgrade), for logs and tests.
    public var lastError: String? { lastErrorText.withLock { $0 } }
    func recordError(_ text: String) { lastErrorText.withLock { $0 = text } }

    public struct Snapshot: Sendable, Equatable, CustomStringConvertible {
        public var messages, ticks, duplicates, gaps, missing, reconnects, malformed, venueErrors, subscriptions: Int

        public var description: String {
            "messages \(messages), ticks \(ticks), duplicates dropped \(duplicates), gaps \(gaps) (\(missing) missing), reconnects \(reconnects), malformed \(malformed), venue errors \(venueErrors)"
        }
    }

    public var snapshot: Snapshot {
        Snapshot(
            messages: messages.load(ordering: .relaxed), ticks: ticks.load(ordering: .relaxed),
            duplicates: duplicates.load(ordering: .relaxed), gaps: gaps.load(ordering: .relaxed),
            missing: missing.load(ordering: .relaxed), reconnects: reconnects.load(ordering: .relaxed),
            malformed: malformed.load(ordering: .relaxed), venueErrors: venueErrors.load(ordering: .relaxed),
            subscriptions: subscriptions.load(ordering: .relaxed))
    }
}
