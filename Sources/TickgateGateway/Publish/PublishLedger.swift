import NIOCore
import Synchronization
import TickgateKafka

/// One `Publish` call's accounts: sent, delivered, failed. When the client
/// has finished sending and every tick is settled, `onSettled` runs once
/// on the call's event loop.
final class PublishLedger: Sendable {
    private static let nextToken = Atomic<UInt64>(1)

    private struct State {
        var sent: UInt64 = 0
        var delivered: UInt64 = 0
        var failed: UInt64 = 0
        var firstError = ""
        var finished = false
        var settled = false

        var settlement: PublishSettlement { PublishSettlement(delivered: delivered, failed: failed, firstError: firstError) }
    }

    let token: UInt64
    private let state = Mutex(State())
    private let eventLoop: any EventLoop
    private let stats: GatewayStats
    private let onSettled: @Sendable (PublishSettlement) -> Void

    init(eventLoop: any EventLoop, stats: GatewayStats, onSettled: @escaping @Sendable (PublishSettlement) -> Void) {
        self.token = Self.nextToken.add(1, ordering: .relaxed).oldValue
        self.eventLoop = eventLoop
        self.stats = stats
        self.onSettled = onSettled
        stats.ledgerObjects.add(1, ordering: .relaxed)
    }

    deinit { stats.ledgerObjects.subtract(1, ordering: .relaxed) }

    /// What Kafka made of the ticks so far.
    var settlement: PublishSettlement { state.withLock { $0.settlement } }

    func sent() { state.withLock { $0.sent += 1 } }

    /// No more ticks will be sent.
    func finishSending() { settleIfDone { $0.finished = true } }

    /// A delivery report (producer thread).
    func record(_ error: KafkaError?) {
        settleIfDone { state in
            if let error {
                state.failed += 1
                if state.firstError.isEmpty { state.firstError = "\(error)" }
            } else {
                state.delivered += 1
            }
        }
    }

    private func settleIfDone(_ change: (inout State) -> Void) {
        let settlement = state.withLock { state -> PublishSettlement? in
            change(&state)
            guard state.finished, !state.settled, state.delivered + state.failed == state.sent else { return nil }
            state.settled = true
            return state.settlement
        }
        if let settlement {
            let onSettled = self.onSettled
            eventLoop.execute { onSettled(settlement) }
        }
    }
}
