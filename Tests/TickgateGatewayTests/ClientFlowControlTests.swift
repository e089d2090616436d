import Testing
import TickgateClient
import TickgateGateway
import TickgateModel
import TickgateTestSupport

/// The client's tick buffer is bounded and pushes back through HTTP/2 flow
/// control: an app that stops reading stops the gateway, whose slow-client
/// handling (conflation) then takes over, instead of growing the app's memory.
@Suite(.serialized, .timeLimit(.minutes(2)))
struct ClientFlowControlTests {
    @Test func anAppThatStopsReadingIsTheGatewaysSlowClientNotAMemoryLeak() async throws {
        let harness = try await GatewayHarness.start(partitions: 1) { $0.maxPendingBytesPerStream = 64 * 1024 }
        let connection = try await TickgateConnection.connect(
            host: "127.0.0.1", port: harness.port, maxBufferedTicks: 100, receiveWindow: 65_535)
        let stream = try await connection.openStream()
        _ = try await stream.subscribe(["BTC-USD"])
        let published = 5_000  // ~600 KB: far past the window, the buffer and the gateway's bound
        try await harness.publishAndFlush(makeTicks(symbols: ["BTC-USD"], perSymbol: published))
        let conflated = await eventually {
            let s = harness.gateway.stats.snapshot
            return s.conflatedStreams == 1 && s.ticksConsumed == published
        }
        #expect(conflated, "the gateway's bound took over: \(harness.gateway.stats.snapshot)")
        // 100 ticks, plus at most one 64 KiB window of ~120-byte ticks.
        #expect(stream.ticks.buffered <= 100 + 65_535 / 100, "buffered \(stream.ticks.buffered)")
        var read = 0
        for try await delivery in stream.ticks {
            read += 1
            if delivery.tick.sequence == UInt64(published) { break }
        }
        #expect(read > 0 && read < published, "read \(read): the backlog was conflated")
        await connection.close()
        await harness.stop()
    }

    @Test func aSlowButReadingAppGetsEverythingThroughASmallBuffer() async throws {
        let harness = try await GatewayHarness.start(partitions: 1)
        let connection = try await TickgateConnection.connect(
            host: "127.0.0.1", port: harness.port, maxBufferedTicks: 50, receiveWindow: 65_535)
        let stream = try await connection.openStream()
        _ = try await stream.subscribe(["ETH-USD"])
        let count = 3_000
        try await harness.publishAndFlush(makeTicks(symbols: ["ETH-USD"], perSymbol: count))
        // Reading resumes the withheld window each time the buffer drains.
        let got = try await collect(stream, count: count, timeout: .seconds(60))
        #expect(got.map(\.tick.sequence) == Array(1...UInt64(count)))
        #expect(harness.gateway.stats.snapshot.slowStreamResets == 0)
        stream.cancel()
        await connection.close()
        await harness.stop()
    }
}
