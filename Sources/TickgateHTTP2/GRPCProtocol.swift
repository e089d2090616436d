/// Fixed names and values of the gRPC-over-HTTP/2 protocol.
package enum GRPCProtocol {
    package static let streamPath = "/tickgate.v1.PriceStream/Stream"
    package static let watchPath = "/tickgate.v1.PriceStream/Watch"
    package static let publishPath = "/tickgate.v1.PriceStream/Publish"
    package static let snapshotPath = "/tickgate.v1.PriceStream/GetSnapshot"
    package static let healthCheckPath = "/grpc.health.v1.Health/Check"
    package static let healthWatchPath = "/grpc.health.v1.Health/Watch"
    package static let reflectionPaths: Set<String> = [
        "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo",
        "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo",
    ]
    /// Every method the gateway serves.
    package static let servedPaths: Set<String> = Set([streamPath, watchPath, publishPath, snapshotPath, healthCheckPath, healthWatchPath])
        .union(reflectionPaths)
    package static let contentType = "application/grpc"
    /// Encodings this implementation accepts in `grpc-encoding`.
    package static let acceptedEncodings = "identity"
    package static let defaultMaxMessageSize = 4 * 1024 * 1024

    /// `application/grpc`, `application/grpc+proto`, `application/grpc;…`.
    package static func isGRPCContentType(_ value: String) -> Bool {
        let lower = value.lowercased()
        guard lower.hasPrefix(contentType) else { return false }
        let rest = lower.dropFirst(contentType.count)
        return rest.isEmpty || rest.hasPrefix("+proto") || rest.hasPrefix(";")
    }

    /// gRPC status for an HTTP status when a response is not gRPC at all
    /// (the spec's HTTP → gRPC status mapping).
    package static func statusCode(forHTTPStatus status: Int) -> GRPCStatusCode {
        switch status {
        case 400: return .internal
        case 401: return .unauthenticated
        case 403: return .permissionDenied
        case 404: return .unimplemented
        case 429, 502, 503, 504: return .unavailable
        default: return .unknown
        }
    }
}
