import NIOCore
import Synchronization
import Testing
@testable import TickgateGateway
import TickgateClient
import TickgateModel
import TickgateTestSupport

/// The defects found in the foundation's review, each driven through the
/// real gateway on the embedded broker.
@Suite(.serialized, .timeLimit(.minutes(2)))
struct DefectRegressionTests {
    static func frames(_ response: RawGRPCClient.Response) -> [ServerMessage] {
        var data = ByteBuffer(bytes: response.data)
        var messages: [ServerMessage] = []
        while data.readableBytes >= 5, let length = data.getInteger(at: data.readerIndex + 1, as: UInt32.self),
              data.readableBytes >= 5 + Int(length) {
            data.moveReaderIndex(forwardBy: 5)
            let message = data.readSlice(length: Int(length))!
            if let decoded = try? WireCodec.decodeServerMessage(message) { messages.append(decoded) }
        }
        return messages
    }

    static func ticks(in response: RawGRPCClient.Response) -> Int {
        frames(response).reduce(0) { count, message in
            switch message {
            case .tick: return count + 1
            case .batch(let ticks): return count + ticks.count
            default: return count
            }
        }
    }

    static func subscribe(_ symbols: [String]) -> [UInt8] {
        var buffer = ByteBuffer()
        WireCodec.encode(ClientMessage.subscribe(requestID: 1, symbols: symbols), into: &buffer)
        return RawGRPCClient.frame(Array(buffer.readableBytesView))
    }

    /// Defect 6: a call whose HEADERS carry END_STREAM was never finished.
    @Test func headersWithEndStreamEndOK() async throws {
        let harness = try await GatewayHarness.start(partitions: 1) { $0.access = AccessControl(anonymousPublish: true) }
        let stream = try await RawGRPCClient.call(port: harness.port, body: [], headersOnly: true)
        #expect(stream.grpcStatus == 0)
        let publish = try await RawGRPCClient.call(port: harness.port, path: "/tickgate.v1.PriceStream/Publish", body: [], headersOnly: true)
        #expect(publish.grpcStatus == 0)
        #expect(try PublishTests.summary(publish) == PublishSummary(published: 0, failed: 0, firstError: ""))
        #expect(await eventually { harness.gateway.stats.snapshot.streams == 0 })
        await harness.stop()
    }

    /// Defect 6: request trailers ended a call OK at once, even with live
    /// subscriptions. They are an END_STREAM: ticks keep flowing.
    @Test func requestTrailersHalfCloseAndTicksKeepFlowing() async throws {
        let harness = try await GatewayHarness.start(partitions: 1)
        let port = harness.port
        let body = Self.subscribe(["BTC-USD"])
        async let answer = RawGRPCClient.call(
            port: port, body: body, trailers: [("x-client", "done")],
            until: { Self.ticks(in: $0) >= 5 || $0.grpcStatus != nil })
        #expect(await eventually { harness.gateway.stats.snapshot.subscriptions == 1 })
        try await harness.publishAndFlush(makeTicks(symbols: ["BTC-USD"], perSymbol: 5))
        let response = try await answer
        #expect(response.grpcStatus == nil, "the call did not end at the trailers")
        #expect(Self.ticks(in: response) == 5)
        await harness.stop()
    }

    /// Defect 7: a Publish call refused at tick n did not say how many
    /// ticks before it were in Kafka.
    @Test func refusedPublishSaysHowManyBeforeItWerePublished() async throws {
        let harness = try await GatewayHarness.start(partitions: 1) { $0.access = AccessControl(anonymousPublish: true) }
        var ticks = makeTicks(symbols: ["SOL-USD"], perSymbol: 5)
        ticks[3].venue = ""
        let response = try await RawGRPCClient.call(
            port: harness.port, path: "/tickgate.v1.PriceStream/Publish", body: PublishTests.body(ticks))
        #expect(response.grpcStatus == 3)
        let message = response.field("grpc-message").map { $0.removingPercentEncodingForTest } ?? ""
        #expect(message.contains("tick 4 of this call: no venue"))
        #expect(message.contains("3 tick(s) of this call before it were published to Kafka"), "\(message)")
        await harness.stop()
    }

    /// Defect 2: a Publish call's stream was never freed (stream → ledger →
    /// closure → stream), and kept a dangling pointer to its connection.
    @Test func publishCallsAreFreedEvenWhenTheirConnectionGoesFirst() async throws {
        let harness = try await GatewayHarness.start(partitions: 1) { $0.access = AccessControl(anonymousPublish: true) }
        let body = PublishTests.body(makeTicks(symbols: ["SOL-USD"], perSymbol: 5))
        for round in 0..<60 {
            if round % 2 == 0 {
                // Hang up as soon as the response headers arrive, before
                // Kafka has settled the ticks.
                _ = try await RawGRPCClient.call(
                    port: harness.port, path: "/tickgate.v1.PriceStream/Publish", body: body, until: { !$0.headers.isEmpty })
            } else {
                let done = try await RawGRPCClient.call(port: harness.port, path: "/tickgate.v1.PriceStream/Publish", body: body)
                #expect(done.grpcStatus == 0)
            }
        }
        let freed = await eventually {
            let s = harness.gateway.stats.snapshot
            return s.connections == 0 && s.callObjects == 0 && s.ledgerObjects == 0
        }
        #expect(freed, "\(harness.gateway.stats.snapshot)")
        await harness.stop()
    }

    /// Defect 5: a healthy client was reset when one loop turn carried more
    /// than its bound. Now the bound holds at every enqueue, by handing
    /// bytes to the socket first, and a reading client is never reset.
    @Test func burstFarOverTheBoundReachesAReadingClientWhole() async throws {
        let harness = try await GatewayHarness.start(partitions: 1) { $0.maxPendingBytesPerStream = 64 * 1024 }
        let connection = try await TickgateConnection.connect(host: "127.0.0.1", port: harness.port)
        let stream = try await connection.openStream()
        _ = try await stream.subscribe(["BTC-USD"])
        let count = 20_000  // ~2.4 MB, far past the 64 KiB bound, in few Kafka batches
        try await harness.publishAndFlush(makeTicks(symbols: ["BTC-USD"], perSymbol: count))
        let got = try await collect(stream, count: count, timeout: .seconds(60))
        #expect(got.map(\.tick.sequence) == Array(1...UInt64(count)))
        #expect(harness.gateway.stats.snapshot.slowStreamResets == 0)
        stream.cancel()
        await connection.close()
        await harness.stop()
    }

    /// Graceful shutdown: open streams end UNAVAILABLE "server shutting
    /// down" (clients reconnect elsewhere) and shutdown returns.
    @Test func shutdownEndsOpenStreamsUnavailable() async throws {
        let harness = try await GatewayHarness.start(partitions: 1)
        let connection = try await TickgateConnection.connect(host: "127.0.0.1", port: harness.port)
        let stream = try await connection.openStream()
        _ = try await stream.subscribe(["BTC-USD"])
        await harness.stop()
        await #expect {
            for try await _ in stream.ticks {}
        } throws: { error in
            guard case .status(let code, _, let message) = error as? TickgateClientError else { return false }
            return code == 14 && message == "server shutting down"
        }
        await connection.close()
    }
}

extension String {
    /// grpc-message is percent-encoded.
    var removingPercentEncodingForTest: String {
        var bytes: [UInt8] = []
        var utf8 = Array(self.utf8)[...]
        while let byte = utf8.popFirst() {
            if byte == UInt8(ascii: "%"), utf8.count >= 2, let value = UInt8(String(decoding: utf8.prefix(2), as: UTF8.self), radix: 16) {
                bytes.append(value)
                utf8 = utf8.dropFirst(2)
            } else {
                bytes.append(byte)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
