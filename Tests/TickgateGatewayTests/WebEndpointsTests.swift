import Testing
@testable import TickgateGateway
import TickgateHTTP2
import TickgateModel

@Suite struct WebEndpointsTests {
    static let web = WebEndpoints(cors: CORSPolicy(origins: ["https://app.example.com"]), page: Array("<html>".utf8), chartLibrary: nil)

    static func answer(_ method: String, _ target: String, _ headers: [String: String] = [:], http2: Bool = false) -> WebEndpoints.Answer {
        web.answer(method: method, target: target, http2: http2, header: { headers[$0] })
    }

    @Test func pagesAndErrors() {
        guard case .respond(200, let headers, let body) = Self.answer("GET", "/") else {
            Issue.record("no page")
            return
        }
        #expect(body == Array("<html>".utf8) && headers[first: "content-type"] == "text/html; charset=utf-8")
        #expect(headers[first: "content-security-policy"]?.contains("connect-src 'self'") == true)
        guard case .respond(404, _, let missing) = Self.answer("GET", WebEndpoints.chartPath) else {
            Issue.record("the chart library is absent here")
            return
        }
        #expect(String(decoding: missing, as: UTF8.self).contains("libjs-chart.js"))
        guard case .respond(404, _, _) = Self.answer("GET", "/etc/passwd"), case .respond(405, _, _) = Self.answer("DELETE", "/"),
              case .respond(415, _, _) = Self.answer("POST", "/tickgate.v1.PriceStream/Watch", ["content-type": "text/plain"])
        else {
            Issue.record("expected 404, 405 and 415")
            return
        }
    }

    @Test func grpcOverHTTP1IsRefusedAndOverHTTP2Passes() {
        let grpc = ["content-type": "application/grpc"]
        #expect(Self.answer("POST", "/tickgate.v1.PriceStream/Stream", grpc, http2: true) == .grpc)
        guard case .respond(415, _, let body) = Self.answer("POST", "/tickgate.v1.PriceStream/Stream", grpc) else {
            Issue.record("gRPC over HTTP/1.1 is refused")
            return
        }
        #expect(String(decoding: body, as: UTF8.self).contains("gRPC-Web"))
    }

    @Test func grpcWebCallsGetCORSHeadersOnlyForListedOrigins() {
        let listed = Self.answer("POST", "/x", ["content-type": "application/grpc-web-text", "origin": "https://app.example.com"])
        guard case .grpcWeb(.text, let headers) = listed else {
            Issue.record("a gRPC-Web text call")
            return
        }
        #expect(headers[first: "access-control-allow-origin"] == "https://app.example.com")
        #expect(headers[first: "access-control-expose-headers"]?.contains("grpc-message") == true)
        #expect(Self.answer("POST", "/x", ["content-type": "application/grpc-web", "origin": "https://evil.example"]) == .grpcWeb(.binary, headers: []))
    }

    @Test func preflight() {
        let policy = CORSPolicy(origins: ["https://app.example.com"])
        guard case .allow(let headers) = policy.preflight(origin: "https://APP.example.com", method: "POST") else {
            Issue.record("a listed origin (case-insensitively)")
            return
        }
        #expect(headers[first: "access-control-allow-headers"]?.contains("x-grpc-web") == true)
        #expect(policy.preflight(origin: "https://evil.example", method: "POST") != .allow(headers))
        #expect(policy.preflight(origin: nil, method: "POST") == .refuse("a CORS preflight needs an Origin header"))
        #expect(policy.preflight(origin: "https://app.example.com", method: "DELETE") == .refuse("only GET and POST are served"))
        guard case .allow = CORSPolicy(origins: ["*"]).preflight(origin: "https://any.example", method: "GET") else {
            Issue.record("* allows any origin")
            return
        }
    }

    @Test func eventsReadTheirSubscriptionFromTheQuery() throws {
        let parsed = try SSERequest.parse(
            query: "symbols=BTC-USD,ETH-*,%20SOL-USD&venue=binance&snapshot=true&max_rate=5&lossless=0&on_missing=live&_=123&api_key=k%2B1",
            lastEventID: nil).get()
        #expect(parsed.subscribe == SubscribeRequest(requestID: 1, symbols: ["BTC-USD", "ETH-*", "SOL-USD"], venue: "binance", snapshot: true,
                                                     maxRate: 5, liveWhenMissing: true))
        #expect(parsed.named == ["BTC-USD", "SOL-USD"] && parsed.apiKey == "k+1")
    }

    @Test func lastEventIDWinsOverResumeAndCoversNamedSymbolsOnly() throws {
        let parsed = try SSERequest.parse(query: "symbols=BTC-USD,ETH-*&resume=t1:BTC-USD@0:5",
                                          lastEventID: "t1:BTC-USD@0:9,ETH-USD@1:3,DOGE-USD@2:1").get()
        #expect(parsed.subscribe.resume == [KafkaPosition(symbol: "BTC-USD", partition: 0, offset: 9)])
        let fromParameter = try SSERequest.parse(query: "symbols=BTC-USD&resume=t1:BTC-USD@0:5", lastEventID: "").get()
        #expect(fromParameter.subscribe.resume == [KafkaPosition(symbol: "BTC-USD", partition: 0, offset: 5)])
    }

    @Test(arguments: [
        ("", "symbols is required"), ("symbols=", "symbols is required"), ("symbols=A-B&max_rate=-1", "max_rate"),
        ("symbols=A-B&snapshot=maybe", "snapshot"), ("symbols=A-B&on_missing=never", "on_missing"), ("symbols=A-B&since_time_ms=x", "since_time_ms"),
        ("symbols=A-B&color=red", "unknown parameter color"), ("symbols=A-B&resume=t1:nope", "invalid resume token"), ("symbols=%zz", "percent"),
    ])
    func badQueriesAreRefusedWithTheReason(query: String, reason: String) {
        guard case .failure(let refusal) = SSERequest.parse(query: Substring(query), lastEventID: nil) else {
            Issue.record("\(query) was accepted")
            return
        }
        #expect(refusal.reason.contains(reason), "\(refusal.reason)")
    }

    @Test func theSnifferKnowsThePrefaceFromItsFirstDifferentByte() {
        func decide(_ text: String) -> ProtocolSniffer.Decision? { Array(text.utf8).withUnsafeBytes { ProtocolSniffer.decide($0) } }
        #expect(decide("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n") == .http2)
        #expect(decide("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\u{0}\u{0}") == .http2)
        #expect(decide("PRI * HT") == nil)
        #expect(decide("") == nil)
        #expect(decide("GET / HTTP/1.1\r\n") == .http1)
        #expect(decide("PRX") == .http1)
    }
}
