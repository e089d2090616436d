/// A tick as a JSON object, one form for every JSON consumer (`tickgate
/// subscribe --json`, the gateway's Server-Sent Events): prices and sizes
/// as exact decimal strings, never JSON numbers (which readers turn into
/// floating point); times and positions as integers.
public enum TickJSON {
    /// The tick's own fields, without the braces and without the marks of
    /// one delivery (`snapshot`, `skipped`): what every receiver of the
    /// tick shares.
    public static func sharedFields(_ t: Tick) -> String {
        "\"symbol\":\(quoted(t.symbol)),\"venue\":\(quoted(t.venue)),\"price\":\"\(t.price)\",\"size\":\"\(t.size)\","
            + "\"side\":\"\(t.side)\",\"sequence\":\(t.sequence),\"trade_id\":\(quoted(t.tradeID)),"
            + "\"venue_time_ns\":\(t.venueTimeNanos),\"publish_time_ns\":\(t.publishTimeNanos),"
            + "\"kafka_time_ms\":\(t.kafkaTimeMillis),\"gateway_receive_time_ns\":\(t.gatewayReceiveTimeNanos),"
            + "\"gateway_dispatch_time_ns\":\(t.gatewayDispatchTimeNanos),"
            + "\"kafka_partition\":\(t.kafkaPartition),\"kafka_offset\":\(t.kafkaOffset)"
    }

    /// The marks of one delivery, each with its leading comma; empty for a
    /// live tick sent as it came.
    public static func marks(snapshot: Bool, skipped: UInt64) -> String {
        (snapshot ? ",\"snapshot\":true" : "") + (skipped > 0 ? ",\"skipped\":\(skipped)" : "")
    }

    /// A JSON string literal (RFC 8259 escapes).
    public static func quoted(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if scalar.value < 0x20 {
                    let hex = String(scalar.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }
}
