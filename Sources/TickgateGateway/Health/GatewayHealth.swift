import Synchronization
import TickgateModel

/// What `grpc.health.v1.Health` answers: SERVING, or NOT_SERVING while the
/// brokers cannot be reached (the reader's last watermark refresh failed)
/// or while the gateway drains.
final class GatewayHealth: Sendable {
    /// The services this gateway serves ("" is the whole server).
    static let services: Set<String> = ["", "tickgate.v1.PriceStream", "grpc.health.v1.Health"]

    private let draining = Atomic<Bool>(false)
    private let brokersReachable: @Sendable () -> Bool

    init(brokersReachable: @escaping @Sendable () -> Bool) {
        self.brokersReachable = brokersReachable
    }

    func startDraining() { draining.store(true, ordering: .relaxed) }

    /// nil for a service this gateway does not serve.
    func status(of service: String) -> HealthStatus? {
        guard Self.services.contains(service) else { return nil }
        return draining.load(ordering: .relaxed) || !brokersReachable() ? .notServing : .serving
    }
}
