import Synchronization
import TickgateHTTP2

/// Who makes a call on one connection, and whether they may: the API key
/// (none needed for health), the Publish right, and the key's connection
/// and call limits. Each key counts one connection while the connection
/// has made calls with it. Shared by the HTTP/2 and HTTP/1.1 connections.
struct CallAdmission {
    private let access: AccessControl
    private let publishEnabled: Bool
    private let stats: GatewayStats
    /// Keys this connection made calls with.
    private(set) var keysHeld: [Grant] = []

    init(access: AccessControl, publishEnabled: Bool, stats: GatewayStats) {
        self.access = access
        self.publishEnabled = publishEnabled
        self.stats = stats
    }

    /// On success one call is counted against the key (give it back with
    /// `grant.releaseStream()` when the call ends).
    mutating func admit(path: String?, authorization: String?) -> Result<Grant, GRPCStatus> {
        if path == GRPCProtocol.healthCheckPath || path == GRPCProtocol.healthWatchPath {
            _ = Grant.healthProbe.acquireStream()
            return .success(.healthProbe)
        }
        let grant: Grant
        switch access.authenticate(authorization) {
        case .success(let found): grant = found
        case .failure(let status):
            stats.unauthenticated.add(1, ordering: .relaxed)
            return .failure(status)
        }
        if path == GRPCProtocol.publishPath {
            guard publishEnabled else {
                return .failure(GRPCStatus(.unimplemented, "publishing is turned off on this gateway"))
            }
            guard grant.rights.publish != nil else {
                return .failure(GRPCStatus(.permissionDenied, access.requiresKeys
                    ? "this API key may not publish"
                    : "publishing needs an API key with the publish right; this gateway has no keys file (--allow-anonymous-publish lets anyone publish)"))
            }
        }
        if !keysHeld.contains(where: { $0 === grant }) {
            guard grant.acquireConnection() else {
                return .failure(GRPCStatus(.resourceExhausted, "this API key has as many connections open as it may (\(grant.rights.limits.connections ?? 0))"))
            }
            keysHeld.append(grant)
        }
        guard grant.acquireStream() else {
            return .failure(GRPCStatus(.resourceExhausted, "this API key has as many calls open as it may (\(grant.rights.limits.streams ?? 0))"))
        }
        return .success(grant)
    }

    /// The connection closed: its keys' connection counts go back.
    mutating func releaseConnection() {
        for grant in keysHeld { grant.releaseConnection() }
        keysHeld.removeAll()
    }

    /// The call object serving `path` (one of ``GRPCProtocol/servedPaths``).
    static func makeCall(path: String?, streamID: Int32, context: CallContext, fanout: LoopFanout, grant: Grant) -> any GatewayCall {
        switch path {
        case GRPCProtocol.publishPath:
            return PublishCall(streamID: streamID, context: context, publisher: fanout.publish!, grant: grant)
        case GRPCProtocol.snapshotPath:
            return UnaryCall.snapshot(streamID: streamID, context: context, grant: grant)
        case GRPCProtocol.healthCheckPath:
            return UnaryCall.healthCheck(streamID: streamID, context: context)
        case GRPCProtocol.healthWatchPath:
            return HealthWatchCall(streamID: streamID, context: context)
        case GRPCProtocol.watchPath:
            return StreamCall(streamID: streamID, context: context, grant: grant, watch: true)
        case let path? where GRPCProtocol.reflectionPaths.contains(path):
            return ReflectionCall(streamID: streamID, context: context, grant: grant)
        default:
            return StreamCall(streamID: streamID, context: context, grant: grant)
        }
    }
}
