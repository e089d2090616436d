/// The few fields of a tick the load client needs, read straight from the
/// protobuf wire bytes without allocating: the client must cost far less
/// per delivery than the gateway it measures.
struct ProbedTick {
    var symbolIndex: Int = -1
    var sequence: UInt64 = 0
    var scheduledNanos: Int64 = 0   // t0: the bench feeder puts the scheduled time there
    var publishNanos: Int64 = 0     // t1
    var kafkaMillis: Int64 = 0      // t2
    var receiveNanos: Int64 = 0     // t3
    var dispatchNanos: Int64 = 0    // t4
}

enum ProbedMessage {
    case tick(ProbedTick)
    case ack
    case error
    case other
}

enum TickProbe {
    /// A `ServerMessage`.
    static func probeServerMessage(_ bytes: UnsafeRawBufferPointer) -> ProbedMessage {
        var reader = WireReader(bytes)
        while let (field, wireType) = reader.tag() {
            if wireType == 2, let body = reader.lengthDelimited() {
                switch field {
                case 1: return probeTick(body).map(ProbedMessage.tick) ?? .other
                case 3: return .ack
                case 4: return .error
                default: return .other
                }
            } else if !reader.skip(wireType) {
                return .other
            }
        }
        return .other
    }

    /// A `Tick` (also the Kafka payload). Fields go to locals and the
    /// result is built once at the end: with `var tick = ProbedTick()` and
    /// member stores inside the loop, Swift 6.3.1 at -O dropped the stores
    /// of fields 10 and 11 (seen in the release build; -Onone was right).
    /// `TickProbeTests` checks every field.
    static func probeTick(_ bytes: UnsafeRawBufferPointer) -> ProbedTick? {
        var reader = WireReader(bytes)
        var symbolIndex = -1
        var sequence: UInt64 = 0
        var t0: Int64 = 0, t1: Int64 = 0, t2: Int64 = 0, t3: Int64 = 0, t4: Int64 = 0
        while let key = reader.key() {
            switch key {
            case 1 << 3 | 2:
                guard let symbol = reader.lengthDelimited() else { return nil }
                symbolIndex = Self.symbolIndex(symbol)
            case 6 << 3: sequence = reader.varint() ?? 0
            case 7 << 3: t0 = Int64(bitPattern: reader.varint() ?? 0)
            case 8 << 3: t1 = Int64(bitPattern: reader.varint() ?? 0)
            case 9 << 3: t2 = Int64(bitPattern: reader.varint() ?? 0)
            case 10 << 3: t3 = Int64(bitPattern: reader.varint() ?? 0)
            case 11 << 3: t4 = Int64(bitPattern: reader.varint() ?? 0)
            default:
                guard reader.skip(Int(key & 7)) else { return nil }
            }
        }
        return ProbedTick(
            symbolIndex: symbolIndex, sequence: sequence, scheduledNanos: t0, publishNanos: t1,
            kafkaMillis: t2, receiveNanos: t3, dispatchNanos: t4)
    }

    /// `X<digits>-…` → the digits; anything else → -1.
    @inline(__always)
    static func symbolIndex(_ bytes: UnsafeRawBufferPointer) -> Int {
        guard bytes.count >= 2, bytes[0] == UInt8(ascii: "X") else { return -1 }
        var value = 0
        for index in 1..<bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "-") { return value }
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return -1 }
            value = value * 10 + Int(byte - UInt8(ascii: "0"))
        }
        return -1
    }
}

/// A protobuf wire-format cursor.
struct WireReader {
    private let bytes: UnsafeRawBufferPointer
    private var offset = 0

    init(_ bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

    @inline(__always)
    mutating func varint() -> UInt64? {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while offset < bytes.count, shift < 64 {
            let byte = bytes[offset]
            offset += 1
            result |= UInt64(byte & 0x7F) << shift
            if byte & 0x80 == 0 { return result }
            shift += 7
        }
        return nil
    }

    mutating func tag() -> (Int, Int)? {
        guard let key = key() else { return nil }
        return (Int(key >> 3), Int(key & 7))
    }

    mutating func key() -> UInt64? {
        guard offset < bytes.count else { return nil }
        return varint()
    }

    mutating func lengthDelimited() -> UnsafeRawBufferPointer? {
        guard let length = varint(), Int(length) <= bytes.count - offset else { return nil }
        let slice = UnsafeRawBufferPointer(rebasing: bytes[offset..<(offset + Int(length))])
        offset += Int(length)
        return slice
    }

    mutating func skip(_ wireType: Int) -> Bool {
        switch wireType {
        case 0: return varint() != nil
        case 1: offset += 8
        case 2: return lengthDelimited() != nil
        case 5: offset += 4
        default: return false
        }
        return offset <= bytes.count
    }
}
