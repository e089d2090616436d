/// What a client sends on a `PriceStream/Stream` call.
public enum ClientMessage: Hashable, Sendable {
    case subscribe(requestID: UInt64, symbols: [String])
    case unsubscribe(requestID: UInt64, symbols: [String])
    case ping(nonce: UInt64, clientTimeNanos: Int64)
}

/// What the server sends on a `PriceStream/Stream` call.
public enum ServerMessage: Hashable, Sendable {
    case tick(Tick)
    case batch([Tick])
    case ack(requestID: UInt64, symbols: [String])
    case error(RequestError)
    case pong(nonce: UInt64, clientTimeNanos: Int64, serverTimeNanos: Int64)
    /// A subscribed symbol went stale (no tick for a while) or came back.
    case symbolStatus(symbol: String, stale: Bool, lastTickTimeNanos: Int64)
}

/// Symbols of one subscribe or unsubscribe request that were refused.
/// The stream stays open.
public struct RequestError: Hashable, Sendable, Error, CustomStringConvertible {
    public var requestID: UInt64
    /// A gRPC status code: 3 INVALID_ARGUMENT, 5 NOT_FOUND, 8 RESOURCE_EXHAUSTED.
    public var code: Int32
    public var message: String
    public var symbols: [String]

    public init(requestID: UInt64, code: Int32, message: String, symbols: [String]) {
        self.requestID = requestID
        self.code = code
        self.message = message
        self.symbols = symbols
    }

    public var description: String {
        "request \(requestID) refused \(symbols.joined(separator: ",")) (code \(code)): \(message)"
    }
}
