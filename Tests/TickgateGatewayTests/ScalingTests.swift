import Testing
@testable import TickgateGateway
import TickgateHTTP2
import TickgateModel

/// Defect 8: de-duplicating a request and adding or removing one
/// subscriber of a symbol were linear scans, so big requests and popular
/// symbols cost quadratic time (one 4 MiB unsubscribe froze its loop).
/// At these sizes a quadratic version runs for minutes: the suite's time
/// limit is the check, with a margin of three orders of magnitude.
@Suite(.timeLimit(.minutes(1)))
struct ScalingTests {
    final class Subscriber: DeliveryTarget {
        let queue = PendingBytes()
        var pendingRef: Unmanaged<PendingBytes> { .passUnretained(queue) }
    }

    @Test func oneSymbolWithTwoHundredThousandSubscribers() {
        let list = SubscriberList<Subscriber>()
        let subscribers = (0..<200_000).map { _ in Subscriber() }
        for subscriber in subscribers { list.insert(subscriber) }
        #expect(list.count == 200_000)
        let again = list.insert(subscribers[7])
        #expect(!again, "no duplicate")
        // Remove in an order that defeats any scan from either end.
        for index in stride(from: 0, to: subscribers.count, by: 2) { list.remove(subscribers[index]) }
        #expect(list.count == 100_000)
        let left = Set(list.list.map(ObjectIdentifier.init))
        #expect(left == Set(stride(from: 1, to: subscribers.count, by: 2).map { ObjectIdentifier(subscribers[$0]) }))
        for index in stride(from: 1, to: subscribers.count, by: 2).reversed() { list.remove(subscribers[index]) }
        #expect(list.isEmpty)
    }

    @Test func hugeRequestsAreDeduplicatedInLinearTime() {
        let symbols = (0..<300_000).map { "S\($0)-USD" }
        let unsubscribe = SubscriptionDecision.unsubscribe(requestID: 1, symbols: symbols + symbols)
        #expect(unsubscribe.accepted.count == 300_000)
        let subscribe = SubscriptionDecision.subscribe(requestID: 2, symbols: symbols + symbols, catalog: nil)
        #expect(subscribe.accepted.count == 300_000)
        var subscriptions = StreamSubscriptions(limit: 1_000)
        let pairs = (0..<300_000).map { StreamSubscriptions.Pair(id: Int32($0), venue: "v", symbol: symbols[$0]) }
        var held = 0
        for pattern in subscribe.accepted {
            let key = StreamSubscriptions.InterestKey(pattern: pattern, venue: "")
            if case .added(let changes, _) = subscriptions.add(key, options: .init(), requestID: 2, candidates: [pairs[held]]) {
                held += changes.count
            }
            if held == 1_000 { break }
        }
        #expect(subscriptions.heldCount == 1_000)
    }
}
