import TickgateHTTP2

/// The lifecycle of one `PriceStream/Publish` call (ticks in, one summary
/// out), as a pure value; ``PublishCall`` performs the I/O.
///
///     open ──END_STREAM──▶ halfClosed ──Kafka settled every tick──▶ finishing ──▶ closed
///      │                                       ▲
///      └──bad tick / bad frame──▶ rejecting ───┘ (settled: the status says
///                                                how many were published)
///
/// The call never ends before Kafka acknowledged (or failed) every tick it
/// sent, so the answer always says exactly what is in Kafka.
struct PublishCallStateMachine {
    enum State: Equatable {
        case open
        case halfClosed
        /// A tick or frame was refused: nothing more is read; the call ends
        /// with `status` once the ticks before it are settled.
        case rejecting(GRPCStatus)
        case finishing
        case closed
    }

    enum Action: Equatable {
        case sendResponseHeaders
        /// No more ticks: the ledger may settle.
        case finishSending
        /// The summary message.
        case sendSummary(PublishSettlement)
        /// End the call with these trailers.
        case finish(GRPCStatus)
        /// Stop listening for delivery reports.
        case unregister
    }

    private(set) var state: State = .open

    var acceptsMessages: Bool { state == .open }

    mutating func start(endStream: Bool) -> [Action] {
        endStream ? [.sendResponseHeaders] + receivedEndStream() : [.sendResponseHeaders]
    }

    mutating func receivedEndStream() -> [Action] {
        guard state == .open else { return [] }
        state = .halfClosed
        return [.finishSending]
    }

    /// A tick the call cannot publish, or a frame it cannot read.
    mutating func reject(_ status: GRPCStatus) -> [Action] {
        switch state {
        case .open:
            state = .rejecting(status)
            return [.finishSending]
        case .halfClosed:
            state = .rejecting(status)
            return []
        default:
            return []
        }
    }

    /// Kafka acknowledged or failed every tick sent, and no more come.
    mutating func settled(_ settlement: PublishSettlement) -> [Action] {
        switch state {
        case .halfClosed:
            state = .finishing
            let status = settlement.failed == 0
                ? GRPCStatus.ok
                : GRPCStatus(.unavailable, "\(settlement.failed) tick(s) were not delivered to Kafka: \(settlement.firstError)")
            return [.sendSummary(settlement), .finish(status)]
        case .rejecting(let status):
            state = .finishing
            return [.finish(GRPCStatus(status.code, "\(status.message); \(settlement.describedAsBefore)"))]
        default:
            return []
        }
    }

    /// The gateway ends the call now (shutting down).
    mutating func end(_ status: GRPCStatus) -> [Action] {
        switch state {
        case .open, .halfClosed, .rejecting:
            state = .finishing
            return [.finish(status)]
        default:
            return []
        }
    }

    mutating func streamClosed() -> [Action] {
        let wasClosed = state == .closed
        state = .closed
        return wasClosed ? [] : [.unregister]
    }
}

/// What Kafka made of a Publish call's ticks.
struct PublishSettlement: Equatable, Sendable {
    var delivered: UInt64
    var failed: UInt64
    var firstError: String

    /// For a call refused part-way: what happened to the ticks before.
    var describedAsBefore: String { describe("\(delivered) tick(s) of this call before it were published to Kafka") }

    /// For a call ended by the gateway: what happened to its ticks so far.
    var describedSoFar: String { describe("\(delivered) tick(s) of this call were published to Kafka so far") }

    private func describe(_ base: String) -> String {
        failed == 0 ? base : "\(base), \(failed) failed (\(firstError))"
    }
}
