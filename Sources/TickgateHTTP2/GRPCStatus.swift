/// gRPC status codes, as the gRPC status-code document defines them.
package enum GRPCStatusCode: Int, Sendable, CustomStringConvertible {
    case ok = 0
    case cancelled = 1
    case unknown = 2
    case invalidArgument = 3
    case deadlineExceeded = 4
    case notFound = 5
    case alreadyExists = 6
    case permissionDenied = 7
    case resourceExhausted = 8
    case failedPrecondition = 9
    case aborted = 10
    case outOfRange = 11
    case unimplemented = 12
    case `internal` = 13
    case unavailable = 14
    case dataLoss = 15
    case unauthenticated = 16

    package var description: String {
        switch self {
        case .ok: return "OK"
        case .cancelled: return "CANCELLED"
        case .unknown: return "UNKNOWN"
        case .invalidArgument: return "INVALID_ARGUMENT"
        case .deadlineExceeded: return "DEADLINE_EXCEEDED"
        case .notFound: return "NOT_FOUND"
        case .alreadyExists: return "ALREADY_EXISTS"
        case .permissionDenied: return "PERMISSION_DENIED"
        case .resourceExhausted: return "RESOURCE_EXHAUSTED"
        case .failedPrecondition: return "FAILED_PRECONDITION"
        case .aborted: return "ABORTED"
        case .outOfRange: return "OUT_OF_RANGE"
        case .unimplemented: return "UNIMPLEMENTED"
        case .internal: return "INTERNAL"
        case .unavailable: return "UNAVAILABLE"
        case .dataLoss: return "DATA_LOSS"
        case .unauthenticated: return "UNAUTHENTICATED"
        }
    }
}

/// A status with its message, as carried in `grpc-status`/`grpc-message`.
package struct GRPCStatus: Error, Equatable, Sendable, CustomStringConvertible {
    package var code: GRPCStatusCode
    package var message: String

    package init(_ code: GRPCStatusCode, _ message: String = "") {
        self.code = code
        self.message = message
    }

    package static let ok = GRPCStatus(.ok)

    package var description: String {
        message.isEmpty ? "\(code) (\(code.rawValue))" : "\(code) (\(code.rawValue)): \(message)"
    }

    /// The trailer fields for this status.
    package var trailerFields: [HTTP2Header] {
        var fields = [HTTP2Header("grpc-status", String(code.rawValue))]
        if !message.isEmpty {
            fields.append(HTTP2Header("grpc-message", GRPCPercentEncoding.encode(message)))
        }
        return fields
    }
}
