/// A canonical instrument symbol, `BASE-QUOTE` in upper case (`BTC-USD`).
///
/// Each side is 1 to 15 characters from `A-Z` and `0-9`; the separator is a
/// single `-`. Venue spellings (`btcusdt`, `BTC/USD`) are mapped to this form
/// by the feed adapters; the gateway accepts only the canonical form.
public struct Symbol: Hashable, Sendable, Comparable, CustomStringConvertible {
    public let rawValue: String

    public static let maximumSideLength = 15

    public init(validating text: some StringProtocol) throws(SymbolError) {
        let utf8 = Substring(text).utf8
        guard !utf8.isEmpty else { throw SymbolError(text: String(text), reason: "empty symbol") }
        var dash: Int? = nil
        var index = 0
        for byte in utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"):
                break
            case UInt8(ascii: "-"):
                guard dash == nil else {
                    throw SymbolError(text: String(text), reason: "more than one '-'")
                }
                dash = index
            case UInt8(ascii: "a")...UInt8(ascii: "z"):
                throw SymbolError(text: String(text), reason: "symbols are upper case, e.g. \(String(text).uppercased())")
            default:
                throw SymbolError(text: String(text), reason: "only A-Z, 0-9 and one '-' are allowed")
            }
            index += 1
        }
        guard let dash else {
            throw SymbolError(text: String(text), reason: "expected BASE-QUOTE, e.g. BTC-USD")
        }
        let baseLength = dash
        let quoteLength = index - dash - 1
        guard baseLength >= 1, quoteLength >= 1 else {
            throw SymbolError(text: String(text), reason: "base and quote must both be present, e.g. BTC-USD")
        }
        guard baseLength <= Self.maximumSideLength, quoteLength <= Self.maximumSideLength else {
            throw SymbolError(text: String(text), reason: "base and quote are at most \(Self.maximumSideLength) characters each")
        }
        self.rawValue = String(text)
    }

    /// For values known to be canonical already (e.g. literals in tests).
    public init(_ literal: StaticString) {
        do {
            try self.init(validating: literal.description)
        } catch {
            preconditionFailure("invalid symbol literal: \(error)")
        }
    }

    public var base: Substring { rawValue[..<rawValue.firstIndex(of: "-")!] }
    public var quote: Substring { rawValue[rawValue.index(after: rawValue.firstIndex(of: "-")!)...] }
    public var description: String { rawValue }

    public static func < (lhs: Symbol, rhs: Symbol) -> Bool { lhs.rawValue < rhs.rawValue }
}

public struct SymbolError: Error, Equatable, CustomStringConvertible {
    public let text: String
    public let reason: String

    public init(text: String, reason: String) {
        self.text = text
        self.reason = reason
    }

    public var description: String { "invalid symbol \"\(text)\": \(reason)" }
}
