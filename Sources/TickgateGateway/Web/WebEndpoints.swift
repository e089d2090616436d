import Foundation
import TickgateHTTP2

/// What a request that is not plain gRPC gets, whether it came over
/// HTTP/2 or HTTP/1.1: CORS preflights, gRPC-Web calls, Server-Sent Events
/// (`GET /v1/ticks`), the live page (`GET /`) and its chart library. Pure:
/// the connections do the I/O.
struct WebEndpoints: Sendable {
    let cors: CORSPolicy
    let page: [UInt8]
    /// Debian's Chart.js, read once at start; nil: the page draws SVG.
    let chartLibrary: [UInt8]?

    static let eventsPath = "/v1/ticks"
    static let chartPath = "/static/chart.js"

    enum Answer: Equatable {
        /// A complete response.
        case respond(status: Int, headers: [HTTP2Header], body: [UInt8])
        /// Open a Server-Sent Events stream with these response headers.
        case events(SSERequest, headers: [HTTP2Header])
        /// A gRPC-Web call: its responses carry `headers` too (CORS).
        case grpcWeb(GRPCWeb.Encoding, headers: [HTTP2Header])
        /// Plain gRPC (HTTP/2 only).
        case grpc
    }

    /// `target` is the request target (`/v1/ticks?symbols=…`); `header`
    /// looks a request header up by its lower-case name.
    func answer(method: String?, target: String?, http2: Bool, header: (String) -> String?) -> Answer {
        let method = method?.uppercased() ?? ""
        let target = target ?? ""
        let path = target.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
        let origin = header("origin")
        if let contentType = header("content-type") {
            if let encoding = GRPCWeb.encoding(contentType: contentType) {
                guard method == "POST" else { return Self.text(405, "gRPC-Web requests use POST") }
                return .grpcWeb(encoding, headers: cors.responseHeaders(origin: origin))
            }
            if GRPCProtocol.isGRPCContentType(contentType) {
                return http2 ? .grpc : Self.text(415, "gRPC needs HTTP/2 (h2c with prior knowledge, or TLS with ALPN h2); over HTTP/1.1 use gRPC-Web (application/grpc-web)")
            }
        }
        switch method {
        case "OPTIONS":
            switch cors.preflight(origin: origin, method: header("access-control-request-method")) {
            case .allow(let headers): return .respond(status: 204, headers: headers, body: [])
            case .refuse(let reason): return Self.text(403, reason)
            }
        case "GET", "HEAD":
            switch path {
            case "/", "/index.html":
                return .respond(status: 200, headers: Self.pageHeaders, body: page)
            case Substring(Self.chartPath):
                guard let chartLibrary else { return Self.text(404, "no chart library here (Debian's libjs-chart.js is not installed): the page draws SVG") }
                return .respond(status: 200, headers: [
                    HTTP2Header("content-type", "text/javascript; charset=utf-8"),
                    HTTP2Header("cache-control", "max-age=86400"),
                ], body: chartLibrary)
            case Substring(Self.eventsPath):
                let query = target.firstIndex(of: "?").map { target[target.index(after: $0)...] } ?? ""
                switch SSERequest.parse(query: query, lastEventID: header("last-event-id")) {
                case .success(let request):
                    return .events(request, headers: [
                        HTTP2Header(":status", "200"),
                        HTTP2Header("content-type", "text/event-stream; charset=utf-8"),
                        HTTP2Header("cache-control", "no-cache"),
                        HTTP2Header("x-accel-buffering", "no"),
                    ] + cors.responseHeaders(origin: origin))
                case .failure(let refusal):
                    return Self.text(400, refusal.reason, headers: cors.responseHeaders(origin: origin))
                }
            default:
                return Self.text(404, "not found: GET / (the live page), GET \(Self.eventsPath) (Server-Sent Events), or gRPC/gRPC-Web calls")
            }
        default:
            if method == "POST" {
                return Self.text(415, "content-type must be application/grpc-web, application/grpc-web-text (or application/grpc over HTTP/2)")
            }
            return Self.text(405, "method \(method.prefix(16)) is not served")
        }
    }

    static let pageHeaders = [
        HTTP2Header("content-type", "text/html; charset=utf-8"),
        HTTP2Header("cache-control", "no-cache"),
        HTTP2Header("x-content-type-options", "nosniff"),
        HTTP2Header("content-security-policy",
                    "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'"),
    ]

    static func text(_ status: Int, _ message: String, headers: [HTTP2Header] = []) -> Answer {
        .respond(status: status, headers: [HTTP2Header("content-type", "text/plain; charset=utf-8")] + headers, body: Array((message + "\n").utf8))
    }

    /// A Server-Sent Events stream refused before it starts (its key): the
    /// gRPC status as HTTP.
    static func refusal(_ status: GRPCStatus) -> Answer {
        text(httpStatus(of: status), status.message)
    }

    static func httpStatus(of status: GRPCStatus) -> Int {
        switch status.code {
        case .unauthenticated: return 401
        case .permissionDenied: return 403
        case .resourceExhausted: return 429
        case .unavailable: return 503
        case .unimplemented: return 501
        default: return 400
        }
    }
}

extension WebEndpoints {
    /// The endpoints for `configuration`: the page compiled in, the chart
    /// library read once from where Debian installs it (if it is there).
    static func make(_ configuration: GatewayConfiguration) -> WebEndpoints {
        WebEndpoints(
            cors: CORSPolicy(origins: configuration.corsOrigins),
            page: PackageResources.index_html,
            chartLibrary: configuration.chartLibraryPath.flatMap(readFile))
    }

    private static func readFile(_ path: String) -> [UInt8]? {
        (try? Data(contentsOf: URL(fileURLWithPath: path))).map { Array($0) }
    }
}
