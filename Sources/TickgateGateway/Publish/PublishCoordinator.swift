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

    /// Ledgers of calls still open.
    var registeredLedgers: Int { ledgers.count }

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
    var count: Int { entries.withLock { $0.count } }
}
