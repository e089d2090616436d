import TickgateHTTP2

/// Decides what to do with a request's HEADERS, per the gRPC-over-HTTP/2
/// specification. Pure: no I/O.
enum RequestHeadValidator {
    enum Verdict: Equatable {
        /// Serve it; with `deadlineNanos` from `grpc-timeout`, end it
        /// DEADLINE_EXCEEDED when that runs out.
        case accept(deadlineNanos: Int64?)
        /// Not a gRPC request at all: answer with this HTTP status.
        case rejectHTTP(status: Int, reason: String)
        /// A gRPC request we cannot serve: trailers-only response.
        case rejectGRPC(GRPCStatus, extraHeaders: [HTTP2Header])
    }

    static func validate(_ headers: [HTTP2Header]) -> Verdict {
        let method = headers[first: ":method"]
        guard method == "POST" else {
            return .rejectHTTP(status: 405, reason: "gRPC requests use POST, not \(method ?? "no method")")
        }
        guard let contentType = headers[first: "content-type"],
              GRPCProtocol.isGRPCContentType(contentType) || GRPCWeb.encoding(contentType: contentType) != nil
        else {
            return .rejectHTTP(status: 415, reason: "content-type must be application/grpc")
        }
        let path = headers[first: ":path"] ?? ""
        guard GRPCProtocol.servedPaths.contains(path) else {
            return .rejectGRPC(GRPCStatus(.unimplemented, "unknown method \(path)"), extraHeaders: [])
        }
        if let encoding = headers[first: "grpc-encoding"], encoding != "identity" {
            return .rejectGRPC(
                GRPCStatus(.unimplemented, "grpc-encoding \(encoding) is not supported (accepted: \(GRPCProtocol.acceptedEncodings))"),
                extraHeaders: [HTTP2Header("grpc-accept-encoding", GRPCProtocol.acceptedEncodings)])
        }
        var deadline: Int64? = nil
        if let timeout = headers[first: "grpc-timeout"] {
            guard let nanos = GRPCTimeout.parseNanos(timeout) else {
                return .rejectGRPC(GRPCStatus(.internal, "malformed grpc-timeout \"\(timeout.prefix(32))\""), extraHeaders: [])
            }
            deadline = nanos
        }
        return .accept(deadlineNanos: deadline)
    }
}
