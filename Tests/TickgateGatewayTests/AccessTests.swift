import Foundation
import NIOCore
import Synchronization
import Testing
import TickgateClient
import TickgateGateway
import TickgateModel
import TickgateTLS
import TickgateTestSupport

/// API keys and their rights: UNAUTHENTICATED without a valid key,
/// PERMISSION_DENIED for what a key may not do (the stream stays), per-key
/// limits, and a reload that ends the calls of a removed key.
@Suite(.serialized, .timeLimit(.minutes(2)))
struct AccessTests {
    static let reader = "reader-key-0123456789abcdef"
    static let publisher = "publisher-key-0123456789abcdef"
    static let narrow = "narrow-key-0123456789abcdef"

    static func keys() -> AccessControl {
        AccessControl(keys: [
            (reader, "reader", AccessRights(subscribe: [.base("BTC")])),
            (publisher, "publisher", AccessRights(
                subscribe: [.all], publish: PublishRight(venues: ["synthetic"], symbols: [.base("BTC")]))),
            (narrow, "narrow", AccessRights(subscribe: [.all], limits: KeyLimits(connections: 1, streams: 1))),
        ])
    }

    static func bearer(_ key: String) -> [(String, String)] { [("authorization", "Bearer \(key)")] }

    static func snapshotBody(_ symbols: [String]) -> [UInt8] {
        var body = ByteBuffer()
        WireCodec.encode(SnapshotRequest(symbols: symbols), into: &body)
        return RawGRPCClient.frame(Array(body.readableBytesView))
    }

    @Test func noKeyOrAWrongOneIsUnauthenticatedAndHealthNeedsNone() async throws {
        let harness = try await GatewayHarness.start(partitions: 1) { $0.access = Self.keys() }
        let none = try await RawGRPCClient.call(port: harness.port, body: [], headersOnly: true)
        #expect(none.grpcStatus == 16)
        #expect(none.field("grpc-message")?.contains("authorization: Bearer") == true)
        let wrong = try await RawGRPCClient.call(
            port: harness.port, extraHeaders: Self.bearer("not-a-key-0123456789"), body: [], headersOnly: true)
        #expect(wrong.grpcStatus == 16)
        #expect(wrong.field("grpc-message")?.contains("not-a-key") == false, "the key is never echoed")
        let basic = try await RawGRPCClient.call(port: harness.port, extraHeaders: [("authorization", "Basic abc")], body: [], headersOnly: true)
        #expect(basic.grpcStatus == 16)
        let snapshot = try await RawGRPCClient.call(
            port: harness.port, path: "/tickgate.v1.PriceStream/GetSnapshot", body: Self.snapshotBody(["BTC-USD"]))
        #expect(snapshot.grpcStatus == 16)
        let reflection = try await RawGRPCClient.call(
            port: harness.port, path: "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo", body: [], headersOnly: true)
        #expect(reflection.grpcStatus == 16, "the schema is for key holders too")
        let (health, status) = try await HealthTests.check(harness.port, "")
        #expect(health == 0 && status == .serving)
        #expect(harness.gateway.stats.snapshot.unauthenticated == 5)

        // The client library sends the key.
        let client = try await TickgateConnection.connect(host: "127.0.0.1", port: harness.port)
        let stream = try await client.openStream()
        await #expect(throws: TickgateClientError.self) { _ = try await stream.subscribe(["BTC-USD"]) }
        await client.close()
        await harness.stop()
    }

    @Test func aForbiddenSymbolIsDeniedForThatRequestAndTheStreamStays() async throws {
        let harness = try await GatewayHarness.start(partitions: 1) { $0.access = Self.keys() }
        let connection = try await TickgateConnection.connect(host: "127.0.0.1", port: harness.port, credentials: Credentials(apiKey: Self.reader))
        let stream = try await connection.openStream()
        let result = try await stream.subscribe(["BTC-USD", "ETH-USD", "*", "BTC-*"])
        #expect(result.accepted.sorted() == ["BTC-*", "BTC-USD"])
        #expect(result.refused.map(\.code) == [7])
        #expect(result.refused.first?.symbols.sorted() == ["*", "ETH-USD"])

        try await harness.publishAndFlush(makeTicks(symbols: ["ETH-USD", "BTC-USD"], perSymbol: 2))
        let got = try await collect(stream, count: 2)
        #expect(got.allSatisfy { $0.tick.symbol == "BTC-USD" }, "only what the key may see")

        let denied = try await RawGRPCClient.call(
            port: harness.port, path: "/tickgate.v1.PriceStream/GetSnapshot", extraHeaders: Self.bearer(Self.reader),
            body: Self.snapshotBody(["BTC-USD", "ETH-*"]))
        #expect(denied.grpcStatus == 7)
        let allowed = try await RawGRPCClient.call(
            port: harness.port, path: "/tickgate.v1.PriceStream/GetSnapshot", extraHeaders: Self.bearer(Self.reader),
            body: Self.snapshotBody(["BTC-USD"]))
        #expect(allowed.grpcStatus == 0)
        stream.cancel()
        await connection.close()
        await harness.stop()
    }

    @Test func publishNeedsTheRightForTheVenueAndSymbol() async throws {
        let harness = try await GatewayHarness.start(partitions: 1) { $0.access = Self.keys() }
        var ticks = makeTicks(symbols: ["BTC-USD"], perSymbol: 2)
        let path = "/tickgate.v1.PriceStream/Publish"
        let readerOnly = try await RawGRPCClient.call(
            port: harness.port, path: path, extraHeaders: Self.bearer(Self.reader), body: PublishTests.body(ticks))
        #expect(readerOnly.grpcStatus == 7)
        let noKey = try await RawGRPCClient.call(port: harness.port, path: path, body: PublishTests.body(ticks))
        #expect(noKey.grpcStatus == 16)

        let ok = try await RawGRPCClient.call(
            port: harness.port, path: path, extraHeaders: Self.bearer(Self.publisher), body: PublishTests.body(ticks))
        #expect(ok.grpcStatus == 0)
        #expect(try PublishTests.summary(ok).published == 2)

        ticks = makeTicks(symbols: ["ETH-USD"], perSymbol: 1)
        let otherSymbol = try await RawGRPCClient.call(
            port: harness.port, path: path, extraHeaders: Self.bearer(Self.publisher), body: PublishTests.body(ticks))
        #expect(otherSymbol.grpcStatus == 7)
        #expect(otherSymbol.field("grpc-message")?.contains("may not publish synthetic ETH-USD") == true)
        ticks = makeTicks(symbols: ["BTC-EUR"], perSymbol: 1)
        ticks[0].venue = "binance"
        let otherVenue = try await RawGRPCClient.call(
            port: harness.port, path: path, extraHeaders: Self.bearer(Self.publisher), body: PublishTests.body(ticks))
        #expect(otherVenue.grpcStatus == 7)
        await harness.stop()
    }

    @Test func withoutKeysPublishIsOffUnlessAnonymousPublishIsAllowed() async throws {
        let harness = try await GatewayHarness.start(partitions: 1)
        let body = PublishTests.body(makeTicks(symbols: ["BTC-USD"], perSymbol: 1))
        let refused = try await RawGRPCClient.call(port: harness.port, path: "/tickgate.v1.PriceStream/Publish", body: body)
        #expect(refused.grpcStatus == 7)
        #expect(refused.field("grpc-message")?.contains("--allow-anonymous-publish") == true)
        // Subscriptions stay anonymous.
        let stream = try await RawGRPCClient.call(port: harness.port, body: [], headersOnly: true)
        #expect(stream.grpcStatus == 0)
        await harness.stop()

        let open = try await GatewayHarness.start(partitions: 1) { $0.access = AccessControl(anonymousPublish: true) }
        let published = try await RawGRPCClient.call(port: open.port, path: "/tickgate.v1.PriceStream/Publish", body: body)
        #expect(published.grpcStatus == 0)
        await open.stop()
    }

    @Test func aKeysConnectionAndCallLimitsHold() async throws {
        let harness = try await GatewayHarness.start(partitions: 1) { $0.access = Self.keys() }
        let first = try await TickgateConnection.connect(host: "127.0.0.1", port: harness.port, credentials: Credentials(apiKey: Self.narrow))
        let held = try await first.openStream()
        _ = try await held.subscribe(["BTC-USD"])
        let second = try await first.openStream()
        await #expect(throws: TickgateClientError.status(code: 8, name: "RESOURCE_EXHAUSTED", message: "this API key has as many calls open as it may (1)")) {
            _ = try await second.subscribe(["BTC-USD"])
        }
        let other = try await TickgateConnection.connect(host: "127.0.0.1", port: harness.port, credentials: Credentials(apiKey: Self.narrow))
        let refused = try await other.openStream()
        await #expect(throws: TickgateClientError.status(code: 8, name: "RESOURCE_EXHAUSTED", message: "this API key has as many connections open as it may (1)")) {
            _ = try await refused.subscribe(["BTC-USD"])
        }
        // Freed when the call and the connection go.
        held.cancel()
        await first.close()
        #expect(await eventually { harness.gateway.stats.snapshot.connections == 1 })
        let again = try await other.openStream()
        #expect(try await again.subscribe(["BTC-USD"]).accepted == ["BTC-USD"])
        again.cancel()
        await other.close()
        await harness.stop()
    }

    @Test func reloadEndsTheCallsOfARemovedKeyAndAddsNewOnes() async throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("tickgate-keys-\(UInt64.random(in: 0...UInt64.max)).json").path
        defer { try? FileManager.default.removeItem(atPath: file) }
        try write(file, """
            {"keys": [{"name": "old", "key": "\(Self.reader)", "subscribe": ["*"]}]}
            """)
        let access = try AccessControl(keyFile: file)
        let harness = try await GatewayHarness.start(partitions: 1) { $0.access = access }
        let connection = try await TickgateConnection.connect(host: "127.0.0.1", port: harness.port, credentials: Credentials(apiKey: Self.reader))
        let stream = try await connection.openStream()
        _ = try await stream.subscribe(["BTC-USD"])
        let ending = Task { () -> TickgateClientError? in
            do {
                for try await _ in stream.ticks {}
                return nil
            } catch {
                return error as? TickgateClientError
            }
        }

        // A file that does not parse changes nothing.
        try write(file, "{\"keys\": [{\"name\": \"x\", \"sha256\": \"12\"}]}")
        #expect(throws: AccessError.self) { try access.reload() }
        #expect(access.keyCount == 1)

        try write(file, """
            {"keys": [{"name": "new", "sha256": "\(SHA256.hex(Self.publisher))", "subscribe": ["BTC-*"]}]}
            """)
        #expect(try access.reload() == 1)
        let ended = await ending.value
        guard case .status(16, _, let message) = ended else {
            Issue.record("the removed key's stream should end UNAUTHENTICATED, got \(String(describing: ended))")
            return
        }
        #expect(message.contains("revoked"))
        let newKey = try await TickgateConnection.connect(host: "127.0.0.1", port: harness.port, credentials: Credentials(apiKey: Self.publisher))
        let fresh = try await newKey.openStream()
        #expect(try await fresh.subscribe(["BTC-USD"]).accepted == ["BTC-USD"])
        fresh.cancel()
        await newKey.close()
        await connection.close()
        await harness.stop()
    }

    @Test func subscribeRequestsOverTheRateAreRefusedWithARetryHint() async throws {
        let harness = try await GatewayHarness.start(partitions: 1) { $0.maxRequestsPerSecondPerStream = 3 }
        let connection = try await TickgateConnection.connect(host: "127.0.0.1", port: harness.port)
        let stream = try await connection.openStream()
        // Six requests at once, not one per round trip: on a slow box (ASan)
        // a round trip can outlast a token's refill (333 ms here), and one
        // request at a time then never meets the limit.
        let results = try await withThrowingTaskGroup(of: SubscriptionResult.self) { group in
            for index in 0..<6 { group.addTask { try await stream.subscribe(["S\(index)-USD"]) } }
            return try await group.reduce(into: [SubscriptionResult]()) { $0.append($1) }
        }
        #expect(results.filter { $0.refused.isEmpty }.count >= 3, "a burst up to the rate")
        let limited = results.filter { $0.refused.first?.code == 8 }
        #expect(limited.count >= 2, "six at once, three a second: most of the rest are refused")
        #expect(limited.allSatisfy { ($0.refused.first?.retryAfterMillis ?? 0) > 0 })
        #expect(harness.gateway.stats.snapshot.requestsRateLimited == limited.count)
        // The stream stays: a later ping is answered.
        _ = try await stream.ping()
        stream.cancel()
        await connection.close()
        await harness.stop()
    }

    private func write(_ path: String, _ text: String) throws {
        try Data(text.utf8).write(to: URL(fileURLWithPath: path), options: .atomic)
    }
}
