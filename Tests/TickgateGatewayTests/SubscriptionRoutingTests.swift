import Testing
@testable import TickgateGateway
import TickgateHTTP2
import TickgateModel

@Suite struct SubscriberListTests {
    final class Sub: DeliveryTarget {
        let queue = PendingBytes()
        var pendingRef: Unmanaged<PendingBytes> { .passUnretained(queue) }
    }

    @Test func insertsOnceAndRemovesInConstantTimeKeepingTheOthers() {
        let list = SubscriberList<Sub>()
        let a = Sub(), b = Sub(), c = Sub()
        #expect([list.insert(a), list.insert(b), list.insert(c), list.insert(a)] == [true, true, true, false])
        #expect(list.count == 3)
        #expect([list.remove(a), list.remove(a)] == [true, false])
        #expect(Set(list.list.map(ObjectIdentifier.init)) == [ObjectIdentifier(b), ObjectIdentifier(c)])
        #expect(list.contains(c) && !list.contains(a))
        // Each member still comes with its own queue after the swap-remove.
        list.forEachMember { member, pending in
            #expect(pending.toOpaque() == member.takeUnretainedValue().pendingRef.toOpaque())
        }
        list.remove(b)
        list.remove(c)
        #expect(list.isEmpty)
    }
}

@Suite struct SubscriptionDecisionTests {
    @Test func splitsAcceptedMalformedAndUnknown() {
        let decision = SubscriptionDecision.subscribe(
            requestID: 7, symbols: ["BTC-USD", "btc-usd", "DOGE-USD", "ETH-*", "B*", "*"],
            catalog: ["BTC-USD", "ETH-USD", "SOL-USD", "XRP-USD", "ADA-USD"])
        #expect(decision.acceptedNames == ["BTC-USD", "ETH-*", "*"])
        #expect(decision.refused.map(\.code) == [3, 5])
        #expect(decision.refused[0].symbols == ["btc-usd", "B*"])
        #expect(decision.refused[0].message.contains("upper case"))
        #expect(decision.refused[1].symbols == ["DOGE-USD"])
        #expect(decision.refused.allSatisfy { $0.requestID == 7 })
    }

    @Test func duplicatesAreAcknowledgedOnce() {
        let decision = SubscriptionDecision.subscribe(requestID: 1, symbols: ["BTC-USD", "BTC-USD", "*", "*"], catalog: nil)
        #expect(decision.acceptedNames == ["BTC-USD", "*"])
        #expect(decision.refused.isEmpty)
    }

    @Test func unsubscribeRefusesOnlyMalformed() {
        let decision = SubscriptionDecision.unsubscribe(requestID: 2, symbols: ["BTC-USD", "x", "*-USD"])
        #expect(decision.acceptedNames == ["BTC-USD", "*-USD"])
        #expect(decision.refused.map(\.code) == [3])
    }
}

@Suite struct StreamSubscriptionsTests {
    typealias Subs = StreamSubscriptions
    static let pairs: [Subs.Pair] = [
        .init(id: 0, venue: "binance", symbol: "BTC-USD"), .init(id: 1, venue: "kraken", symbol: "BTC-USD"),
        .init(id: 2, venue: "binance", symbol: "ETH-USD"), .init(id: 3, venue: "binance", symbol: "BTC-EUR"),
    ]

    static func key(_ text: String, venue: String = "") -> Subs.InterestKey {
        Subs.InterestKey(pattern: try! SymbolPattern(validating: text), venue: venue)
    }

    @Test func aPairMatchedTwiceStaysUntilBothInterestsAreGone() {
        var subs = Subs(limit: 10)
        let plain = Subs.Options()
        #expect(subs.add(Self.key("BTC-*"), options: plain, requestID: 1, candidates: Self.pairs) == .added([.add(0, plain), .add(1, plain), .add(3, plain)], isNew: true))
        #expect(subs.add(Self.key("*-USD", venue: "binance"), options: plain, requestID: 2, candidates: Self.pairs) == .added([.add(2, plain)], isNew: true))
        #expect(subs.heldCount == 4)
        let removed = subs.remove(Self.key("BTC-*"), candidates: Self.pairs)
        #expect(removed.found)
        #expect(removed.changes == [.remove(1), .remove(3)], "BTC-USD on binance is still matched by *-USD on binance")
        #expect(subs.remove(Self.key("BTC-*"), candidates: Self.pairs).found == false)
        #expect(subs.remove(Self.key("*-USD", venue: "binance"), candidates: Self.pairs).changes == [.remove(0), .remove(2)])
        #expect(subs.heldCount == 0 && subs.isEmpty)
    }

    @Test func theLatestRequestSetsTheOptions() {
        var subs = Subs(limit: 10)
        _ = subs.add(Self.key("BTC-USD"), options: .init(), requestID: 1, candidates: Self.pairs)
        let capped = Subs.Options(maxRate: 5)
        #expect(subs.add(Self.key("*"), options: capped, requestID: 2, candidates: Self.pairs) == .added([.update(0, capped), .update(1, capped), .add(2, capped), .add(3, capped)], isNew: true))
        #expect(subs.held[0] == Subs.Held(options: capped, interests: 2))
    }

    @Test func theLimitRefusesAWholeRequestAndLaterPairs() {
        var subs = Subs(limit: 2)
        #expect(subs.add(Self.key("*"), options: .init(), requestID: 1, candidates: Self.pairs) == .overLimit(wouldHold: 4))
        #expect(subs.heldCount == 0 && subs.isEmpty, "nothing changed")
        #expect(subs.add(Self.key("BTC-USD"), options: .init(), requestID: 2, candidates: Self.pairs) == .added([.add(0, .init()), .add(1, .init())], isNew: true))
        #expect(subs.add(Self.key("BTC-USD"), options: .init(), requestID: 5, candidates: Self.pairs) == .added([], isNew: false), "renewing is not a new subscription")
        #expect(subs.add(Self.key("*"), options: .init(), requestID: 3, candidates: []) == .added([], isNew: true))
        #expect(subs.add(Self.key("ETH-USD"), options: .init(), requestID: 4, candidates: []) == .tooManyInterests)
        #expect(subs.newPair(.init(id: 9, venue: "coinbase", symbol: "SOL-USD")) == .overLimit(requestID: 3))
    }

    @Test func aPairSeenLaterIsHeldWhenAnInterestMatches() {
        var subs = Subs(limit: 10)
        _ = subs.add(Self.key("*-USD", venue: "kraken"), options: .init(lossless: true), requestID: 4, candidates: [])
        #expect(subs.newPair(.init(id: 5, venue: "binance", symbol: "SOL-USD")) == .none)
        #expect(subs.newPair(.init(id: 6, venue: "kraken", symbol: "SOL-EUR")) == .none)
        #expect(subs.newPair(.init(id: 7, venue: "kraken", symbol: "SOL-USD")) == .add(.init(lossless: true), byPattern: true))
        _ = subs.add(Self.key("ADA-USD"), options: .init(), requestID: 8, candidates: [])
        #expect(subs.newPair(.init(id: 8, venue: "binance", symbol: "ADA-USD")) == .add(.init(), byPattern: false))
        #expect(Set(subs.removeAll()) == [7, 8])
    }
}
