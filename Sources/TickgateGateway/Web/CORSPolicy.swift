import TickgateHTTP2

/// Which web origins may call the gateway from a script, and the headers
/// that tell a browser so (the Fetch standard's CORS protocol). Pure.
struct CORSPolicy: Sendable {
    let origins: Set<String>
    let anyOrigin: Bool

    init(origins: [String]) {
        self.origins = Set(origins.filter { $0 != "*" }.map { $0.lowercased() })
        self.anyOrigin = origins.contains("*")
    }

    func allows(_ origin: String) -> Bool {
        anyOrigin || origins.contains(origin.lowercased())
    }

    /// On an actual response to a cross-origin request: nothing when the
    /// request has no `Origin` or it is not allowed (the browser then
    /// withholds the response from the script).
    func responseHeaders(origin: String?) -> [HTTP2Header] {
        guard let origin, allows(origin) else { return [] }
        return [
            HTTP2Header("access-control-allow-origin", origin),
            HTTP2Header("vary", "origin"),
            HTTP2Header("access-control-expose-headers", GRPCWeb.exposedHeaders),
        ]
    }

    enum Preflight: Equatable {
        /// 204 with these headers.
        case allow([HTTP2Header])
        /// 403: the origin is not allowed, or no Origin was sent.
        case refuse(String)
    }

    /// An `OPTIONS` request with `Access-Control-Request-Method`.
    func preflight(origin: String?, method: String?) -> Preflight {
        guard let origin else { return .refuse("a CORS preflight needs an Origin header") }
        guard allows(origin) else {
            return .refuse("origin \(origin.prefix(200)) may not call this gateway (see serve --cors-origin)")
        }
        guard let method, ["GET", "POST"].contains(method.uppercased()) else {
            return .refuse("only GET and POST are served")
        }
        return .allow([
            HTTP2Header("access-control-allow-origin", origin),
            HTTP2Header("vary", "origin"),
            HTTP2Header("access-control-allow-methods", "GET, POST, OPTIONS"),
            HTTP2Header("access-control-allow-headers", GRPCWeb.allowedRequestHeaders),
            HTTP2Header("access-control-max-age", "600"),
        ])
    }
}
