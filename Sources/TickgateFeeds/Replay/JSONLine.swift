/// A JSON value with numbers kept as their text, so that prices never pass
/// through a floating-point value.
package indirect enum JSONValue: Equatable, Sendable {
    case string(String)
    case number(String)
    case bool(Bool)
    case null
    case object([String: JSONValue])
    case array([JSONValue])

    subscript(key: String) -> JSONValue? {
        if case .object(let members) = self { return members[key] }
        return nil
    }

    /// Strings, and numbers as their exact text.
    var text: String? {
        switch self {
        case .string(let s): return s
        case .number(let n): return n
        case .bool(let b): return String(b)
        default: return nil
        }
    }

    var array: [JSONValue]? {
        if case .array(let items) = self { return items }
        return nil
    }
}

package struct JSONLineError: Error, CustomStringConvertible {
    let reason: String
    package var description: String { reason }
}

/// A strict RFC 8259 reader over the UTF-8 bytes of one document.
///
/// - Exactly one value, with only space, tab, CR and LF around and between
///   tokens; anything after it is an error.
/// - Numbers follow `-? (0 | [1-9][0-9]*) (\.[0-9]+)? ([eE][+-]?[0-9]+)?` and
///   are kept as their exact text (`1.50` stays `"1.50"`).
/// - Strings: the escapes `\" \\ \/ \b \f \n \r \t \uXXXX`, with a UTF-16
///   surrogate pair decoding to one scalar; a lone surrogate, any other
///   escape, or an unescaped U+0000–U+001F is an error.
/// - Duplicate keys: the last one wins.
/// - Objects and arrays nest at most `maxDepth` deep (the reader does not
///   recurse, so deeper input is an error, never a stack overflow).
package enum JSONLine {
    /// Deepest nesting of objects and arrays accepted; a top-level `[]` is depth 1.
    static let maxDepth = 512

    /// Any JSON document (nested objects and arrays kept).
    package static func parse(_ text: Substring) throws(JSONLineError) -> JSONValue {
        try withBytes(text) { (bytes: UnsafeBufferPointer<UInt8>) throws(JSONLineError) -> JSONValue in
            var reader = Reader(bytes: bytes, buildDepth: .max)
            guard let value = try reader.document() else { throw JSONLineError(reason: "empty document") }
            return value
        }
    }

    /// A document that must be an object; its members that are objects or
    /// arrays are checked as strictly as by `parse` but left out of the result
    /// (a flat line's fields are what the caller reads). A key whose last
    /// occurrence is such a nested value is absent.
    package static func parseObject(_ text: Substring) throws(JSONLineError) -> [String: JSONValue] {
        try withBytes(text) { (bytes: UnsafeBufferPointer<UInt8>) throws(JSONLineError) -> [String: JSONValue] in
            var reader = Reader(bytes: bytes, buildDepth: 1)
            reader.skipSpace()
            guard reader.index < bytes.count, bytes[reader.index] == UInt8(ascii: "{") else {
                throw JSONLineError(reason: "expected a JSON object")
            }
            guard case .object(let members)? = try reader.document() else {
                throw JSONLineError(reason: "expected a JSON object")
            }
            return members
        }
    }

    /// The text's UTF-8 bytes without copying them (a Substring's storage is
    /// always valid UTF-8, so slices cut at ASCII bytes decode exactly).
    private static func withBytes<R>(
        _ text: Substring, _ body: (UnsafeBufferPointer<UInt8>) throws(JSONLineError) -> R
    ) throws(JSONLineError) -> R {
        var text = text
        return try text.withUTF8 { bytes in
            Result { () throws(JSONLineError) -> R in try body(bytes) }
        }.get()
    }

    private struct Reader {
        let bytes: UnsafeBufferPointer<UInt8>
        var index = 0
        /// Objects and arrays deeper than this are checked but not built (their value is nil).
        let buildDepth: Int

        init(bytes: UnsafeBufferPointer<UInt8>, buildDepth: Int) {
            self.bytes = bytes
            self.buildDepth = buildDepth
        }

        func error(_ what: String) -> JSONLineError {
            JSONLineError(reason: "\(what) at byte \(index)")
        }

        mutating func skipSpace() {
            while index < bytes.count {
                switch bytes[index] {
                case 0x20, 0x09, 0x0A, 0x0D: index += 1
                default: return
                }
            }
        }

        mutating func take(_ byte: UInt8) -> Bool {
            guard index < bytes.count, bytes[index] == byte else { return false }
            index += 1
            return true
        }

        /// The whole input as one value (nil only for a skipped object/array).
        mutating func document() throws(JSONLineError) -> JSONValue? {
            skipSpace()
            guard index < bytes.count else { throw JSONLineError(reason: "empty document") }
            let value = try value()
            skipSpace()
            guard index == bytes.count else { throw error("text after the document") }
            return value
        }

        /// One value, objects and arrays read with an explicit stack rather
        /// than recursion.
        mutating func value() throws(JSONLineError) -> JSONValue? {
            var open: [UInt8] = []  // the closing byte of each open object/array, innermost last
            var arrays: [[JSONValue]] = []  // the built arrays among them
            var objects: [[String: JSONValue]] = []  // the built objects among them
            var keys: [String] = []  // per built object, the key awaiting its value
            read: while true {
                skipSpace()
                guard index < bytes.count else { throw error("expected a value") }
                let byte = bytes[index]
                var value: JSONValue?
                if byte == UInt8(ascii: "{") || byte == UInt8(ascii: "[") {
                    guard open.count < JSONLine.maxDepth else {
                        throw error("objects and arrays nested deeper than \(JSONLine.maxDepth)")
                    }
                    index += 1
                    let isObject = byte == UInt8(ascii: "{")
                    let close = isObject ? UInt8(ascii: "}") : UInt8(ascii: "]")
                    let build = open.count < buildDepth
                    skipSpace()
                    if take(close) {
                        value = build ? (isObject ? .object([:]) : .array([])) : nil
                    } else {
                        open.append(close)
                        if isObject {
                            let key = try key(build: build)
                            if build {
                                objects.append([:])
                                keys.append(key)
                            }
                        } else if build {
                            arrays.append([])
                        }
                        continue read
                    }
                } else {
                    value = try scalar(build: open.count <= buildDepth)
                }
                // `value` is complete: store it, and close every container that ends after it.
                while let close = open.last {
                    let isObject = close == UInt8(ascii: "}")
                    let built = open.count <= buildDepth
                    if built {
                        // Assigning nil (a skipped nested value) drops an earlier duplicate: the last key wins.
                        if isObject {
                            objects[objects.count - 1][keys.removeLast()] = value
                        } else if let value {
                            arrays[arrays.count - 1].append(value)
                        }
                    }
                    skipSpace()
                    if take(UInt8(ascii: ",")) {
                        if isObject {
                            let key = try key(build: built)
                            if built { keys.append(key) }
                        }
                        continue read
                    }
                    guard take(close) else { throw error(isObject ? "expected ',' or '}'" : "expected ',' or ']'") }
                    open.removeLast()
                    value = built ? (isObject ? .object(objects.removeLast()) : .array(arrays.removeLast())) : nil
                }
                return value
            }
        }

        /// A member's key and the ':' after it.
        mutating func key(build: Bool) throws(JSONLineError) -> String {
            skipSpace()
            guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else { throw error("expected a string key") }
            let key = try string(build: build) ?? ""
            skipSpace()
            guard take(UInt8(ascii: ":")) else { throw error("expected ':' after a key") }
            return key
        }

        /// A string, number or literal (nil when not built).
        mutating func scalar(build: Bool) throws(JSONLineError) -> JSONValue? {
            switch bytes[index] {
            case UInt8(ascii: "\""):
                let s = try string(build: build)
                return s.map { .string($0) }
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
                let range = try number()
                guard build else { return nil }
                return .number(String(decoding: UnsafeBufferPointer(rebasing: bytes[range]), as: UTF8.self))
            case UInt8(ascii: "t"):
                try literal("true")
                return .bool(true)
            case UInt8(ascii: "f"):
                try literal("false")
                return .bool(false)
            case UInt8(ascii: "n"):
                try literal("null")
                return .null
            case UInt8(ascii: "]"), UInt8(ascii: "}"), UInt8(ascii: ","), UInt8(ascii: ":"):
                throw error("expected a value, found '\(Character(Unicode.Scalar(bytes[index])))'")
            case let byte:
                if byte >= 0x21 && byte < 0x7F {
                    throw error("unexpected character '\(Character(Unicode.Scalar(byte)))'")
                }
                throw error("unexpected byte 0x\(String(byte, radix: 16))")
            }
        }

        static func isDigit(_ byte: UInt8) -> Bool {
            byte &- UInt8(ascii: "0") < 10
        }

        /// Bytes that cannot follow a number or literal directly.
        static func continuesToken(_ byte: UInt8) -> Bool {
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "."), UInt8(ascii: "+"), UInt8(ascii: "-"),
                UInt8(ascii: "_"):
                return true
            default:
                return false
            }
        }

        /// Skips digits; false if there were none.
        mutating func digits() -> Bool {
            let start = index
            while index < bytes.count, Self.isDigit(bytes[index]) { index += 1 }
            return index > start
        }

        /// `-? (0 | [1-9][0-9]*) (\.[0-9]+)? ([eE][+-]?[0-9]+)?`, as the range of its bytes.
        mutating func number() throws(JSONLineError) -> Range<Int> {
            let start = index
            _ = take(UInt8(ascii: "-"))
            if take(UInt8(ascii: "0")) {
                // A leading zero stands alone.
            } else if !digits() {
                throw error("malformed number: expected a digit")
            }
            if take(UInt8(ascii: ".")) {
                guard digits() else { throw error("malformed number: expected a digit after '.'") }
            }
            if index < bytes.count, bytes[index] | 0x20 == UInt8(ascii: "e") {
                index += 1
                if !take(UInt8(ascii: "+")) { _ = take(UInt8(ascii: "-")) }
                guard digits() else { throw error("malformed number: expected a digit in the exponent") }
            }
            if index < bytes.count, Self.continuesToken(bytes[index]) {
                throw error("malformed number")
            }
            return start..<index
        }

        mutating func literal(_ word: StaticString) throws(JSONLineError) {
            let matches = word.withUTF8Buffer { w in
                guard bytes.count - index >= w.count else { return false }
                for offset in 0..<w.count where bytes[index + offset] != w[offset] { return false }
                return true
            }
            guard matches else { throw error("invalid literal (expected \(word))") }
            index += word.utf8CodeUnitCount
            if index < bytes.count, Self.continuesToken(bytes[index]) {
                throw error("invalid literal (expected \(word))")
            }
        }

        /// A string from its opening quote (nil when not built; checked either way).
        mutating func string(build: Bool) throws(JSONLineError) -> String? {
            let opening = index
            index += 1
            let start = index
            // Without escapes the string is a slice of the input.
            while index < bytes.count {
                let byte = bytes[index]
                if byte == UInt8(ascii: "\"") {
                    index += 1
                    guard build else { return nil }
                    return String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<(index - 1)]), as: UTF8.self)
                }
                if byte == UInt8(ascii: "\\") { break }
                if byte < 0x20 { throw error("unescaped control character in a string") }
                index += 1
            }
            var out: [UInt8] = []
            if build {
                out.reserveCapacity(index - start + 16)
                out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[start..<index]))
            }
            while index < bytes.count {
                let byte = bytes[index]
                if byte == UInt8(ascii: "\"") {
                    index += 1
                    return build ? String(decoding: out, as: UTF8.self) : nil
                }
                if byte < 0x20 { throw error("unescaped control character in a string") }
                index += 1
                guard byte == UInt8(ascii: "\\") else {
                    if build { out.append(byte) }
                    continue
                }
                guard index < bytes.count else { break }
                let escaped = bytes[index]
                index += 1
                let unescaped: UInt8
                switch escaped {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): unescaped = escaped
                case UInt8(ascii: "b"): unescaped = 0x08
                case UInt8(ascii: "f"): unescaped = 0x0C
                case UInt8(ascii: "n"): unescaped = 0x0A
                case UInt8(ascii: "r"): unescaped = 0x0D
                case UInt8(ascii: "t"): unescaped = 0x09
                case UInt8(ascii: "u"):
                    let scalar = try unicodeEscape()
                    if build { Self.appendUTF8(scalar, to: &out) }
                    continue
                default:
                    index -= 2
                    throw error("invalid escape in a string")
                }
                if build { out.append(unescaped) }
            }
            index = opening
            throw error("unterminated string")
        }

        /// Four hex digits.
        mutating func hex4() throws(JSONLineError) -> UInt32 {
            guard bytes.count - index >= 4 else { throw error("\\u escape needs four hex digits") }
            var code: UInt32 = 0
            for _ in 0..<4 {
                let byte = bytes[index]
                let digit: UInt8
                switch byte {
                case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
                case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
                case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
                default: throw error("\\u escape needs four hex digits")
                }
                code = code << 4 | UInt32(digit)
                index += 1
            }
            return code
        }

        /// After `\u`: one scalar, from a UTF-16 surrogate pair if need be.
        mutating func unicodeEscape() throws(JSONLineError) -> UInt32 {
            let first = try hex4()
            switch first {
            case 0xD800...0xDBFF:
                guard bytes.count - index >= 2, bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u") else {
                    throw error("high surrogate \\u\(String(first, radix: 16, uppercase: true)) without a low surrogate")
                }
                index += 2
                let second = try hex4()
                guard (0xDC00...0xDFFF).contains(second) else {
                    throw error("high surrogate \\u\(String(first, radix: 16, uppercase: true)) without a low surrogate")
                }
                return 0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00)
            case 0xDC00...0xDFFF:
                throw error("low surrogate \\u\(String(first, radix: 16, uppercase: true)) without a high surrogate")
            default:
                return first
            }
        }

        /// UTF-8 of a scalar (never a surrogate here).
        static func appendUTF8(_ scalar: UInt32, to out: inout [UInt8]) {
            switch scalar {
            case ..<0x80:
                out.append(UInt8(scalar))
            case ..<0x800:
                out.append(UInt8(0xC0 | scalar >> 6))
                out.append(UInt8(0x80 | scalar & 0x3F))
            case ..<0x10000:
                out.append(UInt8(0xE0 | scalar >> 12))
                out.append(UInt8(0x80 | scalar >> 6 & 0x3F))
                out.append(UInt8(0x80 | scalar & 0x3F))
            default:
                out.append(UInt8(0xF0 | scalar >> 18))
                out.append(UInt8(0x80 | scalar >> 12 & 0x3F))
                out.append(UInt8(0x80 | scalar >> 6 & 0x3F))
                out.append(UInt8(0x80 | scalar & 0x3F))
            }
        }
    }
}
