public import TickgateModel

/// Turns the lines of a trade file into ``TradeRecord``s. A line that cannot
/// be read is an error for that line only; the caller skips and counts it.
public struct ReplayParser: Sendable {
    public let format: ReplayFormat
    /// For files that do not name the symbol (Binance's downloads).
    public let defaultSymbol: Symbol?
    public let defaultVenue: String
    private var columns: [String: Int]? = nil
    public private(set) var lineNumber = 0

    public init(format: ReplayFormat, defaultSymbol: Symbol?, defaultVenue: String) {
        self.format = format
        self.defaultSymbol = defaultSymbol
        self.defaultVenue = defaultVenue
    }

    /// The record on `line`, or nil for a header or blank line.
    public mutating func parse(_ line: Substring) throws(ReplayLineError) -> TradeRecord? {
        lineNumber += 1
        let trimmed = line.hasSuffix("\r") ? line.dropLast() : line
        if trimmed.allSatisfy({ $0 == " " || $0 == "\t" }) { return nil }
        switch format {
        case .binance: return try parseBinance(trimmed)
        case .csv: return try parseCSV(trimmed)
        case .ndjson: return try parseNDJSON(trimmed)
        }
    }

    private func fail(_ reason: String) -> ReplayLineError {
        ReplayLineError(line: lineNumber, reason: reason)
    }

    private func decimal(_ text: some StringProtocol, _ name: String) throws(ReplayLineError) -> ExactDecimal {
        do { return try ExactDecimal(parsing: text) } catch { throw fail("\(name): \(error)") }
    }

    private func symbol(_ text: String?) throws(ReplayLineError) -> Symbol {
        guard let text, !text.isEmpty else {
            guard let defaultSymbol else { throw fail("no symbol on the line and no --symbol given") }
            return defaultSymbol
        }
        do { return try VenueSymbols.canonical(text) } catch { throw fail("\(error)") }
    }

    private func side(_ text: String?) -> Side {
        switch text?.lowercased() {
        case "buy", "b", "bid": return .buy
        case "sell", "s", "ask": return .sell
        default: return .unspecified
        }
    }

    private func time(_ text: Substring) throws(ReplayLineError) -> Int64 {
        guard let nanos = TimeParsing.nanos(text) else { throw fail("unreadable time \"\(text)\"") }
        return nanos
    }

    // id,price,qty,quote_qty,time,is_buyer_maker,is_best_match
    private mutating func parseBinance(_ line: Substring) throws(ReplayLineError) -> TradeRecord? {
        let fields = line.split(separator: ",", omittingEmptySubsequences: false)
        if lineNumber == 1, fields.first == "id" { return nil }
        guard fields.count >= 6 else { throw fail("expected 7 Binance trade columns, got \(fields.count)") }
        let buyerIsMaker: Bool
        switch fields[5].lowercased() {
        case "true": buyerIsMaker = true
        case "false": buyerIsMaker = false
        default: throw fail("is_buyer_maker is \"\(fields[5])\", not true/false")
        }
        return TradeRecord(
            timeNanos: try time(fields[4]), symbol: try symbol(nil), venue: defaultVenue,
            price: try decimal(fields[1], "price"), size: try decimal(fields[2], "qty"),
            // The buyer made the resting order, so the seller was the aggressor.
            side: buyerIsMaker ? .sell : .buy, tradeID: String(fields[0]))
    }

    private static let columnNames: [String: [String]] = [
        "time": ["time", "timestamp", "ts", "trade_time"], "symbol": ["symbol", "pair", "product_id", "instrument"],
        "price": ["price", "px"], "size": ["size", "qty", "quantity", "amount", "volume"], "side": ["side"],
        "venue": ["venue", "exchange"], "trade_id": ["trade_id", "tradeid", "id"],
    ]

    private mutating func parseCSV(_ line: Substring) throws(ReplayLineError) -> TradeRecord? {
        let fields = Self.splitCSV(line)
        guard let columns else {
            var found: [String: Int] = [:]
            for (index, name) in fields.enumerated() {
                let lower = name.lowercased().trimmingSpaces
                for (key, names) in Self.columnNames where names.contains(lower) && found[key] == nil { found[key] = index }
            }
            for required in ["time", "price", "size"] where found[required] == nil {
                throw fail("the header names no \(required) column (\(Self.columnNames[required]!.joined(separator: "/")))")
            }
            self.columns = found
            return nil
        }
        func field(_ key: String) -> String? {
            guard let index = columns[key], index < fields.count else { return nil }
            return fields[index]
        }
        guard let timeText = field("time"), let priceText = field("price"), let sizeText = field("size") else {
            throw fail("expected \(columns.count) columns, got \(fields.count)")
        }
        return TradeRecord(
            timeNanos: try time(Substring(timeText)), symbol: try symbol(field("symbol")),
            venue: field("venue").flatMap { $0.isEmpty ? nil : $0 } ?? defaultVenue,
            price: try decimal(priceText, "price"), size: try decimal(sizeText, "size"),
            side: side(field("side")), tradeID: field("trade_id") ?? "")
    }

    private func parseNDJSON(_ line: Substring) throws(ReplayLineError) -> TradeRecord? {
        let object: [String: JSONValue]
        do { object = try JSONLine.parseObject(line) } catch { throw fail("not a JSON object: \(error)") }
        func text(_ key: String) -> String? {
            for name in Self.columnNames[key]! {
                switch object[name] {
                case .string(let s): return s
                case .number(let n): return n
                case .bool(let b): return String(b)
                default: continue
                }
            }
            return nil
        }
        guard let timeText = text("time") else { throw fail("no time field (time/timestamp/ts)") }
        guard let priceText = text("price") else { throw fail("no price field") }
        guard let sizeText = text("size") else { throw fail("no size field (size/qty/quantity/amount)") }
        return TradeRecord(
            timeNanos: try time(Substring(timeText)), symbol: try symbol(text("symbol")),
            venue: text("venue") ?? defaultVenue, price: try decimal(priceText, "price"),
            size: try decimal(sizeText, "size"), side: side(text("side")), tradeID: text("trade_id") ?? "")
    }

    /// Comma-separated fields; double quotes around a field, `""` inside.
    static func splitCSV(_ line: Substring) -> [String] {
        var fields: [String] = []
        var current = ""
        var quoted = false
        var iterator = line.makeIterator()
        while let ch = iterator.next() {
            if quoted {
                if ch == "\"" {
                    if let next = iterator.next() {
                        if next == "\"" { current.append("\"") } else {
                            quoted = false
                            if next == "," { fields.append(current); current = "" } else { current.append(next) }
                        }
                    } else { quoted = false }
                } else { current.append(ch) }
            } else if ch == "\"" && current.isEmpty {
                quoted = true
            } else if ch == "," {
                fields.append(current)
                current = ""
            } else {
                current.append(ch)
            }
        }
        fields.append(current)
        return fields.map { $0.trimmingSpaces }
    }
}

extension String {
    var trimmingSpaces: String {
        String(drop { $0 == " " || $0 == "\t" }.reversed().drop { $0 == " " || $0 == "\t" }.reversed())
    }
}
