import Testing
@testable import TickgateGateway
import TickgateModel

@Suite struct SubscriptionTableTests {
    final class Sub {}

    @Test func routesOnlyToSubscribersOfTheSymbol() {
        var table = SubscriptionTable<Sub>()
        let a = Sub(), b = Sub()
        let added = [table.add("BTC-USD", a), table.add("BTC-USD", b), table.add("ETH-USD", a)]
        #expect(added == [true, true, true])
        let addedTwice = table.add("BTC-USD", a)
        #expect(!addedTwice, "adding twice is a no-op")
        #expect(table.count == 3)
        #expect(table.subscribers(of: "BTC-USD")?.list.count == 2)
        #expect(table.subscribers(of: "ETH-USD")?.list.first === a)
        #expect(table.subscribers(of: "SOL-USD") == nil)
    }

    @Test func removingLastSubscriberDropsTheSymbol() {
        var table = SubscriptionTable<Sub>()
        let a = Sub(), b = Sub()
        table.add("BTC-USD", a)
        table.add("BTC-USD", b)
        let removed = [table.remove("BTC-USD", a), table.remove("BTC-USD", a)]
        #expect(removed == [true, false])
        #expect(table.subscribers(of: "BTC-USD")?.list.first === b)
        let removedLast = table.remove("BTC-USD", b)
        #expect(removedLast)
        #expect(table.subscribers(of: "BTC-USD") == nil)
        #expect(table.count == 0 && table.symbolCount == 0)
    }
}

@Suite struct SubscriptionDecisionTests {
    @Test func splitsAcceptedMalformedUnknownAndOverLimit() {
        let decision = SubscriptionDecision.subscribe(
            requestID: 7, symbols: ["BTC-USD", "btc-usd", "DOGE-USD", "ETH-USD", "SOL-USD", "XRP-USD"],
            current: ["ADA-USD"], catalog: ["BTC-USD", "ETH-USD", "SOL-USD", "XRP-USD", "ADA-USD"], limit: 3)
        #expect(decision.accepted == ["BTC-USD", "ETH-USD"])
        #expect(decision.refused.map(\.code) == [3, 5, 8])
        #expect(decision.refused[0].symbols == ["btc-usd"])
        #expect(decision.refused[0].message.contains("upper case"))
        #expect(decision.refused[1].symbols == ["DOGE-USD"])
        #expect(decision.refused[2].symbols == ["SOL-USD", "XRP-USD"])
        #expect(decision.refused.allSatisfy { $0.requestID == 7 })
    }

    @Test func resubscribingIsAcceptedAndDoesNotCountTwice() {
        let decision = SubscriptionDecision.subscribe(
            requestID: 1, symbols: ["BTC-USD", "BTC-USD"], current: ["BTC-USD"], catalog: nil, limit: 1)
        #expect(decision.accepted == ["BTC-USD"])
        #expect(decision.refused.isEmpty)
    }

    @Test func withoutCatalogAnyWellFormedSymbolIsAccepted() {
        let decision = SubscriptionDecision.subscribe(requestID: 1, symbols: ["NEW-COIN"], current: [], catalog: nil, limit: 10)
        #expect(decision.accepted == ["NEW-COIN"])
    }

    @Test func unsubscribeRefusesOnlyMalformed() {
        let decision = SubscriptionDecision.unsubscribe(requestID: 2, symbols: ["BTC-USD", "x"])
        #expect(decision.accepted == ["BTC-USD"])
        #expect(decision.refused.map(\.code) == [3])
    }
}
