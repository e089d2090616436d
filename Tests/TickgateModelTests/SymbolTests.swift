import Testing
import TickgateModel

@Suite struct SymbolTests {
    @Test(arguments: ["BTC-USD", "ETH-USDT", "1INCH-USD", "A-B", "SHIB1000-EUR", "ABCDEFGHIJKLMNO-USD"])
    func acceptsCanonical(text: String) throws {
        let symbol = try Symbol(validating: text)
        #expect(symbol.rawValue == text)
        #expect("\(symbol.base)-\(symbol.quote)" == text)
    }

    @Test(arguments: [
        ("", "empty"), ("btc-usd", "upper case"), ("BTCUSD", "BASE-QUOTE"), ("BTC/USD", "only A-Z"),
        ("BTC-", "both"), ("-USD", "both"), ("BTC-USD-X", "more than one"), ("BTC USD", "only A-Z"),
        ("ABCDEFGHIJKLMNOP-USD", "at most"), ("BTC-ÜSD", "only A-Z"),
    ])
    func rejectsMalformed(text: String, reasonFragment: String) {
        do {
            _ = try Symbol(validating: text)
            Issue.record("\(text) should be refused")
        } catch {
            #expect(error.reason.contains(reasonFragment), "\(error.reason)")
        }
    }
}
