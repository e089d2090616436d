extension TickFrame {
    /// What a framed tick message says about where it stands, read from its
    /// bytes without decoding it: enough to find a tick's shared JSON (by
    /// Kafka position) and to mark one delivery of it.
    public struct Scan: Equatable, Sendable {
        public var partition: Int32 = 0
        public var offset: Int64 = 0
        public var snapshot = false
        public var skipped: UInt64 = 0

        public init(partition: Int32 = 0, offset: Int64 = 0, snapshot: Bool = false, skipped: UInt64 = 0) {
            self.partition = partition
            self.offset = offset
            self.snapshot = snapshot
            self.skipped = skipped
        }
    }

    /// Scans `frame` (gRPC prefix, `ServerMessage{tick = 1}`); nil when it
    /// is not a framed tick message. Later occurrences of a field win, as
    /// in protobuf (marks are appended after the tick's own bytes).
    public static func scan(_ frame: UnsafeRawBufferPointer) -> Scan? {
        guard frame.count >= 7, frame[0] == 0, frame[5] == 0x0A else { return nil }
        var index = 6
        guard let tickLength = readVarint(frame, &index), index + Int(tickLength) == frame.count else { return nil }
        var scan = Scan()
        while index < frame.count {
            guard let key = readVarint(frame, &index) else { return nil }
            let field = key >> 3
            switch key & 7 {
            case 0:
                guard let value = readVarint(frame, &index) else { return nil }
                switch field {
                case 12: scan.partition = Int32(truncatingIfNeeded: value)
                case 13: scan.offset = Int64(bitPattern: value)
                case 15: scan.snapshot = value != 0
                case 16: scan.skipped = value
                default: break
                }
            case 1:
                index += 8
            case 2:
                guard let length = readVarint(frame, &index), length <= UInt64(frame.count - index) else { return nil }
                index += Int(length)
            case 5:
                index += 4
            default:
                return nil
            }
            guard index <= frame.count else { return nil }
        }
        return scan
    }
}

extension TickFrame {
    /// Where the tick's own bytes start in a framed tick message that
    /// ``scan(_:)`` accepted (after the prefix, the tag and the length).
    public static func tickBytesStart(_ frame: UnsafeRawBufferPointer) -> Int {
        var index = 6
        _ = readVarint(frame, &index)
        return index
    }
}
