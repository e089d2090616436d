import Testing
import TickgateClient
import TickgateGateway
import TickgateTestSupport

/// GET /metrics serves Prometheus text and its values follow the traffic.
@Suite(.serialized, .timeLimit(.minutes(2)))
struct MetricsTests {
    /// Sum of the samples of `name` whose labels contain `labels`.
    func value(_ text: String, _ name: String, _ labels: String = "") -> Double? {
        var total: Double? = nil
        for line in text.split(separator: "\n") where line.hasPrefix(name) {
            let rest = line.dropFirst(name.count)
            guard rest.first == " " || rest.first == "{" else { continue }
            if !labels.isEmpty && !rest.contains(labels) { continue }
            if let number = Double(rest.split(separator: " ").last ?? "") { total = (total ?? 0) + number }
        }
        return total
    }

    @Test func scrapedValuesFollowTheTraffic() async throws {
        let harness = try await GatewayHarness.start(partitions: 3)
        let port = try #require(harness.gateway.metricsPort)
        let empty = try await httpGet(port: port, path: "/metrics")
        #expect(empty.hasPrefix("HTTP/1.1 200 OK"))
        #expect(empty.contains("content-type: text/plain; version=0.0.4"))
        #expect(value(empty, "tickgate_connections") == 0)
        #expect(value(empty, "tickgate_consumer_lag") == 0)

        let connection = try await TickgateConnection.connect(host: "127.0.0.1", port: harness.port)
        let stream = try await connection.openStream()
        _ = try await stream.subscribe(["BTC-USD", "ETH-USD", "nope"])
        try await harness.publishAndFlush(makeTicks(symbols: ["BTC-USD", "ETH-USD", "SOL-USD"], perSymbol: 10))
        _ = try await collect(stream, count: 20)
        let consumed = await eventually { harness.gateway.stats.snapshot.ticksConsumed == 30 }
        #expect(consumed)

        let busy = harness.gateway.metricsExposition()
        #expect(value(busy, "tickgate_connections") == 1)
        #expect(value(busy, "tickgate_streams") == 1)
        #expect(value(busy, "tickgate_subscriptions") == 2)
        #expect(value(busy, "tickgate_ticks_consumed_total") == 30, "summed over partitions")
        #expect(value(busy, "tickgate_deliveries_total") == 20)
        #expect(value(busy, "tickgate_request_errors_total", "grpc_code=\"3\"") == 1, "the malformed symbol")
        #expect(value(busy, "tickgate_hop_latency_seconds_count", "t1_publish_to_t3_gateway_receive") == 30)
        #expect((value(busy, "tickgate_hop_latency_seconds_count", "t3_receive_to_socket_write") ?? 0) >= 1)

        let staleness = try #require(value(busy, "tickgate_symbol_staleness_seconds", "symbol=\"SOL-USD\""))
        #expect(staleness >= 0 && staleness < 30, "a symbol nobody subscribed to is still tracked")

        // Counters never go down between scrapes.
        let again = harness.gateway.metricsExposition()
        #expect(value(again, "tickgate_deliveries_total") == 20)

        let missing = try await httpGet(port: port, path: "/other")
        #expect(missing.hasPrefix("HTTP/1.1 404"))
        stream.cancel()
        await connection.close()
        await harness.stop()
    }
}
