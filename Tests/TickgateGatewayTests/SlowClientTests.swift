import NIOCore
import Testing
import TickgateClient
import TickgateGateway
import TickgateModel
import TickgateTestSupport

/// A client that stops reading costs a bounded amount of memory, holds
/// back no one else, and gets the latest price when it reads again
/// (conflation); a lossless one is told where it stands and ended.
@Suite(.serialized, .timeLimit(.minutes(2)))
struct SlowClientTests {
    @Test func stalledStreamIsConflatedAndOthersKeepEverything() async throws {
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
        #expect(got.allSatisfy { $0.tick.skipped == 0 && !$0.tick.snapshot })

        let conflated = await eventually {
            let s = harness.gateway.stats.snapshot
            return s.conflatedStreams == 1 && s.ticksConflated > 0
        }
        #expect(conflated, "\(harness.gateway.stats.snapshot)")
        #expect(harness.gateway.stats.snapshot.slowStreamResets == 0, "conflated, not cut off")

        try await stalled.close()
        healthy.cancel()
        await connection.close()
        await harness.stop()
    }

    @Test func anAppThatReadsAgainGetsTheLatestPriceAndTheCountOfWhatItSkipped() async throws {
        let harness = try await GatewayHarness.start(partitions: 1) { $0.maxPendingBytesPerStream = 16 * 1024 }
        let connection = try await TickgateConnection.connect(
            host: "127.0.0.1", port: harness.port, maxBufferedTicks: 20, receiveWindow: 16_384)
        let stream = try await connection.openStream()
        _ = try await stream.subscribe(["BTC-USD", "ETH-USD"])
        let perSymbol = 3_000
        try await harness.publishAndFlush(makeTicks(symbols: ["BTC-USD", "ETH-USD"], perSymbol: perSymbol))
        let behind = await eventually {
            let s = harness.gateway.stats.snapshot
            return s.ticksConsumed == 2 * perSymbol && s.conflatedStreams == 1
        }
        #expect(behind, "\(harness.gateway.stats.snapshot)")
        // Now read until the last tick of both symbols arrived.
        var lastSequence: [String: UInt64] = [:]
        var received: [String: Int] = [:]
        var skipped: [String: UInt64] = [:]
        for try await delivery in stream.ticks {
            let tick = delivery.tick
            #expect(tick.sequence > lastSequence[tick.symbol, default: 0], "in order, never repeated")
            lastSequence[tick.symbol] = tick.sequence
            received[tick.symbol, default: 0] += 1
            skipped[tick.symbol, default: 0] += tick.skipped
            if lastSequence.values.allSatisfy({ $0 == UInt64(perSymbol) }) && lastSequence.count == 2 { break }
        }
        for symbol in ["BTC-USD", "ETH-USD"] {
            #expect(lastSequence[symbol] == UInt64(perSymbol), "the latest price arrives")
            #expect(skipped[symbol, default: 0] > 0, "\(symbol) was conflated")
            // Every tick was either delivered or counted as skipped.
            #expect(UInt64(received[symbol, default: 0]) + skipped[symbol, default: 0] == UInt64(perSymbol))
        }
        #expect(harness.gateway.stats.snapshot.slowStreamResets == 0)
        stream.cancel()
        await connection.close()
        await harness.stop()
    }

    @Test func aLosslessStreamThatFallsBehindIsToldItsPositionAndEnded() async throws {
        let harness = try await GatewayHarness.start(partitions: 1) { $0.maxPendingBytesPerStream = 16 * 1024 }
        let connection = try await TickgateConnection.connect(
            host: "127.0.0.1", port: harness.port, maxBufferedTicks: 20, receiveWindow: 16_384)
        let stream = try await connection.openStream()
        _ = try await stream.subscribe(["BTC-USD"], options: SubscriptionOptions(lossless: true))
        let count = 3_000
        try await harness.publishAndFlush(makeTicks(symbols: ["BTC-USD"], perSymbol: count))
        let ended = await eventually { harness.gateway.stats.snapshot.laggingStreamsEnded == 1 }
        #expect(ended, "\(harness.gateway.stats.snapshot)")
        var ticks: [Tick] = []
        var positions: [KafkaPosition] = []
        do {
            for try await delivery in stream.ticks { ticks.append(delivery.tick) }
            Issue.record("the stream must end with its positions")
        } catch TickgateClientError.lagging(let found, _) {
            positions = found
        }
        #expect(ticks.map(\.sequence) == Array(1...UInt64(ticks.count)), "lossless: nothing skipped before the end")
        #expect(ticks.allSatisfy { $0.skipped == 0 })
        #expect(ticks.count < count)
        #expect(positions == [KafkaPosition(symbol: "BTC-USD", partition: 0, offset: ticks.last!.kafkaOffset)], "the position is the last tick it got")
        await connection.close()
        await harness.stop()
    }
}
