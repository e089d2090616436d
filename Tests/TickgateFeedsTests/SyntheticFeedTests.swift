import Testing
import TickgateFeeds
import TickgateModel

@Suite struct SyntheticFeedTests {
    let symbols = [Symbol("BTC-USD"), Symbol("ETH-USD"), Symbol("NEW-COIN")]

    @Test func sameSeedSameFeed() {
        var a = SyntheticFeed(symbols: symbols, seed: 1)
        var b = SyntheticFeed(symbols: symbols, seed: 1)
        var c = SyntheticFeed(symbols: symbols, seed: 2)
        let ta = (0..<100).map { _ in a.next(now: 0) }
        let tb = (0..<100).map { _ in b.next(now: 0) }
        let tc = (0..<100).map { _ in c.next(now: 0) }
        #expect(ta == tb)
        #expect(ta != tc)
    }

    @Test func sequencesCountUpPerSymbolAndPricesKeepTheirPrecision() {
        var feed = SyntheticFeed(symbols: symbols, seed: 3)
        var last: [String: UInt64] = [:]
        for _ in 0..<1000 {
            let tick = feed.next(now: 1)
            #expect(tick.sequence == (last[tick.symbol] ?? 0) + 1)
            last[tick.symbol] = tick.sequence
            #expect(tick.price.mantissa > 0)
            #expect(tick.size.mantissa > 0)
            #expect(tick.side != .unspecified)
            if tick.symbol == "BTC-USD" {
                #expect(tick.price.exponent == -2 && tick.size.exponent == -8)
                #expect(tick.price.mantissa > 60_000_00 && tick.price.mantissa < 75_000_00)
            }
        }
        #expect(last.count == 3)
    }
}
