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

@Suite struct ServerStreamStateMachineTests {
    @Test func openThenClientHalfCloseWithSubscriptionsKeepsStreaming() {
        var machine = ServerStreamStateMachine()
        #expect(machine.receivedHeaders(RequestHeadValidatorTests.request(), endStream: false) == .sendResponseHeaders)
        #expect(machine.acceptsMessages)
        #expect(machine.receivedEndStream(workRemaining: true) == .none)
        #expect(!machine.acceptsMessages && machine.isLive)
        #expect(machine.subscriptionsChanged(count: 1) == .none)
        #expect(machine.subscriptionsChanged(count: 0) == .finish(.ok))
        #expect(!machine.isLive)
        #expect(machine.streamClosed() == .releaseSubscriptions)
        #expect(machine.streamClosed() == .none)
    }

    @Test func halfCloseWithNothingSubscribedEndsOK() {
        var machine = ServerStreamStateMachine()
        _ = machine.receivedHeaders(RequestHeadValidatorTests.request(), endStream: false)
        #expect(machine.receivedEndStream(workRemaining: false) == .finish(.ok))
    }

    @Test func failureEndsALiveStreamOnce() {
        var machine = ServerStreamStateMachine()
        _ = machine.receivedHeaders(RequestHeadValidatorTests.request(), endStream: false)
        let status = GRPCStatus(.internal, "error parsing request proto")
        #expect(machine.fail(status) == .finish(status))
        #expect(machine.fail(status) == .none)
        #expect(!machine.acceptsMessages)
    }

    @Test func rejectedRequestNeverOpens() {
        var machine = ServerStreamStateMachine()
        let action = machine.receivedHeaders(RequestHeadValidatorTests.request(path: "/x/y"), endStream: true)
        guard case .respondTrailersOnly(let status, _) = action else {
            Issue.record("expected trailers-only, got \(action)")
            return
        }
        #expect(status.code == .unimplemented)
        #expect(!machine.isLive && !machine.acceptsMessages)
    }

    @Test func cancelledByClientReleasesSubscriptions() {
        var machine = ServerStreamStateMachine()
        _ = machine.receivedHeaders(RequestHeadValidatorTests.request(), endStream: false)
        #expect(machine.streamClosed() == .releaseSubscriptions)
        #expect(machine.state == .closed)
    }
}
