public import TickgateModel

/// A symbol's starting price and the decimal precision its venue quotes in.
public struct SyntheticInstrument: Sendable, Equatable {
    public var symbol: Symbol
    /// Starting price; its exponent is the price precision (tick size 10^exponent).
    public var startPrice: ExactDecimal
    /// Size precision, e.g. -8 for satoshis.
    public var sizeExponent: Int32

    public init(symbol: Symbol, startPrice: ExactDecimal, sizeExponent: Int32) {
        self.symbol = symbol
        self.startPrice = startPrice
        self.sizeExponent = sizeExponent
    }

    /// Realistic levels for well-known bases; anything else gets a price
    /// derived from its name, so every run of the same symbols looks alike.
    public static func defaults(for symbol: Symbol) -> SyntheticInstrument {
        let known: [Substring: (Int64, Int32, Int32)] = [
            "BTC": (67_000_00, -2, -8), "ETH": (3_500_00, -2, -6), "SOL": (150_000, -3, -4),
            "BNB": (580_00, -2, -5), "XRP": (6_000, -4, -2), "DOGE": (15_000, -5, 0),
            "ADA": (4_500, -4, -1), "AVAX": (35_00, -2, -3), "LINK": (15_000, -3, -3),
            "DOT": (7_000, -3, -3), "LTC": (80_00, -2, -4), "MATIC": (7_000, -4, -1),
            "TRX": (1_2000, -5, 0), "ATOM": (8_000, -3, -3), "UNI": (9_000, -3, -3),
            "USDC": (1_0000, -4, -2), "USDT": (1_0000, -4, -2),
        ]
        if symbol.quote == "BTC" {
            return SyntheticInstrument(symbol: symbol, startPrice: ExactDecimal(mantissa: 5_000, exponent: -6), sizeExponent: -4)
        }
        if let (mantissa, exponent, sizeExponent) = known[symbol.base] {
            return SyntheticInstrument(symbol: symbol, startPrice: ExactDecimal(mantissa: mantissa, exponent: exponent), sizeExponent: sizeExponent)
        }
        var hash: UInt64 = 1469598103934665603
        for byte in symbol.rawValue.utf8 { hash = (hash ^ UInt64(byte)) &* 1099511628211 }
        let mantissa = Int64(1_000 + hash % 999_000)  // 0.1000 … 99.9999
        return SyntheticInstrument(symbol: symbol, startPrice: ExactDecimal(mantissa: mantissa, exponent: -4), sizeExponent: -3)
    }
}
