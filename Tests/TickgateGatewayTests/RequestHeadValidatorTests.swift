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
        #expect(RequestHeadValidator.validate(Self.request()) == .accept)
        #expect(RequestHeadValidator.validate(Self.request(contentType: "application/grpc+proto")) == .accept)
        #expect(RequestHeadValidator.validate(Self.request(extra: [HTTP2Header("grpc-encoding", "identity")])) == .accept)
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
