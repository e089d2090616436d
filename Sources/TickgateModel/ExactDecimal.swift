/// An exact decimal number, `mantissa × 10^exponent`.
///
/// Prices and sizes travel as `ExactDecimal` from the feed to the client: no
/// floating-point value is ever computed on the data path. Equality is by
/// representation (`1.50` and `1.5` differ), which keeps round trips exact;
/// use ``isNumericallyEqual(to:)`` to compare values.
public struct ExactDecimal: Hashable, Sendable {
    public var mantissa: Int64
    public var exponent: Int32

    public init(mantissa: Int64, exponent: Int32) {
        self.mantissa = mantissa
        self.exponent = exponent
    }

    public static let zero = ExactDecimal(mantissa: 0, exponent: 0)

    /// Parses a plain decimal string such as `"65000.12"`, `"-0.00000001"`,
    /// `"1e-8"` or `"42"`. Digits past what fits in the mantissa are an error,
    /// never rounded away.
    public init(parsing text: some StringProtocol) throws(DecimalParseError) {
        var utf8 = Substring(text).utf8[...]
        guard !utf8.isEmpty else { throw .empty }
        var negative = false
        if let first = utf8.first, first == UInt8(ascii: "-") || first == UInt8(ascii: "+") {
            negative = first == UInt8(ascii: "-")
            utf8 = utf8.dropFirst()
        }
        var magnitude: UInt64 = 0
        var exponent: Int64 = 0
        var digits = 0
        var sawPoint = false
        var sawDigit = false
        while let byte = utf8.first {
            if byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") {
                sawDigit = true
                let digit = UInt64(byte - UInt8(ascii: "0"))
                if magnitude == 0 && digit == 0 {
                    // Leading zeros add no significant digit.
                } else {
                    let (times10, o1) = magnitude.multipliedReportingOverflow(by: 10)
                    let (sum, o2) = times10.addingReportingOverflow(digit)
                    guard !o1, !o2 else { throw .tooManyDigits(String(text)) }
                    magnitude = sum
                    digits += 1
                }
                if sawPoint { exponent -= 1 }
            } else if byte == UInt8(ascii: ".") {
                guard !sawPoint else { throw .invalid(String(text)) }
                sawPoint = true
            } else if byte == UInt8(ascii: "e") || byte == UInt8(ascii: "E") {
                break
            } else {
                throw .invalid(String(text))
            }
            utf8 = utf8.dropFirst()
        }
        guard sawDigit else { throw .invalid(String(text)) }
        if let byte = utf8.first, byte == UInt8(ascii: "e") || byte == UInt8(ascii: "E") {
            utf8 = utf8.dropFirst()
            guard let power = Int32(Substring(utf8)) else {
                throw .invalid(String(text))
            }
            exponent += Int64(power)
        }
        let limit: UInt64 = negative ? UInt64(Int64.max) + 1 : UInt64(Int64.max)
        guard magnitude <= limit else { throw .tooManyDigits(String(text)) }
        guard let exp32 = Int32(exactly: exponent) else { throw .invalid(String(text)) }
        self.mantissa = negative ? Int64(truncatingIfNeeded: 0 &- magnitude) : Int64(magnitude)
        self.exponent = magnitude == 0 && exp32 > 0 ? 0 : exp32
    }

    /// True when both denote the same number, whatever their scale.
    public func isNumericallyEqual(to other: ExactDecimal) -> Bool {
        normalized() == other.normalized()
    }

    /// The same number with trailing zeros removed from the mantissa.
    public func normalized() -> ExactDecimal {
        if mantissa == 0 { return .zero }
        var m = mantissa
        var e = exponent
        while m % 10 == 0 && e < Int32.max {
            m /= 10
            e += 1
        }
        return ExactDecimal(mantissa: m, exponent: e)
    }
}

extension ExactDecimal: CustomStringConvertible {
    /// Exponents past this print as `mantissa e exponent`: plain notation
    /// of `1e-2000000000` would be two billion characters.
    public static let plainNotationLimit: Int32 = 64

    /// Plain notation with exactly `-exponent` digits after the point
    /// (`65000.10`), or `MeE` (`-5e-100`) beyond ``plainNotationLimit``.
    public var description: String {
        if exponent > Self.plainNotationLimit || exponent < -Self.plainNotationLimit {
            return "\(mantissa)e\(exponent)"
        }
        let negative = mantissa < 0
        var digits = String(mantissa.magnitude)
        if exponent >= 0 {
            if mantissa != 0 && exponent > 0 {
                digits += String(repeating: "0", count: Int(exponent))
            }
        } else {
            let scale = Int(-Int64(exponent))
            if digits.count <= scale {
                digits = String(repeating: "0", count: scale - digits.count + 1) + digits
            }
            digits.insert(".", at: digits.index(digits.endIndex, offsetBy: -scale))
        }
        return negative ? "-" + digits : digits
    }
}

public enum DecimalParseError: Error, Equatable, CustomStringConvertible {
    case empty
    case invalid(String)
    case tooManyDigits(String)

    public var description: String {
        switch self {
        case .empty: return "empty decimal"
        case .invalid(let text): return "not a decimal number: \"\(text)\""
        case .tooManyDigits(let text): return "decimal has more significant digits than fit in 64 bits: \"\(text)\""
        }
    }
}
