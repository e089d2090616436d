/// A token bucket for one stream's subscribe and unsubscribe requests:
/// `perSecond` on average, bursts of up to `perSecond`. Pure; the caller
/// passes the (monotonic) clock.
struct RequestRateLimiter {
    let perSecond: Int
    private var tokens: Int64
    private var lastNanos: Int64
    /// One token, in nanoseconds of refill.
    private let cost: Int64

    init(perSecond: Int, now: Int64) {
        self.perSecond = max(1, perSecond)
        self.cost = 1_000_000_000 / Int64(self.perSecond)
        self.tokens = Int64(self.perSecond) * cost
        self.lastNanos = now
    }

    /// nil: allowed (one token taken). Otherwise how long to wait, in ms.
    mutating func take(now: Int64) -> Int64? {
        let capacity = Int64(perSecond) * cost
        tokens = min(capacity, tokens + max(0, now - lastNanos))
        lastNanos = now
        guard tokens >= cost else {
            return max(1, (cost - tokens + 999_999) / 1_000_000)
        }
        tokens -= cost
        return nil
    }
}
