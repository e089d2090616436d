import TickgateHTTP2
public import TickgateModel

/// Why a client call failed.
public enum TickgateClientError: Error, CustomStringConvertible, Equatable {
    /// The gateway could not be reached.
    case cannotConnect(address: String, detail: String)
    /// The call ended with a non-OK gRPC status.
    case status(code: Int, name: String, message: String)
    /// The server reset the stream (HTTP/2 error code).
    case reset(errorCode: UInt32)
    /// The connection closed with the call still open.
    case connectionClosed
    /// The server answered with something that is not gRPC.
    case protocolViolation(String)
    /// The connection cannot open another stream.
    case tooManyStreams

    public var description: String {
        switch self {
        case .cannotConnect(let address, let detail):
            return "cannot connect to the gateway at \(address): \(detail)"
        case .status(let code, let name, let message):
            return message.isEmpty ? "stream ended with \(name) (\(code))" : "stream ended with \(name) (\(code)): \(message)"
        case .reset(let code):
            return code == HTTP2ErrorCode.enhanceYourCalm.rawValue
                ? "the gateway reset the stream: client too slow (ENHANCE_YOUR_CALM)"
                : "the gateway reset the stream (HTTP/2 error \(code))"
        case .connectionClosed:
            return "the connection to the gateway closed"
        case .protocolViolation(let detail):
            return "unexpected answer from the gateway: \(detail)"
        case .tooManyStreams:
            return "the connection cannot open another stream"
        }
    }
}

/// The outcome of a subscribe or unsubscribe request.
public struct SubscriptionResult: Sendable, Equatable {
    public var accepted: [String]
    public var refused: [RefusedSymbols]

    public struct RefusedSymbols: Sendable, Equatable {
        /// gRPC status code: 3 malformed, 5 unknown, 8 over the limit.
        public var code: Int32
        public var message: String
        public var symbols: [String]
    }
}

/// A subscribed symbol went stale (no tick for the gateway's limit) or came back.
public struct SymbolStatusUpdate: Sendable, Equatable {
    public var symbol: String
    public var stale: Bool
    /// When the gateway last read a tick of it (t3).
    public var lastTickTimeNanos: Int64
}

/// A tick with the time this client received it (t5).
public struct TickDelivery: Sendable {
    public var tick: Tick
    public var receivedAtNanos: Int64
}

/// The answer to a ping: round trip and the server's clock reading, from
/// which the clock offset between client and gateway hosts is estimated.
public struct PingResult: Sendable {
    public var clientSendNanos: Int64
    public var serverTimeNanos: Int64
    public var clientReceiveNanos: Int64

    public var roundTripNanos: Int64 { clientReceiveNanos - clientSendNanos }
    /// server clock − client clock, assuming symmetric paths (NTP-style).
    public var estimatedClockOffsetNanos: Int64 {
        serverTimeNanos - (clientSendNanos + clientReceiveNanos) / 2
    }
}
