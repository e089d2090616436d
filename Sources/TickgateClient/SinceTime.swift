import TickgateModel

/// A subscription's start time as people write it: a look-back (`90s`,
/// `5m`, `2h`, `1d`) or an RFC 3339 time (`2026-12-01T10:00:00Z`,
/// `2026-12-01T11:00:00.250+01:00`), as Unix ms for
/// ``SubscriptionOptions/sinceTimeMillis``. `tickgate subscribe --since`.
public enum SinceTime {
    public struct ParseError: Error, CustomStringConvertible {
        public let text: String
        public var description: String {
            "expected a look-back such as 5m, 2h or 1d, or an RFC 3339 time such as 2026-12-01T10:00:00Z; got \"\(text.prefix(64))\""
        }
    }

    public static func parse(_ text: String, nowMillis: Int64) throws(ParseError) -> Int64 {
        if let unit = text.last, let amount = Int64(text.dropLast()), amount > 0 {
            let factor: Int64? = switch unit {
            case "s": 1_000
            case "m": 60_000
            case "h": 3_600_000
            case "d": 86_400_000
            default: nil
            }
            if let factor { return nowMillis - amount * factor }
        }
        if let millis = rfc3339Millis(text) { return millis }
        throw ParseError(text: text)
    }

    /// `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)`, exactly.
    public static func rfc3339Millis(_ text: String) -> Int64? {
        // Floor, so that a time before 1970 does not round up.
        RFC3339.nanos(text, strict: true).map { $0 >= 0 ? $0 / 1_000_000 : ($0 - 999_999) / 1_000_000 }
    }
}
