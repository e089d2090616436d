import Testing
import TickgateClient
import TickgateGateway
import TickgateModel
import TickgateTestSupport

/// Connections in total and per address, and the maximum connection age.
@Suite(.serialized, .timeLimit(.minutes(1)))
struct ConnectionLimitTests {
    @Test func aConnectionOverThePerAddressLimitGetsGoAwayAndTheOthersStay() async throws {
        let harness = try await GatewayHarness.start(partitions: 1) { $0.maxConnectionsPerAddress = 2 }
        let first = try await TickgateConnection.connect(host: "127.0.0.1", port: harness.port)
        let second = try await TickgateConnection.connect(host: "127.0.0.1", port: harness.port)
        let kept = try await first.openStream()
        _ = try await kept.subscribe(["BTC-USD"])
        let alsoKept = try await second.openStream()
        _ = try await alsoKept.subscribe(["BTC-USD"])

        let refused = try await RawGRPCClient.call(port: harness.port, body: [], headersOnly: true)
        #expect(refused.goAway?.code == 11, "ENHANCE_YOUR_CALM: \(refused)")
        #expect(refused.goAway?.debug == "too many connections from this address")
        #expect(refused.grpcStatus == 8, "a clear status, not retried at once")
        #expect(refused.field("grpc-message") == "too many connections from this address")
        #expect(harness.gateway.stats.snapshot.connectionsRefused == 1)

        _ = try await kept.ping()
        _ = try await alsoKept.ping()
        // A slot frees when a connection closes.
        await second.close()
        #expect(await eventually { harness.gateway.stats.snapshot.connections == 1 })
        let third = try await RawGRPCClient.call(port: harness.port, body: [], headersOnly: true)
        #expect(third.grpcStatus == 0)
        await first.close()
        await harness.stop()
    }

    @Test func anIdleConnectionIsClosedWithGoAway() async throws {
        let harness = try await GatewayHarness.start(partitions: 1) { $0.idleTimeout = .seconds(2) }
        let connection = try await TickgateConnection.connect(host: "127.0.0.1", port: harness.port)
        let busy = try await TickgateConnection.connect(host: "127.0.0.1", port: harness.port)
        let stream = try await busy.openStream()
        _ = try await stream.subscribe(["BTC-USD"])
        #expect(await eventually(timeout: .seconds(10)) { harness.gateway.stats.snapshot.connectionsIdleClosed == 1 })
        #expect(await eventually { harness.gateway.stats.snapshot.connections == 1 }, "a connection with a call stays")
        _ = try await stream.ping()
        await #expect(throws: TickgateClientError.self) { _ = try await connection.openStream().subscribe(["BTC-USD"]) }
        await busy.close()
        await harness.stop()
    }

    @Test func theTotalLimitHoldsToo() async throws {
        let harness = try await GatewayHarness.start(partitions: 1) { $0.maxConnections = 1 }
        let first = try await TickgateConnection.connect(host: "127.0.0.1", port: harness.port)
        let stream = try await first.openStream()
        _ = try await stream.subscribe(["BTC-USD"])
        let refused = try await RawGRPCClient.call(port: harness.port, body: [], headersOnly: true)
        #expect(refused.goAway?.debug == "too many connections to this gateway")
        await first.close()
        await harness.stop()
    }

    @Test func anOldConnectionIsDrainedGracefullyThenItsCallsEndUnavailable() async throws {
        let harness = try await GatewayHarness.start(partitions: 1) {
            // Long enough for connect, open and subscribe to finish first
            // under a loaded AddressSanitizer run (300 ms was not: the
            // GOAWAY came before the stream opened).
            $0.maxConnectionAge = .seconds(2)
            $0.maxConnectionAgeGrace = .seconds(3)
        }
        let connection = try await TickgateConnection.connect(host: "127.0.0.1", port: harness.port)
        let stream = try await connection.openStream()
        _ = try await stream.subscribe(["BTC-USD"])
        let ending = Task { () -> (ticks: Int, error: TickgateClientError?) in
            var ticks = 0
            do {
                for try await _ in stream.ticks { ticks += 1 }
                return (ticks, nil)
            } catch {
                return (ticks, error as? TickgateClientError)
            }
        }
        // Past the age (GOAWAY sent) and inside the grace, ticks still flow.
        #expect(await eventually { harness.gateway.stats.snapshot.connectionsAged == 1 })
        #expect(harness.gateway.stats.snapshot.streams == 1, "graceful: the call goes on")
        try await harness.publishAndFlush(makeTicks(symbols: ["BTC-USD"], perSymbol: 1))
        let (ticks, ended) = await ending.value
        #expect(ticks == 1, "the tick published during the grace arrived")
        #expect(ended == .status(code: 14, name: "UNAVAILABLE", message: "max connection age reached; reconnect"))
        await connection.close()
        await harness.stop()
    }
}
