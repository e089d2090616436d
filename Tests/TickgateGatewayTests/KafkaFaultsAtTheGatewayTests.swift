import Synchronization
import Testing
import TickgateClient
import TickgateGateway
import TickgateKafka
import TickgateModel
import TickgateTestSupport

/// Kafka faults under a live subscription, with the embedded broker's
/// fault injection: failed requests, slow round trips and a partition
/// leader moving between brokers. The stream stays open and gets every
/// tick published meanwhile exactly once, in order.
@Suite(.serialized, .timeLimit(.minutes(3)))
struct KafkaFaultsAtTheGatewayTests {
    @Test func requestErrorsSlowRoundTripsAndALeaderChangeLoseNothing() async throws {
        let harness = try await GatewayHarness.start(partitions: 2, brokers: 3)
        let connection = try await TickgateConnection.connect(host: "127.0.0.1", port: harness.port)
        let stream = try await connection.openStream()
        let symbols = ["BTC-USD", "ETH-USD"]
        _ = try await stream.subscribe(symbols)
        let perPhase = 50
        var ticks = makeTicks(symbols: symbols, perSymbol: perPhase * 4)
        func phase(_ index: Int) -> [Tick] {
            ticks.filter { ((Int($0.sequence) - 1) / perPhase) == index }
        }
        ticks.sort { $0.sequence < $1.sequence }

        try await harness.publishAndFlush(phase(0))
        // Failed Fetch and ListOffsets requests (retriable ones). Not
        // Produce: see `failNextReads` for what the mock does with them.
        harness.broker.failNextReads(count: 20)
        try await harness.publishAndFlush(phase(1))
        // Every broker 300 ms slower.
        for id: Int32 in 1...3 { harness.broker.setRoundTrip(broker: id, millis: 300) }
        let slow = ContinuousClock.now
        try await harness.publishAndFlush(phase(2))
        #expect(ContinuousClock.now - slow >= .milliseconds(300), "the round trips were slow (the fault was real)")
        for id: Int32 in 1...3 { harness.broker.setRoundTrip(broker: id, millis: 0) }
        // Each partition's leader moves to another broker.
        for partition: Int32 in 0..<2 { harness.broker.setLeader(topic: "ticks", partition: partition, broker: 2 + partition % 2) }
        try await harness.publishAndFlush(phase(3))

        let got: [TickDelivery]
        do {
            got = try await collect(stream, count: perPhase * 4 * symbols.count, timeout: .seconds(90))
        } catch {
            // What the gateway saw, and what Kafka holds: a loss in the
            // producer's hop, in the gateway's reading, or in the fan-out.
            Issue.record("\(error); gateway: \(harness.gateway.stats.snapshot); in Kafka: \(try await Self.sequencesInKafka(harness))")
            throw error
        }
        for symbol in symbols {
            #expect(got.filter { $0.tick.symbol == symbol }.map(\.tick.sequence) == Array(1...UInt64(perPhase * 4)),
                "\(symbol): every tick once, in order")
        }
        stream.cancel()
        await connection.close()
        await harness.stop()
    }

    /// Every partition read from its beginning: per partition, the offsets
    /// and (symbol, sequence) of what is there.
    static func sequencesInKafka(_ harness: GatewayHarness) async throws -> String {
        let kafka = KafkaConfiguration(brokers: harness.broker.bootstrapServers)
        return try await runOnDedicatedThread(name: "t") { () throws(KafkaError) -> String in
            let reader = try KafkaRangeReader(configuration: kafka, topic: harness.topic, logger: .quiet)
            defer { reader.close() }
            var lines: [String] = []
            for partition: Int32 in 0..<2 {
                let marks = try reader.watermarks(partition: partition).get()
                var found: [String] = []
                _ = reader.read(partition: partition, from: marks.low, through: marks.high - 1) { records in
                    for record in records {
                        let tick = try? WireCodec.decodeTick(Array(record.value))
                        found.append("\(record.offset):\(tick?.symbol ?? "?")#\(tick?.sequence ?? 0)")
                    }
                    return true
                }
                lines.append("[\(partition)] \(marks.low)..<\(marks.high): " + found.joined(separator: " "))
            }
            return lines.joined(separator: "; ")
        }
    }
}
