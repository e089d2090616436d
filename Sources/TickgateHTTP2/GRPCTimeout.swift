/// The `grpc-timeout` request header: `TimeoutValue TimeoutUnit`, at most
/// eight ASCII digits then one of `H` `M` `S` `m` `u` `n` (hours, minutes,
/// seconds, milliseconds, microseconds, nanoseconds), per the
/// gRPC-over-HTTP/2 specification.
package enum GRPCTimeout {
    /// Nanoseconds, or nil when `text` is not a valid `grpc-timeout`.
    package static func parseNanos(_ text: String) -> Int64? {
        let utf8 = Array(text.utf8)
        guard utf8.count >= 2, utf8.count <= 9 else { return nil }
        var value: Int64 = 0
        for byte in utf8.dropLast() {
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
            value = value * 10 + Int64(byte - UInt8(ascii: "0"))
        }
        let unit: Int64
        switch utf8.last! {
        case UInt8(ascii: "H"): unit = 3_600_000_000_000
        case UInt8(ascii: "M"): unit = 60_000_000_000
        case UInt8(ascii: "S"): unit = 1_000_000_000
        case UInt8(ascii: "m"): unit = 1_000_000
        case UInt8(ascii: "u"): unit = 1_000
        case UInt8(ascii: "n"): unit = 1
        default: return nil
        }
        // 99,999,999 hours fit in Int64 nanoseconds with room to spare.
        return value.multipliedReportingOverflow(by: unit).overflow ? Int64.max : value * unit
    }
}
