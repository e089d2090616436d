/// Fixed names and framing of the gRPC-Web protocol (grpc/grpc
/// PROTOCOL-WEB.md): gRPC's length-prefixed messages in the HTTP body, and
/// the trailers as one more body frame (flag 0x80) instead of HTTP
/// trailers, so that browsers (which cannot read HTTP trailers) and
/// HTTP/1.1 can carry gRPC. The `-text` variant base64-encodes the body.
package enum GRPCWeb {
    package enum Encoding: Sendable, Equatable {
        /// `application/grpc-web` and `application/grpc-web+proto`.
        case binary
        /// `application/grpc-web-text` and `application/grpc-web-text+proto`:
        /// the body, both ways, in base64.
        case text

        /// The content-type of the response.
        package var responseContentType: String {
            self == .binary ? "application/grpc-web+proto" : "application/grpc-web-text+proto"
        }
    }

    /// The variant a request's content-type asks for; nil when it is not
    /// gRPC-Web (or another message format than protobuf).
    package static func encoding(contentType: String) -> Encoding? {
        var value = Substring(contentType.lowercased())
        if let semicolon = value.firstIndex(of: ";") { value = value[..<semicolon] }
        switch value.trimmingSpaces {
        case "application/grpc-web", "application/grpc-web+proto": return .binary
        case "application/grpc-web-text", "application/grpc-web-text+proto": return .text
        default: return nil
        }
    }

    /// The flag byte of the trailer frame.
    package static let trailerFlag: UInt8 = 0x80

    /// The trailer frame: 0x80, a 4-byte big-endian length, then the
    /// trailers as HTTP/1 header lines (`grpc-status:0\r\n`), names lower case.
    package static func trailerFrame(_ trailers: [HTTP2Header]) -> [UInt8] {
        var block: [UInt8] = []
        for field in trailers {
            block += field.name.lowercased().utf8
            block.append(UInt8(ascii: ":"))
            block += field.value.utf8
            block += [13, 10]
        }
        let length = UInt32(block.count)
        return [trailerFlag, UInt8(length >> 24), UInt8(length >> 16 & 0xFF), UInt8(length >> 8 & 0xFF), UInt8(length & 0xFF)] + block
    }

    /// Response headers a browser's script must be allowed to read (CORS).
    package static let exposedHeaders = "grpc-status, grpc-message, grpc-status-details-bin"
    /// Request headers gRPC-Web clients send (CORS preflight).
    package static let allowedRequestHeaders =
        "content-type, x-grpc-web, x-user-agent, grpc-timeout, authorization, last-event-id, cache-control"
}

extension Substring {
    fileprivate var trimmingSpaces: Substring {
        var value = self
        while value.first == " " { value = value.dropFirst() }
        while value.last == " " { value = value.dropLast() }
        return value
    }
}
