/// A connection-level HTTP/2 failure: the connection cannot go on.
package struct HTTP2SessionError: Error, Equatable, CustomStringConvertible {
    package let code: Int
    package let detail: String

    package var description: String { "HTTP/2 session error \(code): \(detail)" }
}
