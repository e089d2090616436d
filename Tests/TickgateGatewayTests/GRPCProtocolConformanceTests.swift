import Testing
import TickgateGateway
import TickgateModel
import TickgateTestSupport
import NIOCore

/// What a stock gRPC client sees for bad requests, byte for byte.
@Suite(.serialized, .timeLimit(.minutes(2)))
struct GRPCProtocolConformanceTests {
    static func subscribeBytes(_ symbols: [String]) -> [UInt8] {
        var buffer = ByteBuffer()
        WireCodec.encode(ClientMessage.subscribe(requestID: 1, symbols: symbols), into: &buffer)
        return Array(buffer.readableBytesView)
    }

    @Test func badRequestsGetTheRightStatusAndTheGatewayKeepsServing() async throws {
        let harness = try await GatewayHarness.start { $0.maxMessageSize = 64 * 1024 }
        let port = harness.port

        let unknown = try await RawGRPCClient.call(port: port, path: "/tickgate.v1.PriceStream/Nope", body: [])
        #expect(unknown.httpStatus == 200)
        #expect(unknown.grpcStatus == 12)
        #expect(unknown.field("grpc-message") == "unknown method /tickgate.v1.PriceStream/Nope")

        let garbage = try await RawGRPCClient.call(port: port, body: RawGRPCClient.frame([0xFF, 0xFF, 0xFF, 0xFF]))
        #expect(garbage.grpcStatus == 13)
        #expect(garbage.field("grpc-message")?.hasPrefix("error parsing request proto") == true)

        let oversized = try await RawGRPCClient.call(port: port, body: RawGRPCClient.frame(Array(repeating: 0, count: 64 * 1024 + 1)))
        #expect(oversized.grpcStatus == 8)

        let gzip = try await RawGRPCClient.call(port: port, extraHeaders: [("grpc-encoding", "gzip")], body: [])
        #expect(gzip.grpcStatus == 12)
        #expect(gzip.field("grpc-accept-encoding") == "identity")

        let compressedFlag = try await RawGRPCClient.call(port: port, body: [1, 0, 0, 0, 1, 0])
        #expect(compressedFlag.grpcStatus == 13)

        let truncated = try await RawGRPCClient.call(port: port, body: [0, 0, 0, 0, 9, 1, 2])
        #expect(truncated.grpcStatus == 13)

        let json = try await RawGRPCClient.call(port: port, contentType: "application/json", body: [])
        #expect(json.httpStatus == 415)

        // A valid request that half-closes with nothing subscribed: ack, then OK.
        let fine = try await RawGRPCClient.call(port: port, body: RawGRPCClient.frame(Self.subscribeBytes([])))
        #expect(fine.grpcStatus == 0)
        #expect(fine.field("content-type") == "application/grpc")

        let stats = harness.gateway.stats.snapshot
        #expect(stats.streams == 0 && stats.subscriptions == 0)
        await harness.stop()
    }
}
