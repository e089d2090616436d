import Synchronization
import NIOCore
import TickgateHTTP2
import TickgateKafka
import TickgateModel

/// One `PriceStream/Publish` call: ticks in, into Kafka keyed by symbol,
/// one summary out once Kafka has settled every tick.
final class PublishCall: GatewayCall {
    let streamID: Int32
    let grant: Grant
    /// What the key may publish (checked per tick, before Kafka sees it).
    private let right: PublishRight
    /// Strong: the context holds nothing back, and a strong `let` is read
    /// without retaining it (an `unowned(unsafe)` one is copied, retain and
    /// release, at every use).
    private let context: CallContext
    let outbound: HTTP2OutboundStream
    private var machine = PublishCallStateMachine()
    private var deframer: GRPCMessageDeframer
    private let publisher: PublishCoordinator
    private let ledger: PublishLedger
    private var received = 0

    init(streamID: Int32, context: CallContext, publisher: PublishCoordinator, grant: Grant) {
        self.streamID = streamID
        self.grant = grant
        self.right = grant.rights.publish ?? PublishRight(venues: [], symbols: [])
        self.context = context
        self.publisher = publisher
        self.outbound = HTTP2OutboundStream()
        self.deframer = GRPCMessageDeframer(maxMessageSize: context.limits.maxMessageSize, allocator: context.allocator)
        // The ledger reaches back weakly: a call whose connection is gone
        // is freed even while Kafka still owes it delivery reports.
        let weakSelf = WeakPublishCall()
        self.ledger = PublishLedger(eventLoop: context.eventLoop, stats: context.stats) { settlement in
            weakSelf.call?.settled(settlement)
        }
        weakSelf.call = self
        context.stats.callObjects.add(1, ordering: .relaxed)
    }

    deinit { context.stats.callObjects.subtract(1, ordering: .relaxed) }

    func start(endStream: Bool) {
        publisher.register(ledger)
        perform(machine.start(endStream: endStream))
    }

    func receivedData(_ bytes: UnsafeRawBufferPointer) {
        guard machine.acceptsMessages else { return }
        if let failure = deframer.feed(bytes, while: { machine.acceptsMessages }, publish) {
            perform(machine.reject(failure.status))
        }
    }

    func receivedEndStream() {
        if machine.acceptsMessages, let failure = deframer.unfinished() {
            perform(machine.reject(failure.status))
            return
        }
        perform(machine.receivedEndStream())
    }

    func end(_ status: GRPCStatus) {
        let settlement = ledger.settlement
        perform(machine.end(GRPCStatus(status.code, "\(status.message); \(settlement.describedSoFar)")))
    }

    func closed() {
        perform(machine.streamClosed())
    }

    /// Every tick sent is settled and no more come (on the loop).
    private func settled(_ settlement: PublishSettlement) {
        perform(machine.settled(settlement))
        context.requestFlush()
    }

    private func publish(_ message: ByteBuffer) {
        received += 1
        let position = "tick \(received) of this call"
        var tick: Tick
        do {
            tick = try WireCodec.decodeTick(message)
        } catch {
            perform(machine.reject(GRPCStatus(.internal, "\(position): error parsing request proto: \(error)")))
            return
        }
        guard (try? Symbol(validating: tick.symbol)) != nil else {
            perform(machine.reject(GRPCStatus(.invalidArgument, "\(position): invalid symbol \"\(tick.symbol)\" (expected BASE-QUOTE, e.g. BTC-USD)")))
            return
        }
        guard !tick.venue.isEmpty else {
            perform(machine.reject(GRPCStatus(.invalidArgument, "\(position): no venue")))
            return
        }
        guard right.allows(venue: tick.venue, symbol: tick.symbol) else {
            perform(machine.reject(GRPCStatus(.permissionDenied, "\(position): this API key may not publish \(tick.venue.prefix(64)) \(tick.symbol)")))
            return
        }
        guard tick.sequence > 0 else {
            perform(machine.reject(GRPCStatus(.invalidArgument, "\(position): sequence must be positive")))
            return
        }
        if tick.publishTimeNanos == 0 { tick.publishTimeNanos = WallClock.nowNanos() }
        let value = WireCodec.encode(tick)
        var key = tick.symbol
        let token = ledger.token
        let producer = publisher.producer
        let result: Result<Void, KafkaError> = key.withUTF8 { keyBytes in
            value.withUnsafeBytes { valueBytes in
                Result { () throws(KafkaError) in
                    try producer.trySend(key: UnsafeRawBufferPointer(keyBytes), value: valueBytes, token: token)
                }
            }
        }
        switch result {
        case .success:
            ledger.sent()
        case .failure(.queueFull):
            perform(machine.reject(GRPCStatus(.resourceExhausted, "\(position): Kafka's local queue is full; retry later")))
        case .failure(let error):
            perform(machine.reject(GRPCStatus(.unavailable, "\(position): \(error)")))
        }
    }

    private func perform(_ actions: [PublishCallStateMachine.Action]) {
        for action in actions {
            switch action {
            case .sendResponseHeaders:
                context.submitResponse(self, headers: grpcResponseHeaders)
            case .finishSending:
                ledger.finishSending()
            case .sendSummary(let settlement):
                outbound.pending.writeMessage {
                    WireCodec.encode(
                        PublishSummary(published: settlement.delivered, failed: settlement.failed, firstError: settlement.firstError),
                        into: &$0)
                }
                context.hasOutput(outbound)
            case .finish(let status):
                if status.code != .ok { context.stats.recordRequestError(code: status.code.rawValue) }
                outbound.finish(trailers: status.trailerFields)
                context.hasOutput(outbound)
            case .unregister:
                publisher.unregister(ledger)
            }
        }
    }
}

/// The ledger's way back to its call, on the call's event loop only.
private final class WeakPublishCall: @unchecked Sendable {
    weak var call: PublishCall?
}
