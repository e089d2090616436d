import NIOCore
import Testing
import TickgateClient
import TickgateGateway
import TickgateModel
import TickgateTestSupport

/// A client that stops reading must cost a bounded amount of memory and
/// must not hold back anyone else.
@Suite(.serialized, .timeLimit(.minutes(2)))
struct SlowClientTests {
    @Test func stalledStreamIsResetAndOthersKeepEverything() async throws {
        let harness = try await GatewayHarness.start { $0.maxPendingBytesPerStream = 64 * 1024 }
        var subscribe = ByteBuffer()
        WireCodec.encode(ClientMessage.subscribe(requestID: 1, symbols: ["BTC-USD"]), into: &subscribe)
        let stalled = try await RawGRPCClient.openStalledStream(
            port: harness.port, body: RawGRPCClient.frame(Array(subscribe.readableBytesView)))

        let connection = try await TickgateConnection.connect(host: "127.0.0.1", port: harness.port)
        let healthy = try await connection.openStream()
        _ = try await healthy.subscribe(["BTC-USD"])
        let bothSubscribed = await eventually { harness.gateway.stats.snapshot.subscriptions == 2 }
        #expect(bothSubscribed)

        // ~3,000 × ~120 bytes: far past the stalled client's 64 KiB window
        // plus the 64 KiB the gateway may hold for it.
        let count = 3000
        try await harness.publishAndFlush(makeTicks(symbols: ["BTC-USD"], perSymbol: count))
        let got = try await collect(healthy, count: count, timeout: .seconds(60))
        #expect(got.map(\.tick.sequence) == Array(1...UInt64(count)), "the healthy stream lost nothing")

        let reset = await eventually {
            let s = harness.gateway.stats.snapshot
            return s.slowStreamResets == 1 && s.subscriptions == 1
        }
        #expect(reset, "\(harness.gateway.stats.snapshot)")

        try await stalled.close()
        healthy.cancel()
        await connection.close()
        await harness.stop()
    }
}
