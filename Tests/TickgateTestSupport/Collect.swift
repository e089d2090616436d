public import TickgateClient
import TickgateModel

public struct CollectTimeout: Error, CustomStringConvertible {
    public let wanted: Int
    public let got: Int
    /// Per symbol: how many arrived, the ticks they say were skipped, and
    /// the sequences missing between the first and the last (so that a
    /// failure shows a loss, a conflation or a stall at once).
    public var detail = ""
    public var description: String { "timed out with \(got) of \(wanted) ticks" + (detail.isEmpty ? "" : ": " + detail) }

    static func summary(_ items: [TickDelivery]) -> String {
        let bySymbol = Dictionary(grouping: items, by: \.tick.symbol)
        return bySymbol.keys.sorted().map { symbol in
            let got = bySymbol[symbol]!
            let sequences = got.map(\.tick.sequence)
            let skipped = got.reduce(0) { $0 + $1.tick.skipped }
            let seen = Set(sequences)
            let missing = (sequences.min() ?? 0)...(sequences.max() ?? 0)
            let absent = missing.filter { !seen.contains($0) }
            return "\(symbol) \(got.count) (seq \(sequences.first ?? 0)…\(sequences.last ?? 0), skipped \(skipped), "
                + "missing \(absent.prefix(10).map(String.init).joined(separator: ","))\(absent.count > 10 ? "…" : ""))"
        }.joined(separator: "; ")
    }
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
        if !finished {
            let items = box.items
            throw CollectTimeout(wanted: count, got: items.count, detail: CollectTimeout.summary(items))
        }
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
