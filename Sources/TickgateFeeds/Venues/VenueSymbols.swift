public import TickgateModel

/// Maps venues' spellings of a pair to the canonical `BASE-QUOTE`:
/// `btcusdt` → `BTC-USDT`, `BTC/USD` → `BTC-USD`, `XBT/USD` → `BTC-USD`.
public enum VenueSymbols {
    /// Quote currencies recognised at the end of a concatenated symbol,
    /// longest first so that `…USDT` is not read as `…USD` + `T`.
    public static let knownQuotes = [
        "FDUSD", "USDT", "USDC", "BUSD", "TUSD", "USDP", "DAI", "USD", "EUR", "GBP", "JPY", "AUD", "CAD", "CHF",
        "TRY", "BRL", "KRW", "BTC", "ETH", "BNB", "SOL", "XBT",
    ]

    /// Venue-specific currency codes and their common names.
    public static let aliases = ["XBT": "BTC", "XDG": "DOGE"]

    public static func canonical(_ venueSymbol: String) throws(SymbolError) -> Symbol {
        let upper = venueSymbol.uppercased()
        for separator in ["/", "-", "_", ":"] where upper.contains(separator) {
            let parts = upper.split(separator: Character(separator), omittingEmptySubsequences: false)
            guard parts.count == 2 else { break }
            return try Symbol(validating: "\(alias(parts[0]))-\(alias(parts[1]))")
        }
        for quote in knownQuotes where upper.hasSuffix(quote) && upper.count > quote.count {
            let base = upper.dropLast(quote.count)
            return try Symbol(validating: "\(alias(base))-\(alias(Substring(quote)))")
        }
        throw SymbolError(text: venueSymbol, reason: "cannot tell base from quote (known quotes: \(knownQuotes.joined(separator: ", ")))")
    }

    static func alias(_ code: Substring) -> String {
        aliases[String(code)] ?? String(code)
    }
}
