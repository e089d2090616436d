import NIOCore
import Testing
import TickgateModel

@Suite struct TickFrameScanTests {
    static func framedTick(partition: Int32, offset: Int64) -> [UInt8] {
        var tick = Tick(symbol: "BTC-USD", venue: "synthetic", price: ExactDecimal(mantissa: 6_700_012, exponent: -2),
                        size: ExactDecimal(mantissa: 15, exponent: -3), side: .buy, sequence: 9)
        tick.kafkaPartition = partition
        tick.kafkaOffset = offset
        var buffer = ByteBuffer()
        buffer.writeInteger(UInt8(0))
        let message = { (b: inout ByteBuffer) in WireCodec.encode(ServerMessage.tick(tick), into: &b) }
        var body = ByteBuffer()
        message(&body)
        buffer.writeInteger(UInt32(body.readableBytes))
        buffer.writeBuffer(&body)
        return Array(buffer.readableBytesView)
    }

    @Test func readsThePositionWithoutDecoding() {
        let frame = Self.framedTick(partition: 5, offset: 1_234_567_890_123)
        let scan = frame.withUnsafeBytes { TickFrame.scan($0) }
        #expect(scan == TickFrame.Scan(partition: 5, offset: 1_234_567_890_123, snapshot: false, skipped: 0))
    }

    @Test func readsTheMarksOfOneDelivery() {
        let frame = Self.framedTick(partition: 2, offset: 77)
        var marked: [UInt8] = []
        _ = frame.withUnsafeBytes { TickFrame.writeMarked($0, snapshot: true, skipped: 300) { marked += $0 } }
        let scan = marked.withUnsafeBytes { TickFrame.scan($0) }
        #expect(scan == TickFrame.Scan(partition: 2, offset: 77, snapshot: true, skipped: 300))
        let start = marked.withUnsafeBytes { TickFrame.tickBytesStart($0) }
        let tick = try? marked.withUnsafeBytes { try WireCodec.decodeTick(UnsafeRawBufferPointer(rebasing: $0[start...])) }
        #expect(tick?.kafkaOffset == 77 && tick?.snapshot == true && tick?.skipped == 300)
    }

    @Test func refusesWhatIsNotAFramedTick() {
        var frame = Self.framedTick(partition: 1, offset: 1)
        frame.removeLast()
        #expect(frame.withUnsafeBytes { TickFrame.scan($0) } == nil)
        let ack: [UInt8] = [0, 0, 0, 0, 2, 0x1A, 0x00]
        #expect(ack.withUnsafeBytes { TickFrame.scan($0) } == nil)
    }
}
