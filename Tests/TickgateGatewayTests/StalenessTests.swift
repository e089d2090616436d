import Synchronization
import Testing
import TickgateClient
import TickgateGateway
import TickgateModel
import TickgateTestSupport

/// Subscribers learn when a symbol goes quiet and when it comes back.
@Suite(.serialized, .timeLimit(.minutes(1)))
struct StalenessTests {
    @Test func quietSymbolIsReportedStaleThenLiveAgain() async throws {
        let harness = try await GatewayHarness.start(partitions: 2) { $0.staleAfter = .milliseconds(600) }
        let connection = try await TickgateConnection.connect(host: "127.0.0.1", port: harness.port)
        let stream = try await connection.openStream()
        _ = try await stream.subscribe(["BTC-USD", "ETH-USD"])
        let statuses = StatusLog()
        let reader = Task { for await status in stream.statuses { statuses.append(status) } }

        try await harness.publishAndFlush(makeTicks(symbols: ["BTC-USD", "ETH-USD"], perSymbol: 1))
        _ = try await collect(stream, count: 2)
        // No timing assumption here (a loaded CI box can take longer than
        // 600 ms to get this far): what must hold is that nothing is called
        // stale before 600 ms without a tick, checked below.

        let bothStale = await eventually(timeout: .seconds(10)) { statuses.all.filter(\.stale).count == 2 }
        #expect(bothStale, "\(statuses.all)")
        #expect(Set(statuses.all.map(\.symbol)) == ["BTC-USD", "ETH-USD"])
        #expect(statuses.all.allSatisfy { $0.lastTickTimeNanos > 0 })
        #expect(statuses.everyStaleCameAfter(.milliseconds(600)), "stale only after 600 ms without a tick")

        // A late subscriber to a stale symbol is told at once.
        let late = try await connection.openStream()
        let lateStatuses = StatusLog()
        let lateReader = Task { for await status in late.statuses { lateStatuses.append(status) } }
        _ = try await late.subscribe(["ETH-USD"])
        let toldAtOnce = await eventually(timeout: .seconds(5)) { lateStatuses.all.contains { $0.symbol == "ETH-USD" && $0.stale } }
        #expect(toldAtOnce)

        // BTC-USD ticks again: "live" comes before its tick.
        try await harness.publishAndFlush(makeTicks(symbols: ["BTC-USD"], perSymbol: 2).suffix(1))
        let tick = try await collect(stream, count: 1)
        #expect(tick.first?.tick.symbol == "BTC-USD")
        let live = await eventually(timeout: .seconds(5)) { statuses.all.contains { $0.symbol == "BTC-USD" && !$0.stale } }
        #expect(live)
        #expect(Array(statuses.all.filter { $0.symbol == "BTC-USD" }.map(\.stale).prefix(2)) == [true, false], "it may go stale again later")

        reader.cancel()
        lateReader.cancel()
        stream.cancel()
        late.cancel()
        await connection.close()
        await harness.stop()
    }
}

final class StatusLog: Sendable {
    private let items = Mutex<[(status: SymbolStatusUpdate, seenNanos: Int64)]>([])
    func append(_ status: SymbolStatusUpdate) { items.withLock { $0.append((status, WallClock.nowNanos())) } }
    var all: [SymbolStatusUpdate] { items.withLock { $0.map(\.status) } }

    /// Every stale status arrived at least `limit` after the last tick it
    /// names (same machine, same wall clock as the gateway's).
    func everyStaleCameAfter(_ limit: Duration) -> Bool {
        items.withLock { entries in
            entries.filter(\.status.stale).allSatisfy { $0.seenNanos - $0.status.lastTickTimeNanos >= limit.wholeNanoseconds }
        }
    }
}
