import Testing
@testable import TickgateGateway
import TickgateModel

/// Defect 8: de-duplicating a request and adding or removing one
/// subscriber of a symbol were linear scans, so big requests and popular
/// symbols cost quadratic time (one 4 MiB unsubscribe froze its loop).
/// At these sizes a quadratic version runs for minutes: the suite's time
/// limit is the check, with a margin of three orders of magnitude.
@Suite(.timeLimit(.minutes(1)))
struct ScalingTests {
    final class Subscriber {}

    @Test func oneSymbolWithTwoHundredThousandSubscribers() {
        var table = SubscriptionTable<Subscriber>()
        let subscribers = (0..<200_000).map { _ in Subscriber() }
        for subscriber in subscribers { table.add("BTC-USD", subscriber) }
        #expect(table.subscribers(of: "BTC-USD")?.count == 200_000)
        let again = table.add("BTC-USD", subscribers[7])
        #expect(!again, "no duplicate")
        // Remove in an order that defeats any scan from either end.
        for index in stride(from: 0, to: subscribers.count, by: 2) { table.remove("BTC-USD", subscribers[index]) }
        #expect(table.subscribers(of: "BTC-USD")?.count == 100_000)
        let left = Set(table.subscribers(of: "BTC-USD")!.list.map(ObjectIdentifier.init))
        #expect(left == Set(stride(from: 1, to: subscribers.count, by: 2).map { ObjectIdentifier(subscribers[$0]) }))
        for index in stride(from: 1, to: subscribers.count, by: 2).reversed() { table.remove("BTC-USD", subscribers[index]) }
        #expect(table.subscribers(of: "BTC-USD") == nil)
        #expect(table.count == 0)
    }

    @Test func hugeRequestsAreDeduplicatedInLinearTime() {
        let symbols = (0..<300_000).map { "S\($0)-USD" }
        let unsubscribe = SubscriptionDecision.unsubscribe(requestID: 1, symbols: symbols + symbols)
        #expect(unsubscribe.accepted.count == 300_000)
        let subscribe = SubscriptionDecision.subscribe(
            requestID: 2, symbols: symbols + symbols, current: [], catalog: nil, limit: 1_000)
        #expect(subscribe.accepted.count == 1_000)
        #expect(subscribe.refused.first?.symbols.count == 299_000)
    }
}
