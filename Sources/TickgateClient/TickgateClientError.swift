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
    /// The connection failed for this reason (TLS, a GOAWAY with an error).
    case connectionFailed(detail: String)
    /// The server answered with something that is not gRPC.
    case protocolViolation(String)
    /// The connection cannot open another stream.
    case tooManyStreams
    /// A lossless stream fell too far behind and was ended: resume from
    /// these positions (the last tick it delivered for each symbol).
    case lagging(positions: [KafkaPosition], message: String)

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
        case .connectionFailed(let detail):
            return "the connection to the gateway failed: \(detail)"
        case .protocolViolation(let detail):
            return "unexpected answer from the gateway: \(detail)"
        case .tooManyStreams:
            return "the connection cannot open another stream"
        case .lagging(let positions, let message):
            return "\(message) (\(positions.map(\.description).joined(separator: ", ")))"
        }
    }
}

/// The outcome of a subscribe or unsubscribe request.
public struct SubscriptionResult: Sendable, Equatable {
    public var accepted: [String]
    public var refused: [RefusedSymbols]

    public struct RefusedSymbols: Sendable, Equatable {
        /// gRPC status code: 3 malformed, 5 unknown, 8 over a limit or the
        /// replay budget, 9 resuming what is already live.
        public var code: Int32
        public var message: String
        public var symbols: [String]
        /// For a replay over the gateway's budget: ask again after this many ms.
        public var retryAfterMillis: Int64 = 0
    }
}

/// A subscribed (venue, symbol) went stale (no tick for the gateway's
/// limit), came back, or was first seen and matched a pattern (`added`).
public struct SymbolStatusUpdate: Sendable, Equatable {
    public var symbol: String
    public var venue: String
    public var stale: Bool
    /// Matched one of the stream's symbols or patterns when the gateway first saw it.
    public var added: Bool
    /// When the gateway last read a tick of it (t3; 0 if none yet).
    public var lastTickTimeNanos: Int64
}

/// How a subscription wants its ticks (see `Protos/tickgate/v1/tickgate.proto`).
public struct SubscriptionOptions: Sendable, Equatable {
    /// Only this venue; empty: every venue.
    public var venue: String
    /// The last known tick of each match first (`Tick.snapshot`), then live.
    public var snapshot: Bool
    /// At most this many ticks per second per (venue, symbol); 0: no cap.
    public var maxRate: UInt32
    /// Never conflated: a stream that falls too far behind ends with
    /// ``TickgateClientError/lagging(positions:message:)``.
    public var lossless: Bool
    /// Per symbol, the position of the last tick the app has: the gateway
    /// replays what came after it from Kafka, then goes on live.
    public var resume: [KafkaPosition]
    /// Or every symbol from this time (Unix ms); 0: live only.
    public var sinceTimeMillis: Int64
    /// A resume position Kafka no longer holds: go on live (true) or from
    /// the earliest tick Kafka holds (false). ``TickStream/resumes`` says which.
    public var liveWhenMissing: Bool

    public init(
        venue: String = "", snapshot: Bool = false, maxRate: UInt32 = 0, lossless: Bool = false,
        resume: [KafkaPosition] = [], sinceTimeMillis: Int64 = 0, liveWhenMissing: Bool = false
    ) {
        self.venue = venue
        self.snapshot = snapshot
        self.maxRate = maxRate
        self.lossless = lossless
        self.resume = resume
        self.sinceTimeMillis = sinceTimeMillis
        self.liveWhenMissing = liveWhenMissing
    }
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
