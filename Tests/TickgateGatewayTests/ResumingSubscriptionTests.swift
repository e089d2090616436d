import Synchronization
import Testing
import TickgateClient
import TickgateGateway
import TickgateModel
import TickgateTestSupport

/// The client library's reconnecting subscription: across a gateway that
/// goes away and another that takes its port... here, another instance it
/// is pointed at, the app sees every tick once.
@Suite(.serialized, .timeLimit(.minutes(2)))
struct ResumingSubscriptionTests {
    @Test func aGatewayRestartCostsNoTickAndRepeatsNone() async throws {
        let harness = try await GatewayHarness.start(partitions: 3)
        let first = try await harness.startAnotherGateway()
        let port = first.port
        let ticks = makeTicks(symbols: ["BTC-USD", "ETH-USD"], perSymbol: 400)
        let subscription = ResumingSubscription(
            host: "127.0.0.1", port: port, symbols: ["BTC-USD"], backoff: {
                var backoff = ResumingSubscription.Backoff()
                backoff.initial = .milliseconds(50)
                return backoff
            }())
        let seen = Mutex<[Tick]>([])
        let events = Mutex<[String]>([])
        let reader = Task {
            for try await event in subscription.events() {
                switch event {
                case .tick(let delivery):
                    let count = seen.withLock { $0.append(delivery.tick); return $0.count }
                    if delivery.tick.sequence == 400 { return count }
                case .reconnecting(_, _, let reason): events.withLock { $0.append("reconnecting: \(reason)") }
                case .resumed(let statuses): events.withLock { $0.append("resumed \(statuses.map(\.recovered))") }
                case .gap(let symbol, let reason): events.withLock { $0.append("gap \(symbol) \(reason)") }
                }
            }
            return -1
        }
        let subscribed = await eventually { first.stats.snapshot.subscriptions == 1 }
        #expect(subscribed)
        try await harness.publishAndFlush(ticks.filter { $0.sequence <= 150 })
        let gotSome = await eventually { seen.withLock { $0.count } == 150 }
        #expect(gotSome)
        await first.shutdown()
        // Ticks go on while no gateway serves the port.
        try await harness.publishAndFlush(ticks.filter { $0.sequence > 150 && $0.sequence <= 300 })
        let second = try await harness.startAnotherGateway { $0.port = port }
        try await harness.publishAndFlush(ticks.filter { $0.sequence > 300 })
        let count = try await reader.value
        let sequences = seen.withLock { $0.map(\.sequence) }
        #expect(sequences == Array(1...400), "\(events.withLock { $0 })")
        #expect(count == 400)
        #expect(events.withLock { $0 }.contains("resumed [true]"), "\(events.withLock { $0 })")
        await second.shutdown()
        await harness.stop()
    }
}
