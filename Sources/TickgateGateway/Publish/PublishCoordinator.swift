import Logging
import NIOCore
import Synchronization
import TickgateKafka

/// The gateway's Kafka producer for `Publish` calls, and the routing of
/// delivery reports (on the producer's polling thread) back to the calls
/// that sent them. A lock per delivery report: this is the publish path,
/// not the fan-out path.
final class PublishCoordinator: Sendable {
    let producer: KafkaProducer
    private let ledgers: LedgerRegistry

    init(configuration: KafkaConfiguration, topic: String, logger: Logger) throws(KafkaError) {
        let ledgers = LedgerRegistry()
        self.ledgers = ledgers
        self.producer = try KafkaProducer(configuration: configuration, topic: topic, logger: logger) { token, error in
            ledgers.ledger(token)?.record(error)
        }
    }

    func register(_ ledger: PublishLedger) { ledgers.add(ledger) }
    func unregister(_ ledger: PublishLedger) { ledgers.remove(ledger.token) }

    func close() {
        try? producer.flush(timeout: .seconds(10))
        producer.close()
    }
}

final class LedgerRegistry: Sendable {
    private let entries = Mutex<[UInt64: PublishLedger]>([:])
    func add(_ ledger: PublishLedger) { entries.withLock { $0[ledger.token] = ledger } }
    func remove(_ token: UInt64) { _ = entries.withLock { $0.removeValue(forKey: token) } }
    func ledger(_ token: UInt64) -> PublishLedger? { entries.withLock { $0[token] } }
}

/// One `Publish` call's accounts: sent, delivered, failed. When the client
/// has finished sending and every tick is settled, `onSettled` runs once
/// on the call's event loop.
final class PublishLedger: Sendable {
    private static let nextToken = Atomic<UInt64>(1)

    let token: UInt64
    private let state = Mutex<(sent: UInt64, delivered: UInt64, failed: UInt64, firstError: String, finished: Bool, settled: Bool)>(
        (0, 0, 0, "", false, false))
    private let eventLoop: any EventLoop
    private let onSettled: @Sendable () -> Void

    init(eventLoop: any EventLoop, onSettled: @escaping @Sendable () -> Void) {
        self.token = Self.nextToken.add(1, ordering: .relaxed).oldValue
        self.eventLoop = eventLoop
        self.onSettled = onSettled
    }

    var summary: (sent: UInt64, delivered: UInt64, failed: UInt64, firstError: String) {
        state.withLock { ($0.sent, $0.delivered, $0.failed, $0.firstError) }
    }

    func sent() { state.withLock { $0.sent += 1 } }

    /// The client half-closed: no more ticks.
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

    private func settleIfDone(_ change: (inout (sent: UInt64, delivered: UInt64, failed: UInt64, firstError: String, finished: Bool, settled: Bool)) -> Void) {
        let settle = state.withLock { state -> Bool in
            change(&state)
            guard state.finished, !state.settled, state.delivered + state.failed == state.sent else { return false }
            state.settled = true
            return true
        }
        if settle {
            let onSettled = self.onSettled
            eventLoop.execute { onSettled() }
        }
    }
}
