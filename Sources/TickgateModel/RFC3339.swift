/// RFC 3339 time stamps as Unix nanoseconds, without Foundation: the one
/// parser for the venue feeds (lenient, as exchanges write them) and for
/// `tickgate subscribe --since` (strict, as people type them).
public enum RFC3339 {
    /// `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)`, UTC offsets honoured.
    ///
    /// - Parameter strict: the whole text is exactly that (`T` or `t`,
    ///   fields in range, at least one fraction digit after a `.`, `:` in
    ///   the offset). Otherwise (feeds): `T` or a space, and what follows
    ///   the zone is ignored.
    public static func nanos(_ text: some StringProtocol, strict: Bool) -> Int64? {
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
        let separator = bytes[10]
        guard let year = number(0, 4), bytes[4] == 45, let month = number(5, 2), bytes[7] == 45, let day = number(8, 2),
              separator == 84 || (strict ? separator == 116 : separator == 32),
              let hour = number(11, 2), bytes[13] == 58, let minute = number(14, 2), bytes[16] == 58,
              let second = number(17, 2)
        else { return nil }
        if strict {
            guard (1...12).contains(month), (1...31).contains(day), hour < 24, minute < 60, second < 61 else { return nil }
        }
        var index = 19
        var fraction: Int64 = 0
        if index < bytes.count, bytes[index] == 46 {
            index += 1
            var digits = 0
            var kept = 0
            while index < bytes.count, bytes[index] >= 48, bytes[index] <= 57 {
                if kept < 9 { fraction = fraction * 10 + Int64(bytes[index] - 48); kept += 1 }
                digits += 1
                index += 1
            }
            if strict && digits == 0 { return nil }
            while kept < 9 { fraction *= 10; kept += 1 }
        }
        guard index < bytes.count else { return nil }
        var offset: Int64 = 0
        if bytes[index] == 43 || bytes[index] == 45 {
            guard let hours = number(index + 1, 2), let minutes = number(index + 4, 2) else { return nil }
            if strict { guard bytes[index + 3] == 58, index + 6 == bytes.count else { return nil } }
            offset = (hours * 3600 + minutes * 60) * (bytes[index] == 43 ? 1 : -1)
        } else if bytes[index] == 90 || bytes[index] == 122 {
            if strict { guard index + 1 == bytes.count else { return nil } }
        } else {
            return nil
        }
        // Howard Hinnant's days_from_civil.
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        let days = era * 146_097 + doe - 719_468
        let seconds = days * 86_400 + hour * 3600 + minute * 60 + second - offset
        // Unix nanoseconds in an Int64 end in 2262: later (or much earlier)
        // years are not a time stamp (found by fuzzing: year 4048 trapped).
        let (nanos, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        guard !overflow else { return nil }
        let (total, overflowAgain) = nanos.addingReportingOverflow(fraction)
        return overflowAgain ? nil : total
    }
}
