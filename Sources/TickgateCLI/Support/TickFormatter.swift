import TickgateClient
import TickgateModel

/// How `tickgate subscribe` prints a tick.
enum TickFormatter {
    static func line(_ delivery: TickDelivery) -> String {
        let tick = delivery.tick
        let latency = tick.publishTimeNanos > 0 && !tick.snapshot ? formatMillis(delivery.receivedAtNanos - tick.publishTimeNanos) : "-"
        return [
            utcTimestamp(nanos: delivery.receivedAtNanos),
            pad(tick.symbol, 10), pad(tick.venue, 10),
            pad(tick.price.description, 16, right: true), pad(tick.size.description, 14, right: true),
            pad(tick.side.description, 4), "seq=\(tick.sequence)", "e2e=\(latency)",
        ].joined(separator: "  ") + (tick.snapshot ? "  snapshot" : "") + (tick.skipped > 0 ? "  skipped=\(tick.skipped)" : "")
    }

    static func json(_ delivery: TickDelivery) -> String {
        let t = delivery.tick
        return "{" + TickJSON.sharedFields(t) + ",\"client_receive_time_ns\":\(delivery.receivedAtNanos)"
            + TickJSON.marks(snapshot: t.snapshot, skipped: t.skipped) + "}"
    }

    static func formatMillis(_ nanos: Int64) -> String {
        let micros = nanos / 1000
        let sign = micros < 0 ? "-" : ""
        let magnitude = micros.magnitude
        let fraction = String(magnitude % 1000)
        return "\(sign)\(magnitude / 1000).\(String(repeating: "0", count: 3 - fraction.count))\(fraction) ms"
    }

    /// `2026-11-23T15:40:00.123456Z` without Foundation.
    static func utcTimestamp(nanos: Int64) -> String {
        let seconds = nanos >= 0 ? nanos / 1_000_000_000 : (nanos - 999_999_999) / 1_000_000_000
        let micros = (nanos - seconds * 1_000_000_000) / 1000
        let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        let secondOfDay = seconds - days * 86_400
        // Howard Hinnant's civil_from_days.
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        let year = yoe + era * 400 + (month <= 2 ? 1 : 0)
        return "\(year)-\(two(month))-\(two(day))T\(two(secondOfDay / 3600)):\(two(secondOfDay % 3600 / 60)):\(two(secondOfDay % 60)).\(six(micros))Z"
    }

    private static func two(_ v: Int64) -> String { v < 10 ? "0\(v)" : "\(v)" }
    private static func six(_ v: Int64) -> String {
        let s = String(v)
        return String(repeating: "0", count: max(0, 6 - s.count)) + s
    }

    private static func pad(_ text: String, _ width: Int, right: Bool = false) -> String {
        guard text.count < width else { return text }
        let fill = String(repeating: " ", count: width - text.count)
        return right ? fill + text : text + fill
    }
}
