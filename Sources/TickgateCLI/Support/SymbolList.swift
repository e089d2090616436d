import ArgumentParser
import TickgateModel
import TickgateFeeds

/// Parses `BTC-USD,ETH-USD` (and separate arguments), upper-casing input.
enum SymbolList {
    static func parse(_ items: [String], option: String) throws -> [Symbol] {
        var symbols: [Symbol] = []
        for item in items {
            for part in item.split(separator: ",") where !part.isEmpty {
                do {
                    let symbol = try Symbol(validating: part.uppercased())
                    if !symbols.contains(symbol) { symbols.append(symbol) }
                } catch {
                    throw ValidationError("\(option): \(error)")
                }
            }
        }
        guard !symbols.isEmpty else { throw ValidationError("\(option): name at least one symbol, e.g. BTC-USD") }
        return symbols
    }

    /// One symbol in a venue's spelling (`BTCUSDT`, `BTC/USD`) or canonical.
    static func parseVenue(_ text: String) throws -> Symbol {
        do { return try VenueSymbols.canonical(text) } catch { throw ValidationError("--symbol: \(error)") }
    }

    static let demoDefault = "BTC-USD,ETH-USD,SOL-USD,XRP-USD,DOGE-USD,ADA-USD,AVAX-USD,LINK-USD,DOT-USD,LTC-USD,BTC-USDT,ETH-USDT,ETH-BTC,SOL-USDT,BNB-USDT"
}
