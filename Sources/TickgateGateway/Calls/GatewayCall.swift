import NIOCore
import TickgateHTTP2

/// One gRPC call on a gateway connection: what the connection tells it
/// (the session's events for its stream) and what it asks of the
/// connection (through ``CallContext``).
protocol GatewayCall: AnyObject {
    var streamID: Int32 { get }
    /// Bytes waiting for the stream's flow-control window, and the end.
    var outbound: HTTP2OutboundStream { get }
    /// Who makes the call (its API key's rights and limits).
    var grant: Grant { get }

    /// The request's HEADERS were accepted (`endStream`: it has no body).
    func start(endStream: Bool)
    func receivedData(_ bytes: UnsafeRawBufferPointer)
    /// END_STREAM, on DATA or on request trailers.
    func receivedEndStream()
    /// The gateway ends the call (shutting down, overloaded).
    func end(_ status: GRPCStatus)
    /// nghttp2 closed the stream.
    func closed()
}

extension GRPCMessageDeframer.Failure {
    /// The status a call ends with when its request bytes cannot be read.
    var status: GRPCStatus {
        switch self {
        case .tooLarge(let length, let limit):
            return GRPCStatus(.resourceExhausted, "request message of \(length) bytes is over the \(limit)-byte limit")
        case .compressedWithoutEncoding:
            return GRPCStatus(.internal, "compressed message received but no grpc-encoding was negotiated")
        case .invalidFlag(let flag):
            return GRPCStatus(.internal, "invalid gRPC message flag \(flag)")
        case .truncated(let missing):
            return GRPCStatus(.internal, "stream ended inside a message (\(missing) bytes missing)")
        }
    }
}

/// The response HEADERS of an accepted gRPC call.
let grpcResponseHeaders = [
    HTTP2Header(":status", "200"),
    HTTP2Header("content-type", GRPCProtocol.contentType),
    HTTP2Header("grpc-accept-encoding", GRPCProtocol.acceptedEncodings),
]

extension GatewayCall {
    /// The I/O for a stream-shaped call that holds no tick subscriptions
    /// (health Watch, reflection): what its ``StreamCallStateMachine``
    /// decided. `release` runs for `.releaseSubscriptions`.
    func performStreamActions(_ actions: [StreamCallStateMachine.Action], context: CallContext, release: () -> Void = {}) {
        for action in actions {
            switch action {
            case .sendResponseHeaders:
                context.submitResponse(self, headers: grpcResponseHeaders)
            case .finish(let status):
                if status.code != .ok { context.stats.recordRequestError(code: status.code.rawValue) }
                outbound.finish(trailers: status.trailerFields)
                context.hasOutput(outbound)
            case .reset(let code):
                outbound.discardPending()
                context.submitReset(self, code)
            case .releaseSubscriptions:
                release()
            }
        }
    }
}
