import NIOCore
import Synchronization
import Testing
import TickgateClient
import TickgateGateway
import TickgateModel
import TickgateTestSupport

/// What a market-data service promises: the current price at once, with no
/// tick missed or repeated before the live ones; patterns and venues; rate
/// caps; heartbeats.
@Suite(.serialized, .timeLimit(.minutes(2)))
struct MarketDataTests {
    static func ticks(_ symbol: String, venue: String, count: Int, from first: UInt64 = 1) -> [Tick] {
        (0..<count).map { index in
            Tick(
                symbol: symbol, venue: venue, price: ExactDecimal(mantissa: 100_00 + Int64(index), exponent: -2),
                size: ExactDecimal(mantissa: 1, exponent: 0), sequence: first + UInt64(index),
                publishTimeNanos: WallClock.nowNanos())
        }
    }

    @Test func snapshotThenLiveWithNoGapOrRepeat() async throws {
        let harness = try await GatewayHarness.start(partitions: 3)
        let symbols = ["BTC-USD", "ETH-USD", "SOL-USD"]
        let perSymbol = 400
        let all = makeTicks(symbols: symbols, perSymbol: perSymbol)
        try await harness.publishAndFlush(Array(all.prefix(150)))
        let cached = await eventually { harness.gateway.stats.snapshot.ticksConsumed == 150 }
        #expect(cached)
        // Keep publishing while the subscription arrives.
        let publishing = Task {
            for chunk in stride(from: 150, to: all.count, by: 30) {
                try await harness.publishAndFlush(Array(all[chunk..<min(chunk + 30, all.count)]))
            }
        }
        let connection = try await TickgateConnection.connect(host: "127.0.0.1", port: harness.port)
        let stream = try await connection.openStream()
        _ = try await stream.subscribe(symbols, options: SubscriptionOptions(snapshot: true))
        var seen: [String: [Tick]] = [:]
        for try await delivery in stream.ticks {
            seen[delivery.tick.symbol, default: []].append(delivery.tick)
            if symbols.allSatisfy({ seen[$0]?.last?.sequence == UInt64(perSymbol) }) { break }
        }
        try await publishing.value
        for symbol in symbols {
            let got = seen[symbol] ?? []
            #expect(got.first?.snapshot == true, "\(symbol): the snapshot comes first")
            #expect(got.dropFirst().allSatisfy { !$0.snapshot && $0.skipped == 0 })
            let first = got.first?.sequence ?? 0
            #expect(got.map(\.sequence) == Array(first...UInt64(perSymbol)), "\(symbol): no gap and no repeat after the snapshot")
        }
        stream.cancel()
        await connection.close()
        await harness.stop()
    }

    @Test func aQuietSymbolsSnapshotArrivesAtOnceAndSurvivesARestart() async throws {
        let harness = try await GatewayHarness.start(partitions: 2)
        try await harness.publishAndFlush(Self.ticks("ADA-USD", venue: "kraken", count: 3))
        let cached = await eventually { harness.gateway.stats.snapshot.ticksConsumed == 3 }
        #expect(cached)
        let connection = try await TickgateConnection.connect(host: "127.0.0.1", port: harness.port)
        let stream = try await connection.openStream()
        _ = try await stream.subscribe(["ADA-USD"], options: SubscriptionOptions(snapshot: true))
        let got = try await collect(stream, count: 1, timeout: .seconds(5))
        #expect(got.first?.tick.sequence == 3 && got.first?.tick.snapshot == true)
        #expect(got.first?.tick.price == ExactDecimal(mantissa: 100_02, exponent: -2))

        // A gateway started later reads its cache back from Kafka.
        let restarted = try await harness.startAnotherGateway()
        let warm = await eventually { !restarted.stats.snapshot.warmingUp }
        #expect(warm)
        let other = try await TickgateConnection.connect(host: "127.0.0.1", port: restarted.port)
        let late = try await other.openStream()
        _ = try await late.subscribe(["ADA-*"], options: SubscriptionOptions(snapshot: true))
        let fromKafka = try await collect(late, count: 1, timeout: .seconds(5))
        #expect(fromKafka.first?.tick.sequence == 3 && fromKafka.first?.tick.snapshot == true)
        #expect(fromKafka.first?.tick.kafkaOffset == got.first?.tick.kafkaOffset, "the same tick, from the same place in Kafka")
        #expect(restarted.stats.snapshot.deliveries == 0, "read back, not delivered live")
        stream.cancel()
        late.cancel()
        await connection.close()
        await other.close()
        await restarted.shutdown()
        await harness.stop()
    }

    @Test func aPatternPicksUpASymbolPublishedLaterAndAVenueFilterHolds() async throws {
        let harness = try await GatewayHarness.start(partitions: 2)
        let connection = try await TickgateConnection.connect(host: "127.0.0.1", port: harness.port)
        let stream = try await connection.openStream()
        let statuses = StatusLog()
        let reader = Task { for await status in stream.statuses { statuses.append(status) } }
        let result = try await stream.subscribe(["*-EUR"], options: SubscriptionOptions(venue: "kraken"))
        #expect(result.accepted == ["*-EUR"])
        try await harness.publishAndFlush(
            Self.ticks("BTC-USD", venue: "kraken", count: 2) + Self.ticks("BTC-EUR", venue: "binance", count: 2)
                + Self.ticks("BTC-EUR", venue: "kraken", count: 2) + Self.ticks("ETH-EUR", venue: "kraken", count: 1))
        let got = try await collect(stream, count: 3, timeout: .seconds(10))
        #expect(got.allSatisfy { $0.tick.venue == "kraken" && $0.tick.symbol.hasSuffix("-EUR") })
        #expect(Set(got.map(\.tick.symbol)) == ["BTC-EUR", "ETH-EUR"])
        let announced = await eventually { statuses.all.filter(\.added).count == 2 }
        #expect(announced, "\(statuses.all)")
        #expect(Set(statuses.all.map { "\($0.venue) \($0.symbol)" }) == ["kraken BTC-EUR", "kraken ETH-EUR"])
        // Nothing else arrives.
        try await harness.publishAndFlush(Self.ticks("ETH-EUR", venue: "binance", count: 1) + Self.ticks("ETH-EUR", venue: "kraken", count: 1, from: 2))
        let next = try await collect(stream, count: 1, timeout: .seconds(5))
        #expect(next.first?.tick.venue == "kraken" && next.first?.tick.sequence == 2)
        reader.cancel()
        stream.cancel()
        await connection.close()
        await harness.stop()
    }

    @Test func theMatchLimitRefusesAPatternThatWouldPassIt() async throws {
        let harness = try await GatewayHarness.start(partitions: 1) { $0.maxSubscriptionsPerStream = 2 }
        try await harness.publishAndFlush(makeTicks(symbols: ["A-USD", "B-USD", "C-USD"], perSymbol: 1))
        let seen = await eventually { harness.gateway.stats.snapshot.ticksConsumed == 3 }
        #expect(seen)
        let connection = try await TickgateConnection.connect(host: "127.0.0.1", port: harness.port)
        let stream = try await connection.openStream()
        let result = try await stream.subscribe(["*"])
        #expect(result.accepted.isEmpty)
        #expect(result.refused.map(\.code) == [8])
        let ok = try await stream.subscribe(["A-USD", "B-USD"])
        #expect(ok.accepted == ["A-USD", "B-USD"])
        stream.cancel()
        await connection.close()
        await harness.stop()
    }

    @Test func aRateCapHoldsAndTheLastPriceAfterABurstArrives() async throws {
        let harness = try await GatewayHarness.start(partitions: 1)
        let connection = try await TickgateConnection.connect(host: "127.0.0.1", port: harness.port)
        let stream = try await connection.openStream()
        _ = try await stream.subscribe(["BTC-USD"], options: SubscriptionOptions(maxRate: 10))
        let all = makeTicks(symbols: ["BTC-USD"], perSymbol: 300)
        let started = ContinuousClock.now
        let publishing = Task {
            // 100 ticks per second for 3 s, then quiet.
            for chunk in stride(from: 0, to: all.count, by: 10) {
                try await harness.publishAndFlush(Array(all[chunk..<(chunk + 10)]))
                try await Task.sleep(for: .milliseconds(100))
            }
        }
        var got: [TickDelivery] = []
        for try await delivery in stream.ticks {
            got.append(delivery)
            if delivery.tick.sequence == 300 { break }
        }
        let elapsed = ContinuousClock.now - started
        try await publishing.value
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        // At most 10 per second (+10%), counting the first one at once.
        #expect(Double(got.count) <= seconds * 10 * 1.1 + 1, "\(got.count) ticks in \(seconds) s")
        // Half the cap at least: a stall gives a tick or two per second; a
        // loaded box (the whole suite, two cores) fires the loop's rate
        // timer late now and then (38 in 5.5 s was seen).
        #expect(Double(got.count) >= seconds * 10 * 0.5, "\(got.count) ticks in \(seconds) s: the cap is not a stall")
        // Any 20 intervals span at least 1.5 s: no burst of held ticks after
        // a late timer, over every two seconds and not only on average. This
        // is measured where the ticks arrive, so it carries the arrival
        // jitter of a loaded box (a fresh-clone CI run saw 1.76 s: one tick
        // read 240 ms late); the gateway's own spacing (at least 95 ms) is
        // pinned exactly by `RateCapTests`.
        let spans = got.indices.dropLast(20).map { got[$0 + 20].receivedAtNanos - got[$0].receivedAtNanos }
        #expect(spans.allSatisfy { $0 >= 1_500_000_000 }, "\(spans.sorted().prefix(3))")
        #expect(got.last?.tick.sequence == 300, "the last price after the burst")
        #expect(UInt64(got.count) + got.reduce(0) { $0 + $1.tick.skipped } == 300, "every tick delivered or counted as skipped")
        stream.cancel()
        await connection.close()
        await harness.stop()
    }

    @Test func aQuietStreamGetsHeartbeats() async throws {
        let harness = try await GatewayHarness.start(partitions: 1) { $0.heartbeatInterval = .seconds(1) }
        let connection = try await TickgateConnection.connect(host: "127.0.0.1", port: harness.port)
        let stream = try await connection.openStream()
        _ = try await stream.subscribe(["QUIET-USD"])
        let before = WallClock.nowNanos()
        var iterator = stream.heartbeats.makeAsyncIterator()
        let first = await iterator.next()
        let second = await iterator.next()
        #expect((first ?? 0) >= before)
        #expect((second ?? 0) - (first ?? 0) >= 900_000_000, "one per interval without traffic")
        #expect(harness.gateway.stats.snapshot.heartbeats >= 2)
        stream.cancel()
        await connection.close()
        await harness.stop()
    }
}

@Suite(.serialized, .timeLimit(.minutes(1)))
struct GetSnapshotTests {
    static func call(_ port: Int, _ request: SnapshotRequest) async throws -> RawGRPCClient.Response {
        var body = ByteBuffer()
        WireCodec.encode(request, into: &body)
        return try await RawGRPCClient.call(
            port: port, path: "/tickgate.v1.PriceStream/GetSnapshot", body: RawGRPCClient.frame(Array(body.readableBytesView)))
    }

    @Test func answersTheCurrentTicksOfSymbolsAndPatterns() async throws {
        let harness = try await GatewayHarness.start(partitions: 2)
        try await harness.publishAndFlush(
            MarketDataTests.ticks("BTC-USD", venue: "kraken", count: 3) + MarketDataTests.ticks("BTC-USD", venue: "binance", count: 2)
                + MarketDataTests.ticks("ETH-EUR", venue: "kraken", count: 4))
        let read = await eventually { harness.gateway.stats.snapshot.ticksConsumed == 9 }
        #expect(read)
        let response = try await Self.call(harness.port, SnapshotRequest(symbols: ["BTC-*", "ETH-EUR"]))
        #expect(response.grpcStatus == 0)
        let answer = try WireCodec.decodeSnapshotResponse(ByteBuffer(bytes: response.data.dropFirst(5)))
        #expect(answer.ticks.map { "\($0.symbol) \($0.venue) \($0.sequence)" } == ["BTC-USD binance 2", "BTC-USD kraken 3", "ETH-EUR kraken 4"])
        #expect(answer.ticks.allSatisfy { $0.snapshot })
        #expect(!answer.warmingUp)
        let kraken = try await Self.call(harness.port, SnapshotRequest(symbols: ["*"], venue: "kraken"))
        let krakenAnswer = try WireCodec.decodeSnapshotResponse(ByteBuffer(bytes: kraken.data.dropFirst(5)))
        #expect(krakenAnswer.ticks.map(\.venue) == ["kraken", "kraken"])
        let unknown = try await Self.call(harness.port, SnapshotRequest(symbols: ["DOGE-USD"]))
        #expect(unknown.grpcStatus == 0)
        let unknownAnswer = try WireCodec.decodeSnapshotResponse(ByteBuffer(bytes: unknown.data.dropFirst(5)))
        #expect(unknownAnswer.ticks.isEmpty)
        await harness.stop()
    }

    @Test func badRequestsGetStatusCodes() async throws {
        let harness = try await GatewayHarness.start(partitions: 1) { $0.maxSubscriptionsPerStream = 1 }
        try await harness.publishAndFlush(makeTicks(symbols: ["A-USD", "B-USD"], perSymbol: 1))
        let read = await eventually { harness.gateway.stats.snapshot.ticksConsumed == 2 }
        #expect(read)
        let malformed = try await Self.call(harness.port, SnapshotRequest(symbols: ["a-usd"]))
        #expect(malformed.grpcStatus == 3)
        let empty = try await Self.call(harness.port, SnapshotRequest(symbols: []))
        #expect(empty.grpcStatus == 3)
        let tooMany = try await Self.call(harness.port, SnapshotRequest(symbols: ["*"]))
        #expect(tooMany.grpcStatus == 8)
        let none = try await RawGRPCClient.call(port: harness.port, path: "/tickgate.v1.PriceStream/GetSnapshot", body: [], headersOnly: true)
        #expect(none.grpcStatus == 13, "a unary call needs its request message")
        let garbage = try await RawGRPCClient.call(
            port: harness.port, path: "/tickgate.v1.PriceStream/GetSnapshot", body: RawGRPCClient.frame([0xFF, 0xFF, 0xFF]))
        #expect(garbage.grpcStatus == 13)
        await harness.stop()
    }
}

@Suite(.serialized, .timeLimit(.minutes(1)))
struct DeadlineTests {
    @Test func aStreamEndsDeadlineExceededWhenItsGrpcTimeoutRunsOut() async throws {
        let harness = try await GatewayHarness.start(partitions: 1)
        var body = ByteBuffer()
        WireCodec.encode(ClientMessage.subscribe(requestID: 1, symbols: ["QUIET-USD"]), into: &body)
        let started = ContinuousClock.now
        let response = try await RawGRPCClient.call(
            port: harness.port, extraHeaders: [("grpc-timeout", "300m")], body: RawGRPCClient.frame(Array(body.readableBytesView)),
            until: { $0.grpcStatus != nil })
        let elapsed = ContinuousClock.now - started
        #expect(response.grpcStatus == 4)
        #expect(response.field("grpc-message")?.contains("deadline") == true)
        #expect(elapsed >= .milliseconds(300) && elapsed < .seconds(5), "\(elapsed)")
        let freed = await eventually { harness.gateway.stats.snapshot.subscriptions == 0 && harness.gateway.stats.snapshot.deadlinesExceeded == 1 }
        #expect(freed)
        let malformed = try await RawGRPCClient.call(
            port: harness.port, extraHeaders: [("grpc-timeout", "soon")], body: RawGRPCClient.frame(Array(body.readableBytesView)))
        #expect(malformed.grpcStatus == 13)
        await harness.stop()
    }
}
