import Testing
import TickgateClient
import TickgateGateway
import TickgateModel
import TickgateTestSupport

/// The whole path in process: embedded broker → gateway → client library.
@Suite(.serialized, .timeLimit(.minutes(3)))
struct GatewayIntegrationTests {
    static let fiftySymbols = (0..<50).map { "C\($0)-USD" }

    func sequences(_ deliveries: [TickDelivery]) -> [String: [UInt64]] {
        Dictionary(grouping: deliveries, by: \.tick.symbol).mapValues { $0.map(\.tick.sequence) }
    }

    @Test func streamReceivesExactlyItsSymbolsInOrderAndUnsubscribeStopsThem() async throws {
        let harness = try await GatewayHarness.start()
        let connection = try await TickgateConnection.connect(host: "127.0.0.1", port: harness.port)
        let stream = try await connection.openStream()
        let chosen = ["C3-USD", "C17-USD", "C42-USD"]
        let result = try await stream.subscribe(chosen)
        #expect(result.accepted == chosen)
        #expect(result.refused.isEmpty)

        let perSymbol = 20
        try await harness.publishAndFlush(makeTicks(symbols: Self.fiftySymbols, perSymbol: perSymbol))
        let received = try await collect(stream, count: chosen.count * perSymbol)
        let bySymbol = sequences(received)
        #expect(Set(bySymbol.keys) == Set(chosen))
        for symbol in chosen {
            #expect(bySymbol[symbol] == Array(1...UInt64(perSymbol)), "\(symbol) in order, none missing")
        }
        // Exactly those were delivered: the gateway counted no other delivery.
        let consumedAll = await eventually { harness.gateway.stats.snapshot.ticksConsumed == 50 * perSymbol }
        #expect(consumedAll)
        #expect(harness.gateway.stats.snapshot.deliveries == chosen.count * perSymbol)
        for delivery in received {
            let t = delivery.tick
            #expect(t.publishTimeNanos > 0 && t.publishTimeNanos <= t.gatewayReceiveTimeNanos)
            #expect(t.gatewayReceiveTimeNanos <= t.gatewayDispatchTimeNanos)
            #expect(t.gatewayDispatchTimeNanos <= delivery.receivedAtNanos)
            #expect(abs(t.kafkaTimeMillis * 1_000_000 - t.publishTimeNanos) < 1_000_000_000)
        }

        // Unsubscribe one: it stops, the others go on.
        let removed = try await stream.unsubscribe(["C17-USD"])
        #expect(removed.accepted == ["C17-USD"])
        #expect(harness.gateway.stats.snapshot.subscriptions == 2)
        let more = makeTicks(symbols: Self.fiftySymbols, perSymbol: 2 * perSymbol).suffix(50 * perSymbol)
        try await harness.publishAndFlush(Array(more))
        let next = try await collect(stream, count: 2 * perSymbol)
        let nextBySymbol = sequences(next)
        #expect(Set(nextBySymbol.keys) == ["C3-USD", "C42-USD"])
        #expect(nextBySymbol["C3-USD"] == Array(UInt64(perSymbol + 1)...UInt64(2 * perSymbol)))
        let consumedMore = await eventually { harness.gateway.stats.snapshot.ticksConsumed == 100 * perSymbol }
        #expect(consumedMore)
        #expect(harness.gateway.stats.snapshot.deliveries == 5 * perSymbol)

        stream.cancel()
        await connection.close()
        await harness.stop()
    }

    @Test func twoHundredStreamsOverFourConnectionsEachGetWhatTheyAskedFor() async throws {
        let harness = try await GatewayHarness.start()
        var connections: [TickgateConnection] = []
        for _ in 0..<4 {
            connections.append(try await TickgateConnection.connect(host: "127.0.0.1", port: harness.port))
        }
        var streams: [(TickStream, Set<String>)] = []
        var expectedSubscriptions = 0
        for index in 0..<200 {
            let wanted: Set<String> = [Self.fiftySymbols[index % 50], Self.fiftySymbols[(index * 7 + 3) % 50]]
            let stream = try await connections[index % 4].openStream()
            let result = try await stream.subscribe(Array(wanted).sorted())
            #expect(Set(result.accepted) == wanted)
            streams.append((stream, wanted))
            expectedSubscriptions += wanted.count
        }
        #expect(harness.gateway.stats.snapshot.streams == 200)
        #expect(harness.gateway.stats.snapshot.subscriptions == expectedSubscriptions)
        #expect(harness.gateway.stats.snapshot.connections == 4)

        let perSymbol = 5
        try await harness.publishAndFlush(makeTicks(symbols: Self.fiftySymbols, perSymbol: perSymbol))
        try await withThrowingTaskGroup(of: (Set<String>, [String: [UInt64]]).self) { group in
            for (stream, wanted) in streams {
                group.addTask {
                    let got = try await collect(stream, count: wanted.count * perSymbol, timeout: .seconds(60))
                    return (wanted, Dictionary(grouping: got, by: \.tick.symbol).mapValues { $0.map(\.tick.sequence) })
                }
            }
            for try await (wanted, bySymbol) in group {
                #expect(Set(bySymbol.keys) == wanted)
                for symbol in wanted {
                    #expect(bySymbol[symbol] == Array(1...UInt64(perSymbol)))
                }
            }
        }
        let expectedDeliveries = expectedSubscriptions * perSymbol
        let delivered = await eventually { harness.gateway.stats.snapshot.deliveries == expectedDeliveries }
        #expect(delivered, "no extra or missing delivery: \(harness.gateway.stats.snapshot.deliveries)")
        for connection in connections { await connection.close() }
        let freed = await eventually { harness.gateway.stats.snapshot.subscriptions == 0 && harness.gateway.stats.snapshot.streams == 0 }
        #expect(freed)
        await harness.stop()
    }

    @Test func cancellingAStreamOrDroppingTheConnectionFreesItsState() async throws {
        let harness = try await GatewayHarness.start()
        let connection = try await TickgateConnection.connect(host: "127.0.0.1", port: harness.port)
        var streams: [TickStream] = []
        for index in 0..<10 {
            let stream = try await connection.openStream()
            _ = try await stream.subscribe(Array(Self.fiftySymbols[index..<(index + 3)]))
            streams.append(stream)
        }
        #expect(harness.gateway.stats.snapshot.subscriptions == 30)
        #expect(harness.gateway.stats.snapshot.streams == 10)
        for stream in streams.prefix(5) { stream.cancel() }
        let halfFreed = await eventually {
            harness.gateway.stats.snapshot.subscriptions == 15 && harness.gateway.stats.snapshot.streams == 5
        }
        #expect(halfFreed, "\(harness.gateway.stats.snapshot)")

        // The remaining streams still work after the others were cancelled.
        try await harness.publishAndFlush(makeTicks(symbols: ["C9-USD"], perSymbol: 3))
        let got = try await collect(streams[9], count: 3)
        #expect(got.map(\.tick.sequence) == [1, 2, 3])

        await connection.close()
        let allFreed = await eventually {
            let s = harness.gateway.stats.snapshot
            return s.subscriptions == 0 && s.streams == 0 && s.connections == 0
        }
        #expect(allFreed, "\(harness.gateway.stats.snapshot)")
        await harness.stop()
    }

    @Test func refusedSymbolsGetAnErrorAndTheStreamStaysOpen() async throws {
        let harness = try await GatewayHarness.start(catalog: ["BTC-USD", "ETH-USD"]) { $0.maxSubscriptionsPerStream = 1 }
        let connection = try await TickgateConnection.connect(host: "127.0.0.1", port: harness.port)
        let stream = try await connection.openStream()
        let result = try await stream.subscribe(["BTC-USD", "btc_usd", "DOGE-USD", "ETH-USD"])
        #expect(result.accepted == ["BTC-USD"])
        #expect(result.refused.map(\.code) == [3, 5, 8])
        #expect(result.refused.map(\.symbols) == [["btc_usd"], ["DOGE-USD"], ["ETH-USD"]])

        let ping = try await stream.ping()
        #expect(ping.roundTripNanos >= 0)
        #expect(ping.serverTimeNanos >= ping.clientSendNanos - 1_000_000_000)

        try await harness.publishAndFlush(makeTicks(symbols: ["BTC-USD"], perSymbol: 2))
        let got = try await collect(stream, count: 2)
        #expect(got.map(\.tick.symbol) == ["BTC-USD", "BTC-USD"])
        stream.cancel()
        await connection.close()
        await harness.stop()
    }

    @Test func halfCloseWithNothingSubscribedEndsTheCallOK() async throws {
        let harness = try await GatewayHarness.start()
        let connection = try await TickgateConnection.connect(host: "127.0.0.1", port: harness.port)
        let stream = try await connection.openStream()
        _ = try await stream.subscribe(["BTC-USD"])
        _ = try await stream.unsubscribe(["BTC-USD"])
        stream.finishRequests()
        var count = 0
        for try await _ in stream.ticks { count += 1 }  // ends without throwing: grpc-status 0
        #expect(count == 0)
        await connection.close()
        await harness.stop()
    }

    @Test func unreachableGatewayIsAClearError() async {
        await #expect {
            _ = try await TickgateConnection.connect(host: "127.0.0.1", port: 1)
        } throws: { error in
            guard let error = error as? TickgateClientError, case .cannotConnect(let address, _) = error else { return false }
            return address == "127.0.0.1:1"
        }
    }
}
