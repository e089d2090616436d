import NIOCore
import Testing
@testable import TickgateBench
import TickgateModel

@Suite struct TickProbeTests {
    static let tick = Tick(
        symbol: "X42-USD", venue: "synthetic", price: ExactDecimal(mantissa: 6_500_012, exponent: -2),
        size: ExactDecimal(mantissa: 1, exponent: -8), side: .buy, sequence: 1_234_567, tradeID: "abc",
        venueTimeNanos: 1_795_450_250_468_402_016, publishTimeNanos: 1_795_450_250_468_407_656,
        kafkaTimeMillis: 1_795_450_250_468, gatewayReceiveTimeNanos: 1_795_450_250_470_969_101,
        gatewayDispatchTimeNanos: 1_795_450_250_470_976_165, kafkaPartition: 3, kafkaOffset: 31)

    @Test func readsEveryFieldTheBenchUses() throws {
        var buffer = ByteBuffer()
        WireCodec.encode(ServerMessage.tick(Self.tick), into: &buffer)
        let probed = buffer.withUnsafeReadableBytes { TickProbe.probeServerMessage($0) }
        guard case .tick(let t) = probed else {
            Issue.record("not probed as a tick")
            return
        }
        #expect(t.symbolIndex == 42)
        #expect(t.sequence == 1_234_567)
        #expect(t.scheduledNanos == Self.tick.venueTimeNanos)
        #expect(t.publishNanos == Self.tick.publishTimeNanos)
        #expect(t.kafkaMillis == Self.tick.kafkaTimeMillis)
        #expect(t.receiveNanos == Self.tick.gatewayReceiveTimeNanos)
        #expect(t.dispatchNanos == Self.tick.gatewayDispatchTimeNanos)
    }

    @Test func recognisesAcksAndErrors() {
        var ack = ByteBuffer()
        WireCodec.encode(ServerMessage.ack(requestID: 1, symbols: ["X1-USD"]), into: &ack)
        var error = ByteBuffer()
        WireCodec.encode(ServerMessage.error(RequestError(requestID: 1, code: 5, message: "m", symbols: [])), into: &error)
        if case .ack = ack.withUnsafeReadableBytes({ TickProbe.probeServerMessage($0) }) {} else { Issue.record("ack") }
        if case .error = error.withUnsafeReadableBytes({ TickProbe.probeServerMessage($0) }) {} else { Issue.record("error") }
    }

    @Test(arguments: [("X0-USD", 0), ("X123-USD", 123), ("BTC-USD", -1), ("X12", -1), ("XA-USD", -1)])
    func symbolIndex(symbol: String, index: Int) {
        #expect(Array(symbol.utf8).withUnsafeBytes { TickProbe.symbolIndex($0) } == index)
    }

    @Test func truncatedInputIsNotATick() {
        var buffer = ByteBuffer()
        WireCodec.encode(ServerMessage.tick(Self.tick), into: &buffer)
        let cut = buffer.getSlice(at: 0, length: buffer.readableBytes - 20)!
        if case .tick = cut.withUnsafeReadableBytes({ TickProbe.probeServerMessage($0) }) {
            Issue.record("a cut message must not pass as a tick")
        }
    }
}
