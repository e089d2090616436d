import Synchronization
import Testing
import TickgateClient
import TickgateGateway
import TickgateModel
import TickgateTestSupport

/// Resume and replay from Kafka: no gap and no duplicate (checked by
/// sequence) on the same gateway, another instance, or after a restart;
/// explicit answers when Kafka no longer holds the ticks; a budget.
@Suite(.serialized, .timeLimit(.minutes(3)))
struct ResumeTests {
    /// Reads until `symbol` reaches `last`, returning its sequences.
    static func read(_ stream: TickStream, symbol: String = "BTC-USD", until last: UInt64) async throws -> [Tick] {
        var got: [Tick] = []
        for try await delivery in stream.ticks where delivery.tick.symbol == symbol {
            got.append(delivery.tick)
            if delivery.tick.sequence >= last { break }
        }
        return got
    }

    @Test func resumeOnARestartedGatewayMissesAndRepeatsNothing() async throws {
        let harness = try await GatewayHarness.start(partitions: 3)
        let all = makeTicks(symbols: ["BTC-USD", "ETH-USD"], perSymbol: 300)
        let btc = { (n: Int) in all.filter { $0.symbol == "BTC-USD" && $0.sequence <= UInt64(n) } }
        let connection = try await TickgateConnection.connect(host: "127.0.0.1", port: harness.port)
        let stream = try await connection.openStream()
        _ = try await stream.subscribe(["BTC-USD"])
        try await harness.publishAndFlush(all.filter { $0.sequence <= 100 })
        let first = try await Self.read(stream, until: 100)
        #expect(first.map(\.sequence) == Array(1...100))
        // The app kept only up to tick 60, then lost its connection; the
        // gateway "restarts" (another instance) while ticks go on.
        let position = first[59].position
        stream.cancel()
        await connection.close()
        try await harness.publishAndFlush(all.filter { $0.sequence > 100 && $0.sequence <= 200 })
        let restarted = try await harness.startAnotherGateway()
        let other = try await TickgateConnection.connect(host: "127.0.0.1", port: restarted.port)
        let resumed = try await other.openStream()
        let statuses = Task { () -> [ResumeStatus] in
            var seen: [ResumeStatus] = []
            for await status in resumed.resumes {
                seen.append(status)
                break
            }
            return seen
        }
        let result = try await resumed.subscribe(["BTC-USD"], options: SubscriptionOptions(resume: [position]))
        #expect(result.accepted == ["BTC-USD"] && result.refused.isEmpty)
        // Live ticks arrive during and after the replay.
        let publishing = Task { try await harness.publishAndFlush(all.filter { $0.sequence > 200 }) }
        let after = try await Self.read(resumed, until: 300)
        try await publishing.value
        #expect(after.map(\.sequence) == Array(61...300), "0 gaps, 0 duplicates across the restart")
        #expect(btc(300).count == 300)
        let status = await statuses.value
        #expect(status.first?.recovered == true && status.first?.symbol == "BTC-USD")
        #expect(status.first?.fromOffset == position.offset + 1)
        #expect(restarted.stats.snapshot.ticksReplayed > 0)
        resumed.cancel()
        await other.close()
        await restarted.shutdown()
        await harness.stop()
    }

    @Test func twoGatewaysAnswerTheSameResumePointIdentically() async throws {
        let harness = try await GatewayHarness.start(partitions: 2)
        try await harness.publishAndFlush(makeTicks(symbols: ["BTC-USD", "SOL-USD"], perSymbol: 80))
        let consumed = await eventually { harness.gateway.stats.snapshot.ticksConsumed == 160 }
        #expect(consumed)
        let second = try await harness.startAnotherGateway()
        let warm = await eventually { !second.stats.snapshot.warmingUp }
        #expect(warm)
        // Where SOL-USD's tick 10 sits, from a snapshot of the first gateway.
        let probe = try await TickgateConnection.connect(host: "127.0.0.1", port: harness.port)
        let probeStream = try await probe.openStream()
        _ = try await probeStream.subscribe(["SOL-USD"], options: SubscriptionOptions(snapshot: true))
        let last = try await collect(probeStream, count: 1).first!.tick
        // Offsets of one symbol's ticks are increasing; tick 10 is 70 ticks back.
        var answers: [[String]] = []
        for port in [harness.port, second.port] {
            let connection = try await TickgateConnection.connect(host: "127.0.0.1", port: port)
            let stream = try await connection.openStream()
            _ = try await stream.subscribe(
                ["SOL-USD"], options: SubscriptionOptions(resume: [KafkaPosition(symbol: "SOL-USD", partition: last.kafkaPartition, offset: -1)]))
            let got = try await Self.read(stream, symbol: "SOL-USD", until: 80)
            answers.append(got.map { "\($0.sequence)@\($0.kafkaPartition):\($0.kafkaOffset) \($0.price)" })
            stream.cancel()
            await connection.close()
        }
        #expect(answers[0].count == 80)
        #expect(answers[0] == answers[1])
        probeStream.cancel()
        await probe.close()
        await second.shutdown()
        await harness.stop()
    }

    @Test func aPositionOlderThanKafkaHoldsIsSaidToBeNotRecovered() async throws {
        let harness = try await GatewayHarness.start(partitions: 1)
        // The embedded broker keeps at most 5 MiB per partition: push the
        // oldest ticks out, as retention does on a real cluster.
        let ticks = makeTicks(symbols: ["BTC-USD"], perSymbol: 8_000).map {
            var tick = $0
            tick.tradeID = String(repeating: "x", count: 900)
            return tick
        }
        for chunk in stride(from: 0, to: ticks.count, by: 2_000) {
            try await harness.publishAndFlush(Array(ticks[chunk..<(chunk + 2_000)]))
        }
        let consumed = await eventually(timeout: .seconds(30)) { harness.gateway.stats.snapshot.ticksConsumed == 8_000 }
        #expect(consumed)
        for live in [false, true] {
            let connection = try await TickgateConnection.connect(host: "127.0.0.1", port: harness.port)
            let stream = try await connection.openStream()
            var statuses = stream.resumes.makeAsyncIterator()
            _ = try await stream.subscribe(
                ["BTC-USD"],
                options: SubscriptionOptions(resume: [KafkaPosition(symbol: "BTC-USD", partition: 0, offset: 5)], liveWhenMissing: live))
            let status = await statuses.next()
            #expect(status?.recovered == false)
            #expect(status?.reason.contains("no longer holds") == true, "\(String(describing: status))")
            if live {
                try await harness.publishAndFlush(makeTicks(symbols: ["BTC-USD"], perSymbol: 1, seed: 9).map {
                    var tick = $0
                    tick.sequence = 8_001
                    return tick
                })
                let next = try await collect(stream, count: 1, timeout: .seconds(10))
                #expect(next.first?.tick.sequence == 8_001, "on_missing live: straight to live ticks")
            } else {
                let oldest = try #require(status?.fromOffset)
                #expect(oldest > 6)
                let next = try await collect(stream, count: 3, timeout: .seconds(30))
                #expect(next.first?.tick.kafkaOffset == oldest, "from the earliest tick Kafka holds")
                #expect(next.map(\.tick.sequence) == Array(UInt64(oldest + 1)...UInt64(oldest + 3)))
            }
            stream.cancel()
            await connection.close()
        }
        #expect(harness.gateway.stats.snapshot.resumesNotRecovered == 2)
        await harness.stop()
    }

    @Test func aSubscriptionCanStartFromATime() async throws {
        let harness = try await GatewayHarness.start(partitions: 2)
        let ticks = makeTicks(symbols: ["ETH-USD"], perSymbol: 60)
        try await harness.publishAndFlush(Array(ticks.prefix(30)))
        try await Task.sleep(for: .milliseconds(50))
        let since = WallClock.nowNanos() / 1_000_000
        try await Task.sleep(for: .milliseconds(50))
        try await harness.publishAndFlush(Array(ticks.suffix(30)))
        let connection = try await TickgateConnection.connect(host: "127.0.0.1", port: harness.port)
        let stream = try await connection.openStream()
        _ = try await stream.subscribe(["ETH-USD"], options: SubscriptionOptions(sinceTimeMillis: since))
        let got = try await Self.read(stream, symbol: "ETH-USD", until: 60)
        #expect(got.map(\.sequence) == Array(31...60))
        stream.cancel()
        await connection.close()
        await harness.stop()
    }

    @Test func overTheBudgetARequestIsRefusedWithARetryHintAndTheStreamStays() async throws {
        let harness = try await GatewayHarness.start(partitions: 1) {
            $0.maxConcurrentReplays = 1
            $0.replayTicksPerSecondPerStream = 200  // 2,000 ticks: 10 s
        }
        try await harness.publishAndFlush(makeTicks(symbols: ["BTC-USD"], perSymbol: 2_000))
        let consumed = await eventually { harness.gateway.stats.snapshot.ticksConsumed == 2_000 }
        #expect(consumed)
        let connection = try await TickgateConnection.connect(host: "127.0.0.1", port: harness.port)
        let slow = try await connection.openStream()
        let from = KafkaPosition(symbol: "BTC-USD", partition: 0, offset: -1)
        _ = try await slow.subscribe(["BTC-USD"], options: SubscriptionOptions(resume: [from]))
        let other = try await connection.openStream()
        let refused = try await other.subscribe(["BTC-USD"], options: SubscriptionOptions(resume: [from]))
        #expect(refused.accepted.isEmpty)
        #expect(refused.refused.map(\.code) == [8])
        #expect(refused.refused.first?.message.contains("retry") == true)
        // The stream stays: a plain subscription works.
        let plain = try await other.subscribe(["ETH-USD"])
        #expect(plain.accepted == ["ETH-USD"])
        #expect(harness.gateway.stats.snapshot.replaysRefused == 1)
        slow.cancel()
        other.cancel()
        await connection.close()
        await harness.stop()
    }
}
