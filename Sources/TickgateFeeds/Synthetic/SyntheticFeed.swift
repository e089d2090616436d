public import TickgateModel

/// A seedable random walk per symbol: each tick moves the price a few tick
/// sizes up or down, in integer units of the symbol's precision, so every
/// price is exact. Sequence numbers count up from 1 per symbol.
public struct SyntheticFeed: Sendable {
    public static let venue = "synthetic"

    private struct State: Sendable {
        var instrument: SyntheticInstrument
        var mantissa: Int64
        var sequence: UInt64
    }

    private var states: [State]
    private var random: SplitMix64

    public init(instruments: [SyntheticInstrument], seed: UInt64) {
        precondition(!instruments.isEmpty, "a feed needs at least one symbol")
        self.states = instruments.map { State(instrument: $0, mantissa: $0.startPrice.mantissa, sequence: 0) }
        self.random = SplitMix64(seed: seed)
    }

    public init(symbols: [Symbol], seed: UInt64) {
        self.init(instruments: symbols.map(SyntheticInstrument.defaults(for:)), seed: seed)
    }

    public var symbols: [Symbol] { states.map(\.instrument.symbol) }

    /// The next tick of a randomly chosen symbol, stamped with `now` as its
    /// venue time.
    public mutating func next(now: Int64) -> Tick {
        let index = Int(random.next() % UInt64(states.count))
        return next(symbolIndex: index, now: now)
    }

    /// The next tick of the symbol at `symbolIndex`.
    public mutating func next(symbolIndex index: Int, now: Int64) -> Tick {
        let roll = random.next()
        let step = Int64(roll % 7) - 3  // -3 … +3 tick sizes
        var state = states[index]
        state.mantissa = max(1, state.mantissa + step)
        state.sequence += 1
        states[index] = state
        let sizeMantissa = Int64(1 + (roll >> 8) % 50_000)
        let side: Side = (roll >> 40) & 1 == 0 ? .buy : .sell
        return Tick(
            symbol: state.instrument.symbol.rawValue, venue: Self.venue,
            price: ExactDecimal(mantissa: state.mantissa, exponent: state.instrument.startPrice.exponent),
            size: ExactDecimal(mantissa: sizeMantissa, exponent: state.instrument.sizeExponent),
            side: side, sequence: state.sequence, tradeID: "",
            venueTimeNanos: now)
    }
}
