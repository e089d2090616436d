import Testing
import TickgateFeeds
import TickgateModel

@Suite struct VenueSymbolsTests {
    @Test(arguments: [
        ("btcusdt", "BTC-USDT"), ("BTCUSDT", "BTC-USDT"), ("ethbtc", "ETH-BTC"), ("BTC/USD", "BTC-USD"),
        ("XBT/USD", "BTC-USD"), ("XDG/USD", "DOGE-USD"), ("ETH-USD", "ETH-USD"), ("solfdusd", "SOL-FDUSD"),
        ("1000SHIBUSDT", "1000SHIB-USDT"), ("sol_usdc", "SOL-USDC"),
    ])
    func mapsToCanonical(venue: String, canonical: String) throws {
        #expect(try VenueSymbols.canonical(venue).rawValue == canonical)
    }

    @Test(arguments: ["BTC", "", "usdt", "A/B/C", "BTC/"])
    func refusesWhatItCannotSplit(venue: String) {
        #expect(throws: SymbolError.self) { try VenueSymbols.canonical(venue) }
    }
}

@Suite struct ReplayParserTests {
    @Test func binanceTradeHistoryLayout() throws {
        var parser = ReplayParser(format: .binance, defaultSymbol: Symbol("BTC-USDT"), defaultVenue: "binance")
        let record = try #require(try parser.parse("3359547372,42283.58000000,0.00106000,44.82059480,1704067200092,true,true"))
        #expect(record.symbol.rawValue == "BTC-USDT")
        #expect(record.price == ExactDecimal(mantissa: 4_228_358_000_000, exponent: -8))
        #expect(record.price.description == "42283.58000000")
        #expect(record.size.description == "0.00106000")
        #expect(record.timeNanos == 1_704_067_200_092_000_000)
        #expect(record.side == .sell, "buyer was maker: the seller took")
        #expect(record.tradeID == "3359547372")
        let buy = try #require(try parser.parse("3359547373,42283.59,0.1,4228.359,1704067200092123,false,true"))
        #expect(buy.side == .buy)
        #expect(buy.timeNanos == 1_704_067_200_092_123_000, "microsecond times in newer files")
    }

    @Test func binanceHeaderIsSkippedAndBadLinesNamed() throws {
        var parser = ReplayParser(format: .binance, defaultSymbol: Symbol("BTC-USDT"), defaultVenue: "binance")
        #expect(try parser.parse("id,price,qty,quote_qty,time,is_buyer_maker,is_best_match") == nil)
        #expect(throws: ReplayLineError(line: 2, reason: "is_buyer_maker is \"maybe\", not true/false")) {
            try parser.parse("1,2,3,4,1704067200092,maybe,true")
        }
        #expect(throws: ReplayLineError.self) { try parser.parse("1,2") }
    }

    @Test func quotedThousandsSeparatorIsRefusedNotGuessed() {
        var parser = ReplayParser(format: .csv, defaultSymbol: nil, defaultVenue: "replay")
        _ = try? parser.parse("Timestamp,Pair,Price,Quantity,Side,Trade_ID")
        #expect(throws: ReplayLineError.self) {
            try parser.parse("2024-05-31T16:08:37.5Z,\"XBT/USD\",\"67,712.34\",0.5,b,77")
        }
    }

    @Test func headeredCSV() throws {
        var parser = ReplayParser(format: .csv, defaultSymbol: nil, defaultVenue: "replay")
        #expect(try parser.parse("Timestamp,Pair,Price,Quantity,Side,Trade_ID\r") == nil)
        let record = try #require(try parser.parse("2024-05-31T16:08:37.5Z,\"XBT/USD\",67712.34,0.5000,b,77\r"))
        #expect(record.symbol.rawValue == "BTC-USD")
        #expect(record.price == ExactDecimal(mantissa: 6_771_234, exponent: -2))
        #expect(record.size.description == "0.5000")
        #expect(record.side == .buy)
        #expect(record.venue == "replay")
        #expect(record.tradeID == "77")
        #expect(record.timeNanos == 1_717_171_717_500_000_000)
    }

    @Test func csvWithoutPriceColumnIsRefusedAtTheHeader() {
        var parser = ReplayParser(format: .csv, defaultSymbol: nil, defaultVenue: "replay")
        #expect(throws: ReplayLineError.self) { try parser.parse("time,symbol,size") }
    }

    @Test func ndjsonKeepsFullPrecisionNumbers() throws {
        var parser = ReplayParser(format: .ndjson, defaultSymbol: nil, defaultVenue: "replay")
        // 0.1 + 17 digits: a Double would round this.
        let line = #"{"ts": 1717171717123456789, "symbol": "eth-usd", "price": 3765.123456789012345, "qty": "0.000000000000000001", "side": "sell", "venue": "coinbase", "trade_id": 42, "extra": {"a": [1, 2]}}"#
        let record = try #require(try parser.parse(Substring(line)))
        #expect(record.price.description == "3765.123456789012345")
        #expect(record.size == ExactDecimal(mantissa: 1, exponent: -18))
        #expect(record.timeNanos == 1_717_171_717_123_456_789)
        #expect(record.symbol.rawValue == "ETH-USD")
        #expect(record.venue == "coinbase")
        #expect(record.tradeID == "42")
        #expect(record.side == .sell)
    }

    @Test(arguments: [
        #"{"time": 1, "price": "x", "size": "1", "symbol": "BTC-USD"}"#,
        #"{"time": 1, "size": "1", "symbol": "BTC-USD"}"#,
        #"{"time": 1, "price": "1", "size": "1", "symbol": "BTC-USD""#,
        #"[1, 2]"#,
        #"{"time": "yesterday", "price": "1", "size": "1", "symbol": "BTC-USD"}"#,
    ])
    func ndjsonErrorsAreLineErrors(line: String) {
        var parser = ReplayParser(format: .ndjson, defaultSymbol: nil, defaultVenue: "replay")
        #expect(throws: ReplayLineError.self) { try parser.parse(Substring(line)) }
    }

    @Test func formatFromFileName() {
        #expect(ReplayFormat.guess(fileName: "data/BTCUSDT-trades-2024-01-01.csv") == .binance)
        #expect(ReplayFormat.guess(fileName: "x.ndjson") == .ndjson)
        #expect(ReplayFormat.guess(fileName: "trades.csv") == .csv)
        #expect(ReplayFormat.binanceSymbol(fromFileName: "data/BTCUSDT-trades-2024-01-01.csv") == "BTCUSDT")
        #expect(ReplayFormat.binanceSymbol(fromFileName: "trades.csv") == nil)
    }
}

@Suite struct DuplicateFilterTests {
    @Test func dropsRepeatsWithinTheWindowAndForgetsTheOldest() {
        var filter = DuplicateFilter(capacity: 3)
        let results = ["a", "b", "c", "b", "d", "a", "d"].map { filter.admit($0) }
        // b repeats; d evicts a, so a is admitted again (bounded memory); d repeats.
        #expect(results == [true, true, true, false, true, true, false])
        #expect(filter.dropped == 2)
    }
}

/// Found by fuzzing: a negative epoch time, or a fraction of one too large
/// to scale, trapped on the multiply.
@Suite struct ReplayTimeOverflowTests {
    @Test(arguments: ["-56704067200120", "-9223372036854775808", "99999999999.9999999999", "-1.5"])
    func timesThatDoNotFitAreRefused(_ text: String) throws {
        var parser = ReplayParser(format: .csv, defaultSymbol: try Symbol(validating: "BTC-USD"), defaultVenue: "replay")
        _ = try? parser.parse("time,price,size,side")
        #expect(throws: ReplayLineError.self) { _ = try parser.parse(Substring("\(text),42283.5,0.1,buy")) }
    }
}
