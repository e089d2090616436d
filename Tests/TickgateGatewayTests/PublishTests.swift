import NIOCore
import Testing
import TickgateClient
import TickgateGateway
import TickgateModel
import TickgateTestSupport

/// `Publish`: ticks in through the gateway, into Kafka, out to subscribers;
/// the summary only after Kafka acknowledged every tick.
@Suite(.serialized, .timeLimit(.minutes(2)))
struct PublishTests {
    static func body(_ ticks: [Tick]) -> [UInt8] {
        ticks.flatMap { RawGRPCClient.frame(WireCodec.encode($0)) }
    }

    static func summary(_ response: RawGRPCClient.Response) throws -> PublishSummary {
        var data = ByteBuffer(bytes: response.data)
        let flag = data.readInteger(as: UInt8.self)
        let length = data.readInteger(as: UInt32.self)
        #expect(flag == 0)
        let message = try #require(length.flatMap { data.readSlice(length: Int($0)) })
        return try WireCodec.decodePublishSummary(message)
    }

    @Test func publishedTicksReachSubscribersAfterKafkaAcknowledgedThem() async throws {
        let harness = try await GatewayHarness.start(partitions: 3) { $0.access = AccessControl(anonymousPublish: true) }
        let connection = try await TickgateConnection.connect(host: "127.0.0.1", port: harness.port)
        let stream = try await connection.openStream()
        _ = try await stream.subscribe(["SOL-USD", "ADA-USD"])
        var ticks = makeTicks(symbols: ["SOL-USD", "ADA-USD"], perSymbol: 25)
        for index in ticks.indices { ticks[index].publishTimeNanos = 0 }  // the gateway stamps t1

        let response = try await RawGRPCClient.call(port: harness.port, path: "/tickgate.v1.PriceStream/Publish", body: Self.body(ticks))
        #expect(response.grpcStatus == 0)
        #expect(try Self.summary(response) == PublishSummary(published: 50, failed: 0, firstError: ""))

        let got = try await collect(stream, count: 50)
        #expect(Dictionary(grouping: got, by: \.tick.symbol).mapValues { $0.map(\.tick.sequence) } == [
            "SOL-USD": Array(1...25), "ADA-USD": Array(1...25),
        ])
        #expect(got.allSatisfy { $0.tick.publishTimeNanos > 0 })
        for symbol in ["SOL-USD", "ADA-USD"] {  // partitions interleave: compare per symbol
            #expect(got.filter { $0.tick.symbol == symbol }.map(\.tick.price) == ticks.filter { $0.symbol == symbol }.map(\.price))
        }
        stream.cancel()
        await connection.close()
        await harness.stop()
    }

    @Test func invalidTicksEndTheCallWithAClearStatus() async throws {
        let harness = try await GatewayHarness.start(partitions: 1) { $0.access = AccessControl(anonymousPublish: true) }
        var ticks = makeTicks(symbols: ["SOL-USD"], perSymbol: 3)
        ticks[2].symbol = "sol/usd"
        let invalid = try await RawGRPCClient.call(port: harness.port, path: "/tickgate.v1.PriceStream/Publish", body: Self.body(ticks))
        #expect(invalid.grpcStatus == 3)
        #expect(invalid.field("grpc-message")?.contains("tick 3 of this call: invalid symbol") == true)

        var noVenue = makeTicks(symbols: ["SOL-USD"], perSymbol: 1)
        noVenue[0].venue = ""
        let venue = try await RawGRPCClient.call(port: harness.port, path: "/tickgate.v1.PriceStream/Publish", body: Self.body(noVenue))
        #expect(venue.grpcStatus == 3)

        let garbage = try await RawGRPCClient.call(port: harness.port, path: "/tickgate.v1.PriceStream/Publish", body: RawGRPCClient.frame([0xFF, 0xFF]))
        #expect(garbage.grpcStatus == 13)

        let empty = try await RawGRPCClient.call(port: harness.port, path: "/tickgate.v1.PriceStream/Publish", body: [])
        #expect(empty.grpcStatus == 0)
        #expect(try Self.summary(empty) == PublishSummary(published: 0, failed: 0, firstError: ""))
        await harness.stop()
    }

    @Test func publishCanBeTurnedOff() async throws {
        let harness = try await GatewayHarness.start(partitions: 1) { $0.enablePublish = false }
        let response = try await RawGRPCClient.call(port: harness.port, path: "/tickgate.v1.PriceStream/Publish", body: [])
        #expect(response.grpcStatus == 12)
        await harness.stop()
    }
}
