import Testing
@testable import TickgateFeeds

/// JSONLine as a strict RFC 8259 reader, in both modes: `parse` (everything
/// kept) and `parseObject` (a flat object; nested values checked, then dropped).
@Suite struct JSONLineTests {
    /// `text` refused as a whole document, as an array element, as a member
    /// value kept by `parse`, and as a member value skipped by `parseObject`.
    func refusedEverywhere(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(throws: JSONLineError.self, sourceLocation: sourceLocation) { try JSONLine.parse(Substring(text)) }
        #expect(throws: JSONLineError.self, sourceLocation: sourceLocation) { try JSONLine.parse(Substring("[\(text)]")) }
        #expect(throws: JSONLineError.self, sourceLocation: sourceLocation) { try JSONLine.parse(Substring(#"{"a":\#(text)}"#)) }
        #expect(throws: JSONLineError.self, sourceLocation: sourceLocation) { try JSONLine.parseObject(Substring(#"{"a":\#(text)}"#)) }
        #expect(throws: JSONLineError.self, sourceLocation: sourceLocation) { try JSONLine.parseObject(Substring(#"{"a":[\#(text)]}"#)) }
        #expect(throws: JSONLineError.self, sourceLocation: sourceLocation) { try JSONLine.parseObject(Substring(#"{"a":{"b":\#(text)}}"#)) }
    }

    // MARK: Strings

    @Test func surrogatePairIsOneScalar() throws {
        let value = try JSONLine.parse(#""\uD83D\uDE00""#)
        #expect(value == .string("\u{1F600}"))
        #expect(value.text?.unicodeScalars.map(\.value) == [0x1F600])
        #expect(try JSONLine.parse(#""a\ud83d\ude00b""#) == .string("a\u{1F600}b"))
        #expect(try JSONLine.parse(#""\uD800\uDC00\uDBFF\uDFFF""#) == .string("\u{10000}\u{10FFFF}"))
        #expect(try JSONLine.parseObject(#"{"e":"\uD83D\uDE00"}"#) == ["e": .string("\u{1F600}")])
    }

    @Test(arguments: [
        #""\uD83D""#, #""\uDE00\uD83D""#, #""\uD83Dx""#, #""\uDE00""#, #""\uD83D\uD83D""#, #""\uD83D\u0041""#,
        #""\uD83D\n""#, #""\uD83D\u""#,
    ])
    func loneOrMisorderedSurrogateIsAnError(text: String) {
        refusedEverywhere(text)
    }

    @Test func everyEscape() throws {
        #expect(try JSONLine.parse(#""\"\\\/\b\f\n\r\t""#) == .string("\"\\/\u{08}\u{0C}\n\r\t"))
        #expect(try JSONLine.parse(#""a\u0041\u00e9\u20AC\u0000z""#) == .string("aAé€\u{0}z"))
        #expect(try JSONLine.parse(#""\u002F\u005c""#) == .string("/\\"))
        #expect(try JSONLine.parse(#""x\"y""#) == .string("x\"y"))
        #expect(try JSONLine.parse(#""""#) == .string(""))
        #expect(try JSONLine.parse("\"é€😀\u{7F}\"") == .string("é€😀\u{7F}"), "non-ASCII and DEL need no escape")
        #expect(try JSONLine.parseObject(#"{"k\n":"v\t"}"#) == ["k\n": .string("v\t")])
    }

    @Test(arguments: [
        #""\x""#, #""\u12G4""#, #""\u123""#, #""\u""#, #""\'""#, #""\a""#, #""\v""#, #""\0""#, #""\U0041""#,
        #""\u+123""#, #""\u-123""#, #""\ u0041""#, #""\""#, #""abc"#, "\"",
    ])
    func invalidEscapeOrUnterminatedStringIsAnError(text: String) {
        refusedEverywhere(text)
    }

    @Test(arguments: 0..<0x20)
    func unescapedControlCharacterIsAnError(code: Int) {
        let control = Character(Unicode.Scalar(UInt8(code)))
        refusedEverywhere("\"a\(control)b\"")
        refusedEverywhere("\"\\n\(control)\"")
        #expect(throws: JSONLineError.self) { try JSONLine.parseObject(Substring("{\"\(control)\":1}")) }
        #expect(throws: JSONLineError.self) { try JSONLine.parseObject(Substring("{\"a\":{\"\(control)\":1}}")) }
    }

    // MARK: Numbers

    @Test(arguments: [
        "0", "-0", "1", "-1", "10", "1.50", "0.5", "-0.0", "1e5", "1E5", "1e+5", "1e-5", "1.5e10", "-1.25E-3",
        "0e0", "1E+0", "123456789012345678901234567890", "3765.123456789012345",
    ])
    func numberKeepsItsExactText(text: String) throws {
        #expect(try JSONLine.parse(Substring(text)) == .number(text))
        #expect(try JSONLine.parse(Substring(" \(text) ")) == .number(text))
        #expect(try JSONLine.parse(Substring("[\(text),\(text)]")) == .array([.number(text), .number(text)]))
        #expect(try JSONLine.parseObject(Substring(#"{"p":\#(text)}"#)) == ["p": .number(text)])
        #expect(try JSONLine.parse(Substring(#"{"p":\#(text)}"#))["p"]?.text == text)
    }

    @Test(arguments: [
        "01", "+1", "1-2", "1.", ".5", "1e", "--1", "-", "1e+", "0x10", "00", "-01", "012.5", "1.e5", "1e5.5",
        "1.5.5", "1..2", "1e-", "1ee5", "1E2E3", "- 1", "-.5", "0.", "1_000", "NaN", "Infinity", "-Infinity",
    ])
    func malformedNumberIsAnError(text: String) {
        refusedEverywhere(text)
    }

    // MARK: Literals

    @Test func literals() throws {
        #expect(try JSONLine.parse("true") == .bool(true))
        #expect(try JSONLine.parse("false") == .bool(false))
        #expect(try JSONLine.parse("null") == .null)
        #expect(try JSONLine.parse("[true,false,null]") == .array([.bool(true), .bool(false), .null]))
        #expect(try JSONLine.parseObject(#"{"t":true,"f":false,"n":null}"#) == ["t": .bool(true), "f": .bool(false), "n": .null])
    }

    @Test(arguments: ["tru", "nul", "fals", "t", "truex", "falsey", "nulll", "true1", "null_", "True", "NULL", "undefined"])
    func misspelledLiteralIsAnError(text: String) {
        refusedEverywhere(text)
    }

    // MARK: Objects and arrays

    @Test func nestedValuesAreKeptByParseAndSkippedByParseObject() throws {
        let line = #"{"a":[1,{"b":[true,false,null]},"x"],"o":{"k":{"z":[]}},"e":{},"n":2}"#
        #expect(try JSONLine.parse(Substring(line)) == .object([
            "a": .array([.number("1"), .object(["b": .array([.bool(true), .bool(false), .null])]), .string("x")]),
            "o": .object(["k": .object(["z": .array([])])]),
            "e": .object([:]),
            "n": .number("2"),
        ]))
        #expect(try JSONLine.parseObject(Substring(line)) == ["n": .number("2")])
        #expect(try JSONLine.parse("[[[]]]") == .array([.array([.array([])])]))
        #expect(try JSONLine.parse(" [ ] ") == .array([]))
        #expect(try JSONLine.parse(" { } ") == .object([:]))
        #expect(try JSONLine.parseObject(" { } ") == [:])
    }

    @Test func bracketsInsideStringsAreText() throws {
        let line = #"{"a":"]}[{","b":[ "]", "}", "\"]" ],"c":1}"#
        #expect(try JSONLine.parseObject(Substring(line)) == ["a": .string("]}[{"), "c": .number("1")])
        #expect(try JSONLine.parse(Substring(line))["b"] == .array([.string("]"), .string("}"), .string("\"]")]))
    }

    /// Malformed objects and arrays, including inside the values `parseObject` skips.
    @Test(arguments: [
        #"{"a":[1,2}"#, #"{"a":{"b":1]}"#, #"{"a":[1,,2]}"#, #"{"a":[1,2,]}"#, #"{"a":[}"#, #"{"a":{]}"#,
        #"{"a":[1,2},"b":1}"#, #"{"a":{"b":1],"c":2}"#, #"{"a":[{]},"b":1}"#,
        #"{"a":[,1]}"#, #"{"a":[1 2]}"#, #"{"a":[1,2]]}"#, #"{"a":[[1,2]}"#, #"{"a":[1,2}]}"#, #"{"a":{"b":[}]}"#,
        #"{"a":{"b"}}"#, #"{"a":{"b":}}"#, #"{"a":{1:2}}"#, #"{"a":{"b":1,}}"#, #"{"a":{"b":1 "c":2}}"#, #"{"a":{,}}"#,
        #"{"a":["x]}"#, #"{"a":[tru]}"#, #"{"a":[x]}"#, #"{"a":["\x"]}"#, #"{"a":{"\uD800":1}}"#,
        #"{"a":[1]"#, #"{"a":{"b":1}"#, #"{"a":[1]}}"#,
        #"{"a":1,}"#, #"{,"a":1}"#, #"{"a" 1}"#, #"{"a":1 "b":2}"#, #"{"a":}"#, #"{a:1}"#, #"{'a':1}"#,
    ])
    func malformedObjectIsAnErrorInBothModes(text: String) {
        #expect(throws: JSONLineError.self) { try JSONLine.parse(Substring(text)) }
        #expect(throws: JSONLineError.self) { try JSONLine.parseObject(Substring(text)) }
    }

    @Test(arguments: ["[1,2", "[1,2}", "[1,,2]", "[1,2,]", "[,]", "[,1]", "[", "]", "{", "}", "{}}", "[]]", "[[]", "[1 2]", #"{"a":1"#])
    func malformedDocumentIsAnError(text: String) {
        #expect(throws: JSONLineError.self) { try JSONLine.parse(Substring(text)) }
    }

    @Test(arguments: ["[1,2]", "1", #""x""#, "null", "", "   "])
    func parseObjectNeedsAnObject(text: String) {
        #expect(throws: JSONLineError.self) { try JSONLine.parseObject(Substring(text)) }
    }

    @Test(arguments: ["", " ", "\n", "1 2", "{} {}", "{}x", "[] ,", #""a" "b""#, "true false", "null,", #"{"a":1}}"#, #"{"a":1},"#, "1 //c"])
    func textAfterTheDocumentOrNoDocumentIsAnError(text: String) {
        #expect(throws: JSONLineError.self) { try JSONLine.parse(Substring(text)) }
        #expect(throws: JSONLineError.self) { try JSONLine.parseObject(Substring(text)) }
    }

    /// RFC 8259 leaves duplicate names open; the last one wins, as in most readers.
    @Test func duplicateKeyKeepsTheLast() throws {
        #expect(try JSONLine.parse(#"{"a":1,"a":2}"#) == .object(["a": .number("2")]))
        #expect(try JSONLine.parseObject(#"{"a":1,"a":2}"#) == ["a": .number("2")])
        #expect(try JSONLine.parse(#"{"a":{"x":1},"a":"s"}"#) == .object(["a": .string("s")]))
        #expect(try JSONLine.parseObject(#"{"a":{"x":1},"a":"s"}"#) == ["a": .string("s")])
        #expect(try JSONLine.parse(#"{"o":{"k":1,"k":true}}"#) == .object(["o": .object(["k": .bool(true)])]))
        // parseObject drops nested values, so a key whose last value is nested is absent.
        #expect(try JSONLine.parseObject(#"{"a":"s","a":{"x":1}}"#) == [:])
    }

    // MARK: Whitespace

    @Test func spaceTabCRLFAreWhitespace() throws {
        let ws = " \t\r\n"
        let line = "\(ws){\(ws)\"a\"\(ws):\(ws)[\(ws)1\(ws),\(ws)2\(ws)]\(ws),\(ws)\"b\"\(ws):\(ws)\"c\"\(ws)}\(ws)"
        #expect(try JSONLine.parse(Substring(line)) == .object(["a": .array([.number("1"), .number("2")]), "b": .string("c")]))
        #expect(try JSONLine.parseObject(Substring(line)) == ["b": .string("c")])
    }

    @Test(arguments: ["\u{0B}", "\u{0C}", "\u{85}", "\u{A0}", "\u{2028}", "\u{3000}", "\u{FEFF}"])
    func otherWhitespaceIsAnError(space: String) {
        #expect(throws: JSONLineError.self) { try JSONLine.parse(Substring("\(space)1")) }
        #expect(throws: JSONLineError.self) { try JSONLine.parse(Substring("1\(space)")) }
        #expect(throws: JSONLineError.self) { try JSONLine.parse(Substring("[1,\(space)2]")) }
        #expect(throws: JSONLineError.self) { try JSONLine.parseObject(Substring("{\(space)\"a\":1}")) }
        #expect(throws: JSONLineError.self) { try JSONLine.parseObject(Substring("{\"a\":[1,\(space)2]}")) }
    }

    // MARK: Depth

    @Test func nestingUpToTheLimitIsRead() throws {
        let depth = JSONLine.maxDepth
        #expect(depth == 512)
        var expected = JSONValue.array([])
        for _ in 1..<depth { expected = .array([expected]) }
        let text = String(repeating: "[", count: depth) + String(repeating: "]", count: depth)
        #expect(try JSONLine.parse(Substring(text)) == expected)
        // parseObject's own object is level 1.
        let inner = String(repeating: "[", count: depth - 1) + String(repeating: "]", count: depth - 1)
        #expect(try JSONLine.parseObject(Substring(#"{"a":\#(inner),"b":1}"#)) == ["b": .number("1")])
    }

    @Test func deeperNestingIsAnErrorNotAStackOverflow() throws {
        let depth = JSONLine.maxDepth + 1
        #expect(throws: JSONLineError.self) {
            try JSONLine.parse(Substring(String(repeating: "[", count: depth) + String(repeating: "]", count: depth)))
        }
        let deep = 100_000
        let error = try #require(throws: JSONLineError.self) {
            try JSONLine.parse(Substring(String(repeating: "[", count: deep)))
        }
        #expect(error.reason.contains("nested deeper than 512"), "\(error)")
        #expect(throws: JSONLineError.self) {
            try JSONLine.parse(Substring(String(repeating: "[", count: deep) + String(repeating: "]", count: deep)))
        }
        #expect(throws: JSONLineError.self) {
            try JSONLine.parse(Substring(String(repeating: #"{"a":"#, count: deep) + "1" + String(repeating: "}", count: deep)))
        }
        #expect(throws: JSONLineError.self) {
            try JSONLine.parseObject(Substring(#"{"a":"# + String(repeating: "[", count: deep) + String(repeating: "]", count: deep) + "}"))
        }
        let limit = JSONLine.maxDepth
        #expect(throws: JSONLineError.self) {
            try JSONLine.parseObject(Substring(#"{"a":"# + String(repeating: "[", count: limit) + String(repeating: "]", count: limit) + "}"))
        }
    }

    // MARK: What callers use

    @Test func accessors() throws {
        let value = try JSONLine.parse(#"{"s":"x","n":1.50,"b":false,"z":null,"a":[1],"o":{"k":"v"}}"#)
        #expect(value["s"]?.text == "x")
        #expect(value["n"]?.text == "1.50")
        #expect(value["b"]?.text == "false")
        #expect(value["z"] == .null && value["z"]?.text == nil)
        #expect(value["a"]?.array == [.number("1")])
        #expect(value["o"]?["k"]?.text == "v")
        #expect(value["missing"] == nil)
        #expect(value["a"]?["k"] == nil && value["s"]?.array == nil)
    }

    @Test func substringSliceOfALargerString() throws {
        let line = #"xx{"a":"b","n":[1]}yy"#
        let slice = line.dropFirst(2).dropLast(2)
        #expect(try JSONLine.parse(slice) == .object(["a": .string("b"), "n": .array([.number("1")])]))
        #expect(try JSONLine.parseObject(slice) == ["a": .string("b")])
    }

    @Test func errorSaysWhere() {
        do {
            _ = try JSONLine.parseObject(#"{"a":[1,2}"#)
            Issue.record("expected an error")
        } catch {
            #expect(error.reason == "expected ',' or ']' at byte 9")
        }
    }
}
