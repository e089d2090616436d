import Testing
import TickgateClient
import TickgateModel

@Suite struct ResumeTokenTests {
    @Test func printsAndParsesBack() throws {
        let token = ResumeToken(positions: [
            KafkaPosition(symbol: "ETH-USD", partition: 2, offset: 99), KafkaPosition(symbol: "BTC-USD", partition: 0, offset: -1),
        ])
        #expect(token.description == "t1:BTC-USD@0:-1,ETH-USD@2:99")
        #expect(try ResumeToken(parsing: token.description) == token)
    }

    @Test(arguments: ["", "BTC-USD@0:1", "t1:", "t1:BTC-USD@0", "t1:btc-usd@0:1", "t1:BTC-USD@-1:1", "t1:BTC-USD@0:x",
                      "t1:BTC-USD@0:1,BTC-USD@0:2", "t1:BTC-USD@0:1,", "t1:BTC-USD@0:-2"])
    func malformedTokensAreRefused(text: String) {
        #expect(throws: ResumeToken.ParseError.self) { try ResumeToken(parsing: text) }
    }

    @Test func theLedgerKeepsTheLastPositionAndRefusesWhatIsNotAfterIt() {
        var ledger = PositionLedger([KafkaPosition(symbol: "BTC-USD", partition: 1, offset: 10)])
        func tick(_ symbol: String, _ partition: Int32, _ offset: Int64) -> Tick {
            Tick(symbol: symbol, venue: "v", price: .zero, size: .zero, sequence: 1, kafkaPartition: partition, kafkaOffset: offset)
        }
        let recorded = [
            ledger.record(tick("BTC-USD", 1, 10)), ledger.record(tick("BTC-USD", 1, 3)),
            ledger.record(tick("BTC-USD", 1, 11)), ledger.record(tick("ETH-USD", 0, 0)),
        ]
        #expect(recorded == [false, false, true, true], "what the app has (or older) is refused")
        #expect(ledger.token?.description == "t1:BTC-USD@1:11,ETH-USD@0:0")
    }
}

@Suite struct SinceTimeTests {
    static let now: Int64 = 1_796_126_400_000  // 2026-12-01T12:00:00Z

    @Test(arguments: [("90s", now - 90_000), ("5m", now - 300_000), ("2h", now - 7_200_000), ("1d", now - 86_400_000)])
    func lookBacks(text: String, expected: Int64) throws {
        #expect(try SinceTime.parse(text, nowMillis: Self.now) == expected)
    }

    @Test(arguments: [
        ("2026-12-01T12:00:00Z", now), ("2026-12-01T12:00:00.250Z", now + 250), ("2026-12-01T13:00:00+01:00", now),
        ("2026-12-01T11:30:00.5-00:30", now + 500), ("1970-01-01T00:00:00Z", 0), ("2024-02-29T00:00:00Z", 1_709_164_800_000),
    ])
    func rfc3339(text: String, expected: Int64) throws {
        #expect(try SinceTime.parse(text, nowMillis: Self.now) == expected)
    }

    @Test(arguments: ["", "5", "5x", "-5m", "0m", "2026-12-01", "2026-12-01T12:00:00", "2026-13-01T12:00:00Z",
                      "2026-12-01T12:00:00.Z", "2026-12-01T12:00:00+0100", "2026-12-01 12:00:00Z"])
    func refused(text: String) {
        #expect(throws: SinceTime.ParseError.self) { try SinceTime.parse(text, nowMillis: Self.now) }
    }
}
