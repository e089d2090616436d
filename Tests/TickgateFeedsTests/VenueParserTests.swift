import Testing
import TickgateFeeds
import TickgateModel

/// Venue parsers on single messages in the venues' documented shapes.
@Suite struct VenueParserTests {
    func ticks(_ events: [VenueEvent]) -> [VenueTick] {
        events.compactMap { if case .tick(let tick) = $0 { tick } else { nil } }
    }

    @Test func krakenTickerIsAQuote() {
        var kraken = KrakenProtocol(channels: [.trade, .ticker])
        let subscribe = kraken.subscribeMessages(symbols: [Symbol("BTC-USD")])
        #expect(subscribe.count == 2, "one request per channel")
        #expect(subscribe[1].contains(#""channel":"ticker""#) && subscribe[1].contains(#""req_id":2"#))
        let message = #"{"channel":"ticker","type":"snapshot","data":[{"symbol":"BTC/USD","bid":67000.1,"bid_qty":0.50000000,"ask":67000.2,"ask_qty":1.25,"last":67000.15,"volume":100.1,"vwap":66000.0,"low":65000.0,"high":68000.0,"change":100.0,"change_pct":0.15}]}"#
        let quote = ticks(kraken.parse(message))
        #expect(quote.count == 2)
        #expect(quote[0].side == .buy && quote[0].price.description == "67000.1" && quote[0].size.description == "0.50000000")
        #expect(quote[1].side == .sell && quote[1].price.description == "67000.2" && quote[1].tradeID.isEmpty)
        #expect(kraken.parse(#"{"channel":"ticker","type":"update","data":[{"symbol":"BTC/USD"}]}"#) == [.malformed(#"{"channel":"ticker","type":"update","data":[{"symbol":"BTC/USD"}]}"#)])
    }

    @Test func krakenRefusedSubscriptionIsAVenueError() {
        var kraken = KrakenProtocol()
        let events = kraken.parse(#"{"error":"Currency pair not supported BAD/PAIR","method":"subscribe","req_id":1,"success":false,"time_in":"2024-05-31T16:08:37.0Z","time_out":"2024-05-31T16:08:37.0Z"}"#)
        #expect(events == [.venueError("Currency pair not supported BAD/PAIR")])
    }

    @Test func coinbaseTickerIsAQuote() {
        var coinbase = CoinbaseProtocol(channels: [.matches, .ticker])
        #expect(coinbase.subscribeMessages(symbols: [Symbol("ETH-USD")]).first?.contains(#""channels":["matches","ticker","heartbeat"]"#) == true)
        let message = #"{"type":"ticker","sequence":37475248783,"product_id":"ETH-USD","price":"1285.22","open_24h":"1310.79","volume_24h":"245532.79269678","low_24h":"1280.52","high_24h":"1313.8","volume_30d":"9788783.60117027","best_bid":"1285.04","best_bid_size":"0.46688654","best_ask":"1285.27","best_ask_size":"1.56637040","side":"buy","time":"2022-10-19T23:28:22.061769Z","trade_id":370843401,"last_size":"11.4396987"}"#
        let quote = ticks(coinbase.parse(message))
        #expect(quote.count == 2)
        #expect(quote[0].price.description == "1285.04" && quote[0].size.description == "0.46688654" && quote[0].side == .buy)
        #expect(quote[1].price.description == "1285.27" && quote[1].side == .sell)
        #expect(quote[0].venueTimeNanos == 1_666_222_102_061_769_000)
    }

    @Test func notJSONIsMalformedForEveryVenue() {
        var binance = BinanceProtocol()
        var coinbase = CoinbaseProtocol()
        var kraken = KrakenProtocol()
        #expect(binance.parse("{oops") == [.malformed("{oops")])
        #expect(coinbase.parse("[1]") == [.malformed("[1]")])
        #expect(kraken.parse("") == [.malformed("")])
    }

    /// Found by fuzzing: a trade time in µs where ms are expected (and any
    /// far-off one) overflowed the conversion to ns and trapped.
    @Test func aTradeTimeThatOverflowsIsMalformedNotATrap() {
        var binance = BinanceProtocol()
        let text = #"{"e":"trade","E":1717171717000,"s":"BTCUSDT","t":12345,"p":"67000.50","q":"0.000","T":1710017171717000,"m":true,"M":true}"#
        #expect(binance.parse(text) == [.malformed(text)])
    }
}
