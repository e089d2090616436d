/// What the bench needs from one Server-Sent Event of the gateway: a tick
/// (`data:` a ``TickJSON`` object, whose fields come in a fixed order) or
/// the ack. Reads digits straight from the bytes, decoding no JSON.
enum SSEProbe {
    static func probe(_ event: UnsafeBufferPointer<UInt8>) -> ProbedMessage {
        guard let data = find(Array("data: ".utf8), in: event, from: 0) else { return .other }
        if let named = find(Array("event: ".utf8), in: event, from: 0), named < data {
            if starts(Array("ack".utf8), in: event, at: named) { return .ack }
            if starts(Array("refused".utf8), in: event, at: named) || starts(Array("end".utf8), in: event, at: named) { return .error }
            return .other
        }
        var at = data
        guard let symbol = field(symbolKey, event, &at) else { return .other }
        var index = -1
        if symbol < event.count, event[symbol] == UInt8(ascii: "X") {
            index = 0
            var i = symbol + 1
            while i < event.count, event[i] >= 48, event[i] <= 57 {
                index = index * 10 + Int(event[i] - 48)
                i += 1
            }
        }
        let sequence = number(sequenceKey, event, &at)
        let t0 = number(venueTimeKey, event, &at)
        let t1 = number(publishKey, event, &at)
        let t2 = number(kafkaKey, event, &at)
        let t3 = number(receiveKey, event, &at)
        let t4 = number(dispatchKey, event, &at)
        return .tick(ProbedTick(
            symbolIndex: index, sequence: UInt64(max(0, sequence)), scheduledNanos: t0, publishNanos: t1,
            kafkaMillis: t2, receiveNanos: t3, dispatchNanos: t4))
    }

    static let symbolKey = Array("\"symbol\":\"".utf8)
    static let sequenceKey = Array("\"sequence\":".utf8)
    static let venueTimeKey = Array("\"venue_time_ns\":".utf8)
    static let publishKey = Array("\"publish_time_ns\":".utf8)
    static let kafkaKey = Array("\"kafka_time_ms\":".utf8)
    static let receiveKey = Array("\"gateway_receive_time_ns\":".utf8)
    static let dispatchKey = Array("\"gateway_dispatch_time_ns\":".utf8)

    /// Where the value after `key` starts (searching from `at`, which moves past it).
    private static func field(_ key: [UInt8], _ event: UnsafeBufferPointer<UInt8>, _ at: inout Int) -> Int? {
        guard let found = find(key, in: event, from: at) else { return nil }
        at = found
        return found
    }

    private static func number(_ key: [UInt8], _ event: UnsafeBufferPointer<UInt8>, _ at: inout Int) -> Int64 {
        guard var i = field(key, event, &at) else { return 0 }
        var negative = false
        if i < event.count, event[i] == UInt8(ascii: "-") {
            negative = true
            i += 1
        }
        var value: Int64 = 0
        while i < event.count, event[i] >= 48, event[i] <= 57 {
            value = value &* 10 &+ Int64(event[i] - 48)
            i += 1
        }
        at = i
        return negative ? -value : value
    }

    /// The index just past the first `needle` at or after `from`.
    private static func find(_ needle: [UInt8], in haystack: UnsafeBufferPointer<UInt8>, from: Int) -> Int? {
        guard needle.count <= haystack.count else { return nil }
        var i = from
        while i + needle.count <= haystack.count {
            if haystack[i] == needle[0], starts(needle, in: haystack, at: i) { return i + needle.count }
            i += 1
        }
        return nil
    }

    private static func starts(_ needle: [UInt8], in haystack: UnsafeBufferPointer<UInt8>, at: Int) -> Bool {
        guard at + needle.count <= haystack.count else { return false }
        for j in 0..<needle.count where haystack[at + j] != needle[j] { return false }
        return true
    }
}
