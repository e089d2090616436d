import Synchronization

/// One key's rights and what it holds open, gateway-wide (the anonymous
/// grant, without a key file). Shared by every call made with the key;
/// touched when calls and connections open and close, never per delivery.
final class Grant: Sendable {
    /// The key's name from the keys file (never the key itself).
    let name: String
    let rights: AccessRights
    private let connections = Atomic<Int>(0)
    private let streams = Atomic<Int>(0)
    private let revoked = Atomic<Bool>(false)

    init(name: String, rights: AccessRights) {
        self.name = name
        self.rights = rights
    }

    /// Health checks: no key needed, nothing counted.
    static let healthProbe = Grant(name: "health", rights: AccessRights(subscribe: []))

    func acquireConnection() -> Bool { Self.acquire(connections, limit: rights.limits.connections) }
    func releaseConnection() { connections.subtract(1, ordering: .relaxed) }
    func acquireStream() -> Bool { Self.acquire(streams, limit: rights.limits.streams) }
    func releaseStream() { streams.subtract(1, ordering: .relaxed) }

    /// The key left the keys file, or its rights changed: calls made with
    /// it end (UNAUTHENTICATED) at the connection's next periodic check.
    var isRevoked: Bool { revoked.load(ordering: .relaxed) }
    func revoke() { revoked.store(true, ordering: .relaxed) }

    private static func acquire(_ counter: borrowing Atomic<Int>, limit: Int?) -> Bool {
        guard let limit else {
            counter.add(1, ordering: .relaxed)
            return true
        }
        var current = counter.load(ordering: .relaxed)
        while current < limit {
            let (exchanged, original) = counter.compareExchange(expected: current, desired: current + 1, ordering: .relaxed)
            if exchanged { return true }
            current = original
        }
        return false
    }
}
