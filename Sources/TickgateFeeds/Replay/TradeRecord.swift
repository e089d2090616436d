public import TickgateModel

/// One trade read from a file, before it becomes a tick.
public struct TradeRecord: Sendable, Equatable {
    /// Trade time, Unix nanoseconds.
    public var timeNanos: Int64
    public var symbol: Symbol
    public var venue: String
    public var price: ExactDecimal
    public var size: ExactDecimal
    public var side: Side
    public var tradeID: String

    public init(timeNanos: Int64, symbol: Symbol, venue: String, price: ExactDecimal, size: ExactDecimal, side: Side, tradeID: String) {
        self.timeNanos = timeNanos
        self.symbol = symbol
        self.venue = venue
        self.price = price
        self.size = size
        self.side = side
        self.tradeID = tradeID
    }
}

/// Why a line could not be read; the replay skips it, counts it and says so.
public struct ReplayLineError: Error, Equatable, CustomStringConvertible {
    public var line: Int
    public var reason: String

    public init(line: Int, reason: String) {
        self.line = line
        self.reason = reason
    }

    public var description: String { "line \(line): \(reason)" }
}

enum TimeParsing {
    /// Epoch seconds, milliseconds, microseconds or nanoseconds, told apart
    /// by magnitude (as exchange downloads mix them), or RFC 3339 text.
    static func nanos(_ text: Substring) -> Int64? {
        if let value = Int64(text) {
            // Negative or far-off values must not trap on the multiply
            // (found by fuzzing): they are not a time stamp.
            guard value >= 0 else { return nil }
            let scale: Int64
            switch value {
            case ..<100_000_000_000: scale = 1_000_000_000                   // seconds
            case ..<100_000_000_000_000: scale = 1_000_000                   // milliseconds
            case ..<100_000_000_000_000_000: scale = 1_000                   // microseconds
            default: scale = 1                                               // nanoseconds
            }
            let (nanos, overflow) = value.multipliedReportingOverflow(by: scale)
            return overflow ? nil : nanos
        }
        if let decimal = try? ExactDecimal(parsing: text), decimal.exponent < 0 {
            // Fractional epoch seconds, e.g. Kraken's "1717171717.123456".
            var mantissa = decimal.mantissa
            var exponent = decimal.exponent
            while exponent < -9 { mantissa /= 10; exponent += 1 }
            while exponent > -9 {
                let (scaled, overflow) = mantissa.multipliedReportingOverflow(by: 10)
                guard !overflow else { return nil }
                mantissa = scaled
                exponent -= 1
            }
            return mantissa >= 0 ? mantissa : nil
        }
        return rfc3339(text)
    }

    /// `2024-01-02T03:04:05.123456789Z` (or `+00:00`); UTC offsets honoured.
    static func rfc3339(_ text: Substring) -> Int64? {
        RFC3339.nanos(text, strict: false)
    }
}
