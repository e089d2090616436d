import Testing
@testable import TickgateGateway
import TickgateHTTP2

@Suite struct RequestHeadValidatorTests {
    static func request(method: String = "POST", path: String = "/tickgate.v1.PriceStream/Stream",
                        contentType: String? = "application/grpc", extra: [HTTP2Header] = []) -> [HTTP2Header] {
        var headers = [HTTP2Header(":method", method), HTTP2Header(":path", path)]
        if let contentType { headers.append(HTTP2Header("content-type", contentType)) }
        return headers + extra
    }

    @Test func acceptsTheStreamMethod() {
        #expect(RequestHeadValidator.validate(Self.request()) == .accept(deadlineNanos: nil))
        #expect(RequestHeadValidator.validate(Self.request(contentType: "application/grpc+proto")) == .accept(deadlineNanos: nil))
        #expect(RequestHeadValidator.validate(Self.request(extra: [HTTP2Header("grpc-encoding", "identity")])) == .accept(deadlineNanos: nil))
        #expect(RequestHeadValidator.validate(Self.request(path: "/tickgate.v1.PriceStream/GetSnapshot")) == .accept(deadlineNanos: nil))
    }

    @Test(arguments: [("1H", Int64(3_600_000_000_000)), ("2M", 120_000_000_000), ("30S", 30_000_000_000), ("250m", 250_000_000),
                      ("7u", 7_000), ("99999999n", 99_999_999), ("0m", 0), ("99999999H", Int64.max)])
    func grpcTimeoutBecomesTheCallsDeadline(text: String, nanos: Int64) {
        let verdict = RequestHeadValidator.validate(Self.request(extra: [HTTP2Header("grpc-timeout", text)]))
        #expect(verdict == .accept(deadlineNanos: nanos))
    }

    @Test(arguments: ["", "m", "10", "10s", "123456789m", "-1S", "1.5S", " 1S", "1S "])
    func aMalformedGrpcTimeoutIsInternal(text: String) {
        guard case .rejectGRPC(let status, _) = RequestHeadValidator.validate(Self.request(extra: [HTTP2Header("grpc-timeout", text)])) else {
            Issue.record("expected a gRPC rejection for \(text)")
            return
        }
        #expect(status.code == .internal)
    }

    @Test func unknownMethodIsUnimplemented() {
        guard case .rejectGRPC(let status, _) = RequestHeadValidator.validate(Self.request(path: "/tickgate.v1.PriceStream/Nope")) else {
            Issue.record("expected a gRPC rejection")
            return
        }
        #expect(status.code == .unimplemented)
        #expect(status.message.contains("/tickgate.v1.PriceStream/Nope"))
    }

    @Test func unsupportedEncodingListsWhatIsAccepted() {
        let verdict = RequestHeadValidator.validate(Self.request(extra: [HTTP2Header("grpc-encoding", "gzip")]))
        guard case .rejectGRPC(let status, let extra) = verdict else {
            Issue.record("expected a gRPC rejection")
            return
        }
        #expect(status.code == .unimplemented)
        #expect(extra == [HTTP2Header("grpc-accept-encoding", "identity")])
    }

    @Test func nonGRPCRequestsGetHTTPStatuses() {
        #expect(RequestHeadValidator.validate(Self.request(contentType: "application/json"))
            == .rejectHTTP(status: 415, reason: "content-type must be application/grpc"))
        #expect(RequestHeadValidator.validate(Self.request(contentType: nil))
            == .rejectHTTP(status: 415, reason: "content-type must be application/grpc"))
        if case .rejectHTTP(let status, _) = RequestHeadValidator.validate(Self.request(method: "GET")) {
            #expect(status == 405)
        } else {
            Issue.record("GET should get 405")
        }
    }
}
