/// Byte-level edits of one framed tick message, as the gateway shares it
/// between subscribers: the gRPC prefix (1 flag byte, 4 length bytes), then
/// `ServerMessage{tick = 1}`: tag 0x0A, the tick's length as a varint, the
/// tick's bytes.
///
/// A snapshot or conflated delivery differs from the shared bytes only by
/// `Tick.snapshot` (field 15) or `Tick.skipped` (field 16). Protobuf merges
/// fields appended to a message, so these are written after the tick's own
/// bytes, with both lengths adjusted: no decode, no re-encode.
public enum TickFrame {
    /// Longest a mark can make a frame grow.
    public static let maxGrowth = 2 + 2 + 10 + 8

    /// Writes `frame` with `snapshot` and `skipped` set into `out`; returns
    /// the bytes written, or nil when `frame` is not a framed tick message.
    public static func writeMarked(
        _ frame: UnsafeRawBufferPointer, snapshot: Bool, skipped: UInt64,
        into out: (UnsafeRawBufferPointer) -> Void
    ) -> Int? {
        guard frame.count >= 7, frame[0] == 0, frame[5] == 0x0A else { return nil }
        var index = 6
        guard let tickLength = readVarint(frame, &index), index + Int(tickLength) == frame.count else { return nil }
        var extra: [UInt8] = []
        extra.reserveCapacity(14)
        if snapshot { extra += [0x78, 0x01] }  // field 15, varint, true
        if skipped > 0 {
            extra += [0x80, 0x01]  // field 16, varint
            appendVarint(skipped, to: &extra)
        }
        let newTickLength = Int(tickLength) + extra.count
        var header: [UInt8] = [0x0A]
        appendVarint(UInt64(newTickLength), to: &header)
        let messageLength = header.count + newTickLength
        let prefix: [UInt8] = [
            0, UInt8(truncatingIfNeeded: messageLength >> 24), UInt8(truncatingIfNeeded: messageLength >> 16),
            UInt8(truncatingIfNeeded: messageLength >> 8), UInt8(truncatingIfNeeded: messageLength),
        ]
        prefix.withUnsafeBytes(out)
        header.withUnsafeBytes(out)
        out(UnsafeRawBufferPointer(rebasing: frame[index...]))
        extra.withUnsafeBytes(out)
        return 5 + messageLength
    }

    static func readVarint(_ bytes: UnsafeRawBufferPointer, _ index: inout Int) -> UInt64? {
        var value: UInt64 = 0
        var shift: UInt64 = 0
        while index < bytes.count, shift < 64 {
            let byte = bytes[index]
            index += 1
            value |= UInt64(byte & 0x7F) << shift
            if byte & 0x80 == 0 { return value }
            shift += 7
        }
        return nil
    }

    static func appendVarint(_ value: UInt64, to bytes: inout [UInt8]) {
        var v = value
        while v >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: v) | 0x80)
            v >>= 7
        }
        bytes.append(UInt8(v))
    }
}
