import NIOCore
import TickgateHTTP2

/// The lifecycle of one client connection, as a pure value that returns
/// what to do; ``GatewayConnectionHandler`` performs the I/O. The clock is
/// injected (every event that needs the time is given `now`), so tests
/// drive it without sockets or timers.
///
///     active ──drain(reason)──▶ draining ──last stream closed / deadline──▶ closing
///        │                        ▲
///        └──peer GOAWAY───────────┘
///
///     closing: the socket is closing; (any state) ──channel inactive──▶ closed (torn down, once)
///
/// Draining: GOAWAY carries the last stream id this side processed, no new
/// stream is accepted, open streams finish (on shutdown: with UNAVAILABLE,
/// so clients reconnect elsewhere), and the connection closes when the
/// last one has, or at the drain deadline.
struct ConnectionStateMachine {
    enum DrainReason: Equatable {
        /// The server is shutting down: open streams end UNAVAILABLE.
        case shutdown
        /// No stream for the idle timeout.
        case idle
        /// The peer sent GOAWAY: it opens no more streams.
        case peerGoAway
        /// Older than the maximum connection age: open calls go on for the
        /// age grace, then end UNAVAILABLE.
        case maxAge
        /// Over the gateway's connection limits: refused before any stream.
        case refused
    }

    enum State: Equatable {
        case active
        case draining(DrainReason)
        /// The socket is being closed.
        case closing
        /// Torn down: every call freed.
        case closed
    }

    enum Action: Equatable {
        case none
        /// GOAWAY with this last stream id (graceful: NO_ERROR).
        case sendGoAway(lastStreamID: Int32, debug: String)
        /// End every open stream with this status.
        case endOpenStreams(GRPCStatus)
        /// Call ``deadlinePassed(now:)`` at this time.
        case scheduleDeadline(NIODeadline)
        /// Refuse the new stream (RST_STREAM REFUSED_STREAM).
        case refuseStream
        /// Close the socket once what is queued is written.
        case close
        /// Free every call and the session (once).
        case tearDown
        /// GOAWAY with this error and debug data, then close.
        case abort(HTTP2ErrorCode, debug: String)
        /// GOAWAY with this error and debug data, accepting no stream; the
        /// peer closes the connection (or the drain deadline does).
        case refuseConnection(HTTP2ErrorCode, debug: String)
    }

    struct Limits: Equatable {
        /// A connection with no stream for this long is closed; nil: never.
        var idleTimeout: TimeAmount? = nil
        /// How long a drain may take before the socket is closed anyway.
        var drainGrace: TimeAmount = .seconds(5)
        /// How long calls may go on once the connection is past its age.
        var maxAgeGrace: TimeAmount = .seconds(30)
        /// Keepalive policy as gRPC servers enforce it: a PING sooner than
        /// this after the previous one is a strike; nil: pings are not
        /// policed.
        var minPingInterval: TimeAmount? = nil
        /// Whether a PING on a connection with no open stream is allowed
        /// (a strike when not).
        var pingsWithoutStreams = true
        /// Strikes tolerated; the next one gets GOAWAY ENHANCE_YOUR_CALM
        /// "too_many_pings".
        var maxPingStrikes = 2
        /// The client must complete its connection preface (magic and
        /// SETTINGS) within this time, or the connection closes (half a
        /// preface held open is a slowloris); nil: no limit.
        var handshakeTimeout: TimeAmount? = .seconds(10)
        /// Streams the client may reset: `resetBurst` at once, refilled at
        /// `resetsPerSecond`. Past it (CVE-2023-44487, rapid reset): GOAWAY
        /// ENHANCE_YOUR_CALM "too_many_resets".
        var resetsPerSecond = 200
        var resetBurst = 1000
    }

    private(set) var state: State = .active
    private(set) var openStreams = 0
    /// Highest stream id accepted: GOAWAY's last stream id.
    private(set) var lastStreamID: Int32 = 0
    private var idleSince: NIODeadline
    private var lastPing: NIODeadline?
    private(set) var pingStrikes = 0
    let limits: Limits

    init(limits: Limits = Limits(), now: NIODeadline) {
        self.limits = limits
        self.idleSince = now
        self.openedAt = now
        self.resetTokens = Int64(limits.resetBurst) * Self.resetCost(limits)
        self.resetsCheckedAt = now
    }

    private let openedAt: NIODeadline
    private(set) var prefaceDone = false
    private var resetTokens: Int64
    private var resetsCheckedAt: NIODeadline

    private static func resetCost(_ limits: Limits) -> Int64 { 1_000_000_000 / Int64(max(1, limits.resetsPerSecond)) }

    /// The client's first SETTINGS arrived: its preface is complete.
    mutating func prefaceReceived() {
        prefaceDone = true
    }

    /// The client reset a stream.
    mutating func resetReceived(now: NIODeadline) -> [Action] {
        guard state != .closed, state != .closing else { return [] }
        let cost = Self.resetCost(limits)
        let capacity = Int64(limits.resetBurst) * cost
        resetTokens = min(capacity, resetTokens + max(0, (now - resetsCheckedAt).nanoseconds))
        resetsCheckedAt = now
        guard resetTokens >= cost else {
            state = .closing
            return [.abort(.enhanceYourCalm, debug: "too_many_resets")]
        }
        resetTokens -= cost
        return []
    }

    var isTornDown: Bool { state == .closed }

    /// Listed in its loop's connections to flush.
    private(set) var flushQueued = false

    /// Output is waiting; true when the connection must be listed for the
    /// loop's next flush pass (it is not yet).
    mutating func outputQueued() -> Bool {
        guard !flushQueued, state != .closed else { return false }
        flushQueued = true
        return true
    }

    /// The loop's flush pass reached this connection.
    mutating func flushStarted() {
        flushQueued = false
    }
    var acceptsStreams: Bool { state == .active }

    /// A client opened stream `id`.
    mutating func streamOpened(id: Int32) -> Action {
        guard state == .active else { return .refuseStream }
        openStreams += 1
        lastStreamID = max(lastStreamID, id)
        return .none
    }

    /// A stream this machine accepted is gone.
    mutating func streamClosed(now: NIODeadline) -> Action {
        openStreams = max(0, openStreams - 1)
        if openStreams == 0 { idleSince = now }
        if case .draining = state, openStreams == 0 { return close() }
        return .none
    }

    /// Starts a graceful drain.
    mutating func drain(_ reason: DrainReason, now: NIODeadline) -> [Action] {
        guard state == .active else {
            // Shutting down while already draining for another reason
            // still ends the open streams.
            if case .draining(let current) = state, reason == .shutdown, current != .shutdown {
                state = .draining(.shutdown)
                return [.endOpenStreams(Self.shuttingDown)] + (openStreams == 0 ? [close()] : [])
            }
            return []
        }
        state = .draining(reason)
        var actions: [Action] = []
        if reason != .peerGoAway {
            let debug = switch reason {
            case .shutdown: "server shutting down"
            case .maxAge: "max_age"
            default: "idle"
            }
            actions.append(.sendGoAway(lastStreamID: lastStreamID, debug: debug))
        }
        if reason == .shutdown, openStreams > 0 { actions.append(.endOpenStreams(Self.shuttingDown)) }
        if openStreams == 0 {
            actions.append(close())
        } else {
            actions.append(.scheduleDeadline(now + (reason == .maxAge ? limits.maxAgeGrace : limits.drainGrace)))
        }
        return actions
    }

    /// The gateway is over its connection limits. Each call on the
    /// connection is answered RESOURCE_EXHAUSTED (a clear status that
    /// clients do not retry at once, where a GOAWAY alone makes grpc
    /// clients reconnect in a tight loop), then GOAWAY follows; the client
    /// closes, or the deadline does. Closing at once would lose both (a
    /// close with the client's bytes unread sends a TCP reset).
    mutating func refuse(now: NIODeadline) -> [Action] {
        guard state == .active else { return [] }
        state = .draining(.refused)
        return [.scheduleDeadline(now + limits.drainGrace)]
    }

    /// A call on a refused connection was answered: GOAWAY, once.
    mutating func refusedCallAnswered(_ debug: String) -> [Action] {
        guard state == .draining(.refused), !refusalSent else { return [] }
        refusalSent = true
        return [.refuseConnection(.enhanceYourCalm, debug: debug)]
    }
    private var refusalSent = false

    /// Periodic check (the loop's timer): the idle limit.
    mutating func tick(now: NIODeadline) -> [Action] {
        if !prefaceDone, let limit = limits.handshakeTimeout, now - openedAt >= limit, state != .closed, state != .closing {
            state = .closing
            return [.close]
        }
        guard state == .active, openStreams == 0, let idle = limits.idleTimeout, now - idleSince >= idle else { return [] }
        return drain(.idle, now: now)
    }

    /// The peer sent a PING (nghttp2 has answered it).
    mutating func pingReceived(now: NIODeadline) -> [Action] {
        guard let minimum = limits.minPingInterval, state == .active || isDraining else { return [] }
        defer { lastPing = now }
        let tooSoon = lastPing.map { now - $0 < minimum } ?? false
        let unwanted = openStreams == 0 && !limits.pingsWithoutStreams
        guard tooSoon || unwanted else {
            pingStrikes = 0
            return []
        }
        pingStrikes += 1
        guard pingStrikes > limits.maxPingStrikes else { return [] }
        state = .closing
        return [.abort(.enhanceYourCalm, debug: "too_many_pings")]
    }

    private var isDraining: Bool {
        if case .draining = state { return true }
        return false
    }

    /// The drain took longer than its grace period. Calls still open past
    /// the age grace are told why before the socket closes.
    mutating func deadlinePassed(now: NIODeadline) -> [Action] {
        guard case .draining(let reason) = state else { return [] }
        if reason == .maxAge, openStreams > 0 {
            state = .draining(.shutdown)
            return [.endOpenStreams(Self.tooOld), .scheduleDeadline(now + limits.drainGrace)]
        }
        return [close()]
    }

    /// nghttp2 wants neither to read nor to write (GOAWAY exchanged, or a
    /// fatal protocol error).
    /// A refused connection waits for the peer to close it (see `refuse`).
    mutating func sessionFinished() -> Action {
        state == .closed || state == .closing || state == .draining(.refused) ? .none : close()
    }

    /// The socket closed: free everything, once.
    mutating func channelInactive() -> Action {
        let first = state != .closed
        state = .closed
        return first ? .tearDown : .none
    }

    private mutating func close() -> Action {
        state = .closing
        return .close
    }

    static let shuttingDown = GRPCStatus(.unavailable, "server shutting down")
    static let tooOld = GRPCStatus(.unavailable, "max connection age reached; reconnect")
}
