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
            switch value {
            case ..<100_000_000_000: return value * 1_000_000_000           // seconds
            case ..<100_000_000_000_000: return value * 1_000_000           // milliseconds
            case ..<100_000_000_000_000_000: return value * 1_000           // microseconds
            default: return value                                           // nanoseconds
            }
        }
        if let decimal = try? ExactDecimal(parsing: text), decimal.exponent < 0 {
            // Fractional epoch seconds, e.g. Kraken's "1717171717.123456".
            var mantissa = decimal.mantissa
            var exponent = decimal.exponent
            while exponent < -9 { mantissa /= 10; exponent += 1 }
            while exponent > -9 { mantissa *= 10; exponent -= 1 }
            return mantissa
        }
        return rfc3339(text)
    }

    /// `2024-01-02T03:04:05.123456789Z` (or `+00:00`); UTC offsets honoured.
    static func rfc3339(_ text: Substring) -> Int64? {
        let bytes = Array(text.utf8)
        guard bytes.count >= 20 else { return nil }
        func number(_ from: Int, _ count: Int) -> Int64? {
            var value: Int64 = 0
            for index in from..<(from + count) {
                guard index < bytes.count, bytes[index] >= 48, bytes[index] <= 57 else { return nil }
                value = value * 10 + Int64(bytes[index] - 48)
            }
            return value
        }
        guard let year = number(0, 4), bytes[4] == 45, let month = number(5, 2), bytes[7] == 45, let day = number(8, 2),
              bytes[10] == 84 || bytes[10] == 32, let hour = number(11, 2), bytes[13] == 58, let minute = number(14, 2),
              bytes[16] == 58, let second = number(17, 2) else { return nil }
        var index = 19
        var fraction: Int64 = 0
        if index < bytes.count, bytes[index] == 46 {
            index += 1
            var digits = 0
            while index < bytes.count, bytes[index] >= 48, bytes[index] <= 57 {
                if digits < 9 { fraction = fraction * 10 + Int64(bytes[index] - 48); digits += 1 }
                index += 1
            }
            while digits < 9 { fraction *= 10; digits += 1 }
        }
        var offset: Int64 = 0
        if index < bytes.count, bytes[index] == 43 || bytes[index] == 45 {
            guard let oh = number(index + 1, 2), let om = number(index + 4, 2) else { return nil }
            offset = (oh * 3600 + om * 60) * (bytes[index] == 43 ? 1 : -1)
        } else if !(index < bytes.count && (bytes[index] == 90 || bytes[index] == 122)) {
            return nil
        }
        // Days from civil (Howard Hinnant).
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        let days = era * 146_097 + doe - 719_468
        let seconds = days * 86_400 + hour * 3600 + minute * 60 + second - offset
        return seconds * 1_000_000_000 + fraction
    }
}
