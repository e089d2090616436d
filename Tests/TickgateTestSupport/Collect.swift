public import TickgateClient

public struct CollectTimeout: Error, CustomStringConvertible {
    public let wanted: Int
    public let got: Int
    public var description: String { "timed out with \(got) of \(wanted) ticks" }
}

/// Reads exactly `count` ticks from `stream`, or throws after `timeout`.
public func collect(_ stream: TickStream, count: Int, timeout: Duration = .seconds(20)) async throws -> [TickDelivery] {
    let box = DeliveryBox()
    try await withThrowingTaskGroup(of: Bool.self) { group in
        group.addTask {
            for try await delivery in stream.ticks {
                box.append(delivery)
                if box.count >= count { return true }
            }
            return true
        }
        group.addTask {
            try await Task.sleep(for: timeout)
            return false
        }
        let finished = try await group.next()!
        group.cancelAll()
        if !finished { throw CollectTimeout(wanted: count, got: box.count) }
    }
    return box.items
}

import Synchronization

final class DeliveryBox: Sendable {
    private let storage = Mutex<[TickDelivery]>([])
    func append(_ delivery: TickDelivery) { storage.withLock { $0.append(delivery) } }
    var count: Int { storage.withLock { $0.count } }
    var items: [TickDelivery] { storage.withLock { $0 } }
}
