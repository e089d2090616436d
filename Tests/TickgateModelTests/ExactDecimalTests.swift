import Testing
import TickgateModel

@Suite struct ExactDecimalTests {
    @Test(arguments: [
        ("0", 0, 0), ("0.00", 0, -2), ("42", 42, 0), ("-42", -42, 0),
        ("65000.12", 6_500_012, -2), ("-0.00000001", -1, -8), ("0.10", 10, -2),
        ("1e-8", 1, -8), ("2.5E3", 25, 2), ("+7.0", 70, -1),
        ("123456789012345678", 123_456_789_012_345_678, 0),
        ("1234567890.12345678", 123_456_789_012_345_678, -8),
        ("9223372036854775807", Int64.max, 0), ("-9223372036854775808", Int64.min, 0),
        ("000123.4500", 1_234_500, -4),
    ] as [(String, Int64, Int32)])
    func parses(text: String, mantissa: Int64, exponent: Int32) throws {
        let value = try ExactDecimal(parsing: text)
        #expect(value == ExactDecimal(mantissa: mantissa, exponent: exponent))
    }

    @Test(arguments: ["", ".", "-", "1.2.3", "abc", "1,5", "12a", "1e", "NaN", "inf"])
    func rejectsMalformed(text: String) {
        #expect(throws: DecimalParseError.self) { try ExactDecimal(parsing: text) }
    }

    @Test(arguments: ["99999999999999999999", "9223372036854775808", "0.000000000000000000012345678901234567891", "1e2147483648"])
    func rejectsDigitsThatDoNotFit(text: String) {
        #expect(throws: DecimalParseError.self) { try ExactDecimal(parsing: text) }
    }

    @Test(arguments: [
        (0, 0, "0"), (0, -2, "0.00"), (5, -3, "0.005"), (-5, -3, "-0.005"), (6_500_012, -2, "65000.12"),
        (12, 3, "12000"), (1, -8, "0.00000001"), (Int64.min, 0, "-9223372036854775808"),
        (123_456_789_012_345_678, -18, "0.123456789012345678"),
        (-5, -100, "-5e-100"), (Int64.min, Int32.min, "-9223372036854775808e-2147483648"), (7, 65, "7e65"),
    ] as [(Int64, Int32, String)])
    func printsPlainNotation(mantissa: Int64, exponent: Int32, text: String) throws {
        let value = ExactDecimal(mantissa: mantissa, exponent: exponent)
        #expect(value.description == text)
        if exponent <= 0 || exponent > ExactDecimal.plainNotationLimit {
            #expect(try ExactDecimal(parsing: text) == value, "round trip through text is exact")
        }
    }

    @Test func numericEqualityIgnoresScale() throws {
        #expect(try ExactDecimal(parsing: "1.50").isNumericallyEqual(to: ExactDecimal(parsing: "1.5")))
        #expect(try ExactDecimal(parsing: "1.50") != ExactDecimal(parsing: "1.5"))
        #expect(try !ExactDecimal(parsing: "1.51").isNumericallyEqual(to: ExactDecimal(parsing: "1.5")))
        #expect(ExactDecimal(mantissa: 0, exponent: -5).isNumericallyEqual(to: .zero))
    }
}
