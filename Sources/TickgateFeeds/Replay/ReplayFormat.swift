/// The trade-file layouts `tickgate ingest --feed replay` reads.
public enum ReplayFormat: String, Sendable, CaseIterable {
    /// Binance's trade-history download (data.binance.vision `…-trades-….csv`):
    /// `id,price,qty,quote_qty,time,is_buyer_maker,is_best_match`, no header
    /// (a header line is skipped if present); time in ms (µs in newer files).
    case binance
    /// CSV with a header naming the columns: `time`, `symbol`, `price`,
    /// `size` (or `qty`/`quantity`/`amount`), and optionally `side`, `venue`,
    /// `trade_id` (or `id`).
    case csv
    /// One JSON object per line with the same field names; prices and sizes
    /// as decimal strings or JSON numbers, read exactly from their text.
    case ndjson

    /// From the file name: `.ndjson`/`.jsonl` → ndjson, `…-trades-…` → binance, else csv.
    public static func guess(fileName: String) -> ReplayFormat {
        let lower = fileName.lowercased()
        if lower.hasSuffix(".ndjson") || lower.hasSuffix(".jsonl") || lower.hasSuffix(".json") { return .ndjson }
        if lower.contains("-trades-") { return .binance }
        return .csv
    }

    /// `BTCUSDT-trades-2024-01-01.csv` → `BTCUSDT`.
    public static func binanceSymbol(fromFileName fileName: String) -> String? {
        let base = fileName.split(separator: "/").last.map(String.init) ?? fileName
        let parts = base.split(separator: "-", maxSplits: 1)
        guard parts.count == 2, parts[1].hasPrefix("trades-"), !parts[0].isEmpty else { return nil }
        return String(parts[0])
    }
}
