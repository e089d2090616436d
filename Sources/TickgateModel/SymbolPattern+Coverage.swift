extension SymbolPattern {
    /// True when every symbol `other` can match, this matches too: what an
    /// API key's allowed pattern decides about a requested one. `*` covers
    /// everything; `BTC-*` covers itself and each `BTC-...` symbol; a
    /// symbol covers only itself.
    public func covers(_ other: SymbolPattern) -> Bool {
        switch (self, other) {
        case (.all, _): return true
        case (_, .exact(let symbol)): return matches(symbol)
        case (.base(let mine), .base(let theirs)): return mine == theirs
        case (.quote(let mine), .quote(let theirs)): return mine == theirs
        default: return false
        }
    }
}
