/// `grpc.health.v1.HealthCheckResponse.ServingStatus`.
public enum HealthStatus: Int32, Sendable, CustomStringConvertible {
    case unknown = 0
    case serving = 1
    case notServing = 2
    case serviceUnknown = 3

    public var description: String {
        switch self {
        case .unknown: return "UNKNOWN"
        case .serving: return "SERVING"
        case .notServing: return "NOT_SERVING"
        case .serviceUnknown: return "SERVICE_UNKNOWN"
        }
    }
}
