/// A JSON value with numbers kept as their text, so that prices never pass
/// through a floating-point value.
indirect enum JSONValue: Equatable, Sendable {
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

struct JSONLineError: Error, CustomStringConvertible {
    let reason: String
    var description: String { reason }
}

enum JSONLine {
    /// Any JSON document (nested objects and arrays kept).
    static func parse(_ text: Substring) throws(JSONLineError) -> JSONValue {
        var scanner = Scanner(bytes: Array(text.utf8), keepNested: true)
        scanner.skipSpace()
        guard let value = try scanner.value() else { throw JSONLineError(reason: "empty document") }
        scanner.skipSpace()
        guard scanner.atEnd else { throw JSONLineError(reason: "text after the document") }
        return value
    }

    static func parseObject(_ text: Substring) throws(JSONLineError) -> [String: JSONValue] {
        var scanner = Scanner(bytes: Array(text.utf8))
        scanner.skipSpace()
        guard scanner.take(UInt8(ascii: "{")) else { throw JSONLineError(reason: "expected a JSON object") }
        var object: [String: JSONValue] = [:]
        scanner.skipSpace()
        if scanner.take(UInt8(ascii: "}")) { return object }
        while true {
            scanner.skipSpace()
            let key = try scanner.string()
            scanner.skipSpace()
            guard scanner.take(UInt8(ascii: ":")) else { throw JSONLineError(reason: "expected ':' after \"\(key)\"") }
            scanner.skipSpace()
            if let value = try scanner.value() { object[key] = value }
            scanner.skipSpace()
            if scanner.take(UInt8(ascii: ",")) { continue }
            guard scanner.take(UInt8(ascii: "}")) else { throw JSONLineError(reason: "expected ',' or '}'") }
            scanner.skipSpace()
            guard scanner.atEnd else { throw JSONLineError(reason: "text after the object") }
            return object
        }
    }

    struct Scanner {
        let bytes: [UInt8]
        var index = 0
        /// false: nested objects and arrays are skipped (flat lines).
        var keepNested = false
        var depth = 0

        init(bytes: [UInt8], keepNested: Bool = false) {
            self.bytes = bytes
            self.keepNested = keepNested
        }

        var atEnd: Bool { index >= bytes.count }

        mutating func skipSpace() {
            while index < bytes.count, [32, 9, 10, 13].contains(bytes[index]) { index += 1 }
        }

        mutating func take(_ byte: UInt8) -> Bool {
            guard index < bytes.count, bytes[index] == byte else { return false }
            index += 1
            return true
        }

        mutating func string() throws(JSONLineError) -> String {
            guard take(UInt8(ascii: "\"")) else { throw JSONLineError(reason: "expected a string") }
            var out: [UInt8] = []
            while index < bytes.count {
                let byte = bytes[index]
                index += 1
                switch byte {
                case UInt8(ascii: "\""):
                    return String(decoding: out, as: UTF8.self)
                case UInt8(ascii: "\\"):
                    guard index < bytes.count else { break }
                    let escaped = bytes[index]
                    index += 1
                    switch escaped {
                    case UInt8(ascii: "n"): out.append(10)
                    case UInt8(ascii: "t"): out.append(9)
                    case UInt8(ascii: "r"): out.append(13)
                    case UInt8(ascii: "b"): out.append(8)
                    case UInt8(ascii: "f"): out.append(12)
                    case UInt8(ascii: "u"):
                        guard index + 4 <= bytes.count,
                              let code = UInt32(String(decoding: bytes[index..<(index + 4)], as: UTF8.self), radix: 16) else {
                            throw JSONLineError(reason: "bad \\u escape")
                        }
                        index += 4
                        out.append(contentsOf: Array(String(Unicode.Scalar(code).map(Character.init) ?? "\u{FFFD}").utf8))
                    default: out.append(escaped)
                    }
                default:
                    out.append(byte)
                }
            }
            throw JSONLineError(reason: "unterminated string")
        }

        /// A value, or nil for a skipped nested object/array.
        mutating func value() throws(JSONLineError) -> JSONValue? {
            guard index < bytes.count else { throw JSONLineError(reason: "expected a value") }
            switch bytes[index] {
            case UInt8(ascii: "\""): return .string(try string())
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                guard keepNested else {
                    try skipNested()
                    return nil
                }
                return try nested()
            case UInt8(ascii: "t"): return try literal("true", .bool(true))
            case UInt8(ascii: "f"): return try literal("false", .bool(false))
            case UInt8(ascii: "n"): return try literal("null", .null)
            default:
                let start = index
                while index < bytes.count, "+-0123456789.eE".utf8.contains(bytes[index]) { index += 1 }
                guard index > start else { throw JSONLineError(reason: "unexpected character") }
                return .number(String(decoding: bytes[start..<index], as: UTF8.self))
            }
        }

        mutating func nested() throws(JSONLineError) -> JSONValue {
            depth += 1
            defer { depth -= 1 }
            guard depth < 64 else { throw JSONLineError(reason: "nested too deeply") }
            if take(UInt8(ascii: "[")) {
                var items: [JSONValue] = []
                skipSpace()
                if take(UInt8(ascii: "]")) { return .array(items) }
                while true {
                    skipSpace()
                    if let item = try value() { items.append(item) }
                    skipSpace()
                    if take(UInt8(ascii: ",")) { continue }
                    guard take(UInt8(ascii: "]")) else { throw JSONLineError(reason: "expected ',' or ']'") }
                    return .array(items)
                }
            }
            _ = take(UInt8(ascii: "{"))
            var members: [String: JSONValue] = [:]
            skipSpace()
            if take(UInt8(ascii: "}")) { return .object(members) }
            while true {
                skipSpace()
                let key = try string()
                skipSpace()
                guard take(UInt8(ascii: ":")) else { throw JSONLineError(reason: "expected ':' after \"\(key)\"") }
                skipSpace()
                if let item = try value() { members[key] = item }
                skipSpace()
                if take(UInt8(ascii: ",")) { continue }
                guard take(UInt8(ascii: "}")) else { throw JSONLineError(reason: "expected ',' or '}'") }
                return .object(members)
            }
        }

        mutating func literal(_ word: String, _ value: JSONValue) throws(JSONLineError) -> JSONValue {
            let w = Array(word.utf8)
            guard index + w.count <= bytes.count, Array(bytes[index..<(index + w.count)]) == w else {
                throw JSONLineError(reason: "unexpected literal")
            }
            index += w.count
            return value
        }

        mutating func skipNested() throws(JSONLineError) {
            var depth = 0
            while index < bytes.count {
                switch bytes[index] {
                case UInt8(ascii: "\""):
                    _ = try string()
                    continue
                case UInt8(ascii: "{"), UInt8(ascii: "["): depth += 1
                case UInt8(ascii: "}"), UInt8(ascii: "]"):
                    depth -= 1
                    if depth == 0 {
                        index += 1
                        return
                    }
                default: break
                }
                index += 1
            }
            throw JSONLineError(reason: "unterminated object or array")
        }
    }
}
