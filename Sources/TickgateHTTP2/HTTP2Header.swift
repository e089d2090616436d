/// One HTTP/2 header field. Names are lower case, as HTTP/2 requires.
package struct HTTP2Header: Hashable, Sendable {
    package var name: String
    package var value: String

    package init(_ name: String, _ value: String) {
        self.name = name
        self.value = value
    }
}

extension Array where Element == HTTP2Header {
    package subscript(first name: String) -> String? {
        first { $0.name == name }?.value
    }
}
