import Synchronization

/// Connections open, in all and per client IP address, against the
/// gateway's limits. Touched when a connection opens or closes only.
final class ConnectionLimiter: Sendable {
    private let maxTotal: Int
    private let maxPerAddress: Int
    private let open = Mutex<(total: Int, byAddress: [String: Int])>((0, [:]))

    init(maxTotal: Int, maxPerAddress: Int) {
        self.maxTotal = maxTotal
        self.maxPerAddress = maxPerAddress
    }

    /// nil: admitted (call `release` when it closes). Otherwise why not,
    /// for the GOAWAY's debug data.
    func admit(_ address: String) -> String? {
        open.withLock { state in
            if state.total >= maxTotal { return "too many connections to this gateway" }
            let mine = state.byAddress[address, default: 0]
            if mine >= maxPerAddress { return "too many connections from this address" }
            state.total += 1
            state.byAddress[address] = mine + 1
            return nil
        }
    }

    func release(_ address: String) {
        open.withLock { state in
            state.total -= 1
            let left = state.byAddress[address, default: 1] - 1
            state.byAddress[address] = left > 0 ? left : nil
        }
    }
}
