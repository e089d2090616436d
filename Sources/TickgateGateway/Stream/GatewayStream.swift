import Synchronization
import NIOCore
import TickgateHTTP2
import TickgateKafka
import TickgateModel

/// One `PriceStream/Stream` call: its lifecycle, request decoding,
/// subscriptions and the bytes waiting for its flow-control window.
final class GatewayStream {
    let streamID: Int32
    /// The connection owns its streams and closes them all before it goes
    /// away, so this back-reference needs no checked `unowned` (which costs
    /// an atomic per access on the delivery path).
    unowned(unsafe) let connection: GatewayConnectionHandler
    let outbound: HTTP2OutboundStream
    private var machine = ServerStreamStateMachine()
    private var deframer: GRPCMessageDeframer
    private(set) var symbols: Set<String> = []
    private var counted = false
    /// Cached from the configuration: read on every delivery.
    private let maxPendingBytes: Int
    /// Listed in the connection's dirty streams.
    var isDirty = false
    /// A `Publish` call (ticks in, one summary out) rather than `Stream`.
    private var isPublish = false
    private var ledger: PublishLedger?
    private var publishedCount = 0

    init(streamID: Int32, connection: GatewayConnectionHandler) {
        self.streamID = streamID
        self.connection = connection
        self.outbound = HTTP2OutboundStream(allocator: connection.allocator)
        self.maxPendingBytes = connection.configuration.maxPendingBytesPerStream
        self.deframer = GRPCMessageDeframer(maxMessageSize: connection.configuration.maxMessageSize, allocator: connection.allocator)
    }

    // MARK: fan-out (hot path)

    /// Appends one tick's shared, already-framed bytes. The slow-client
    /// bound is checked after the connection's next flush, so that one
    /// Kafka batch arriving at once is not mistaken for a stalled client.
    @inline(__always)
    func enqueueTick(_ bytes: UnsafeRawBufferPointer) {
        guard machine.isLive else { return }
        outbound.pending.writeBytes(bytes)
        markDirty()
    }

    /// Called after a flush: bytes still waiting past the bound mean the
    /// client is not reading.
    func checkBacklog() {
        if outbound.pending.readableBytes > maxPendingBytes { resetAsTooSlow() }
    }

    private func markDirty() {
        guard !isDirty else { return }
        isDirty = true
        connection.streamBecameDirty(self)
    }

    // MARK: events from the session

    func receivedHeaders(_ headers: [HTTP2Header], endStream: Bool) {
        if machine.state == .idle, headers[first: ":path"] == GRPCProtocol.publishPath {
            isPublish = true
            if connection.fanout.publish == nil {
                perform(machine.refuse(GRPCStatus(.unimplemented, "publishing is turned off on this gateway")))
                return
            }
        }
        perform(machine.receivedHeaders(headers, endStream: endStream))
        if endStream && isPublish { ledger?.finishSending() }
    }

    func receivedData(_ bytes: UnsafeRawBufferPointer) {
        guard machine.acceptsMessages else { return }
        deframer.append(bytes)
        do {
            while machine.acceptsMessages, let message = try deframer.next() {
                handle(message)
            }
        } catch {
            fail(Self.status(for: error))
        }
    }

    func receivedEndStream() {
        if machine.acceptsMessages {
            do {
                try deframer.checkComplete()
            } catch {
                fail(Self.status(for: error))
                return
            }
        }
        if isPublish {
            // Not done until Kafka has settled every tick: see publishSettled.
            perform(machine.receivedEndStream(workRemaining: true))
            ledger?.finishSending()
            return
        }
        perform(machine.receivedEndStream(workRemaining: !symbols.isEmpty))
    }

    func closed() {
        if let ledger { connection.fanout.publish?.unregister(ledger) }
        perform(machine.streamClosed())
        if counted {
            counted = false
            connection.fanout.stats.streams.subtract(1, ordering: .relaxed)
        }
    }

    // MARK: requests

    private func handle(_ message: ByteBuffer) {
        if isPublish {
            handlePublish(message)
            return
        }
        let decoded: ClientMessage
        do {
            decoded = try WireCodec.decodeClientMessage(message)
        } catch {
            fail(GRPCStatus(.internal, "error parsing request proto: \(error)"))
            return
        }
        switch decoded {
        case .subscribe(let requestID, let requested):
            let configuration = connection.configuration
            let decision = SubscriptionDecision.subscribe(
                requestID: requestID, symbols: requested, current: symbols,
                catalog: configuration.symbolCatalog, limit: configuration.maxSubscriptionsPerStream)
            var added = 0
            for symbol in decision.accepted where symbols.insert(symbol).inserted {
                connection.fanout.table.add(symbol, self)
                added += 1
            }
            if added > 0 { connection.fanout.stats.subscriptions.add(added, ordering: .relaxed) }
            reply(decision, requestID: requestID)
            for symbol in decision.accepted {
                if let last = connection.fanout.staleSymbols[symbol] {
                    sendStatus(symbol: symbol, stale: true, lastTickTimeNanos: last)
                }
            }
        case .unsubscribe(let requestID, let requested):
            let decision = SubscriptionDecision.unsubscribe(requestID: requestID, symbols: requested)
            var removed = 0
            for symbol in decision.accepted where symbols.remove(symbol) != nil {
                connection.fanout.table.remove(symbol, self)
                removed += 1
            }
            if removed > 0 { connection.fanout.stats.subscriptions.subtract(removed, ordering: .relaxed) }
            reply(decision, requestID: requestID)
            perform(machine.subscriptionsChanged(count: symbols.count))
        case .ping(let nonce, let clientTime):
            send(.pong(nonce: nonce, clientTimeNanos: clientTime, serverTimeNanos: WallClock.nowNanos()))
        }
    }

    // MARK: publish

    private func handlePublish(_ message: ByteBuffer) {
        guard let publish = connection.fanout.publish, let ledger else { return }
        var tick: Tick
        do {
            tick = try WireCodec.decodeTick(message)
        } catch {
            fail(GRPCStatus(.internal, "error parsing request proto: \(error)"))
            return
        }
        publishedCount += 1
        let position = "tick \(publishedCount) of this call"
        guard (try? Symbol(validating: tick.symbol)) != nil else {
            fail(GRPCStatus(.invalidArgument, "\(position): invalid symbol \"\(tick.symbol)\" (expected BASE-QUOTE, e.g. BTC-USD)"))
            return
        }
        guard !tick.venue.isEmpty else {
            fail(GRPCStatus(.invalidArgument, "\(position): no venue"))
            return
        }
        guard tick.sequence > 0 else {
            fail(GRPCStatus(.invalidArgument, "\(position): sequence must be positive"))
            return
        }
        if tick.publishTimeNanos == 0 { tick.publishTimeNanos = WallClock.nowNanos() }
        let value = WireCodec.encode(tick)
        var key = tick.symbol
        let result: Result<Void, KafkaError> = key.withUTF8 { keyBytes in
            value.withUnsafeBytes { valueBytes in
                Result { () throws(KafkaError) in
                    try publish.producer.trySend(key: UnsafeRawBufferPointer(keyBytes), value: valueBytes, token: ledger.token)
                }
            }
        }
        switch result {
        case .success:
            ledger.sent()
        case .failure(.queueFull):
            fail(GRPCStatus(.resourceExhausted, "\(position): Kafka's local queue is full; retry later"))
        case .failure(let error):
            fail(GRPCStatus(.unavailable, "\(position): \(error)"))
        }
    }

    /// Every tick of the call is acknowledged by Kafka (or failed): the
    /// summary, then OK, or UNAVAILABLE if any failed.
    private func publishSettled() {
        guard let ledger, machine.isLive else { return }
        let summary = ledger.summary
        GRPCMessageFramer.writeMessage(into: &outbound.pending) {
            WireCodec.encode(PublishSummary(published: summary.delivered, failed: summary.failed, firstError: summary.firstError), into: &$0)
        }
        markDirty()
        let status = summary.failed == 0
            ? GRPCStatus.ok
            : GRPCStatus(.unavailable, "\(summary.failed) tick(s) were not delivered to Kafka: \(summary.firstError)")
        perform(machine.fail(status))
        connection.requestFlush()
    }

    private func reply(_ decision: SubscriptionDecision, requestID: UInt64) {
        for refused in decision.refused {
            connection.fanout.stats.recordRequestError(code: Int(refused.code))
            send(.error(refused))
        }
        send(.ack(requestID: requestID, symbols: decision.accepted))
    }

    /// A `SymbolStatus` for one symbol this stream holds.
    func sendStatus(symbol: String, stale: Bool, lastTickTimeNanos: Int64) {
        send(.symbolStatus(symbol: symbol, stale: stale, lastTickTimeNanos: lastTickTimeNanos))
    }

    private func send(_ message: ServerMessage) {
        guard machine.isLive else { return }
        GRPCMessageFramer.writeMessage(into: &outbound.pending) { WireCodec.encode(message, into: &$0) }
        markDirty()
    }

    private func fail(_ status: GRPCStatus) {
        perform(machine.fail(status))
    }

    // MARK: actions

    private func perform(_ action: ServerStreamStateMachine.Action) {
        switch action {
        case .none:
            break
        case .sendResponseHeaders:
            counted = true
            connection.fanout.stats.streams.add(1, ordering: .relaxed)
            connection.session.submitResponse(
                streamID: streamID,
                headers: [
                    HTTP2Header(":status", "200"),
                    HTTP2Header("content-type", GRPCProtocol.contentType),
                    HTTP2Header("grpc-accept-encoding", GRPCProtocol.acceptedEncodings),
                ],
                body: outbound)
            if isPublish, let publish = connection.fanout.publish {
                let bound = NIOLoopBound(self, eventLoop: connection.fanout.eventLoop)
                let ledger = PublishLedger(eventLoop: connection.fanout.eventLoop) { bound.value.publishSettled() }
                self.ledger = ledger
                publish.register(ledger)
            }
            connection.requestFlush()
        case .respondHTTP(let status, let reason):
            connection.session.submitResponse(
                streamID: streamID,
                headers: [HTTP2Header(":status", String(status)), HTTP2Header("x-tickgate-error", reason)],
                body: nil)
            connection.requestFlush()
        case .respondTrailersOnly(let status, let extra):
            connection.fanout.stats.recordRequestError(code: status.code.rawValue)
            connection.session.submitResponse(
                streamID: streamID,
                headers: [HTTP2Header(":status", "200"), HTTP2Header("content-type", GRPCProtocol.contentType)]
                    + status.trailerFields + extra,
                body: nil)
            connection.requestFlush()
        case .finish(let status):
            if status.code != .ok { connection.fanout.stats.recordRequestError(code: status.code.rawValue) }
            releaseSubscriptions()
            outbound.finish(trailers: status.trailerFields)
            markDirty()
        case .releaseSubscriptions:
            releaseSubscriptions()
        }
    }

    private func releaseSubscriptions() {
        guard !symbols.isEmpty else { return }
        for symbol in symbols {
            connection.fanout.table.remove(symbol, self)
        }
        connection.fanout.stats.subscriptions.subtract(symbols.count, ordering: .relaxed)
        symbols.removeAll()
    }

    /// The client's window stayed closed until more than
    /// `maxPendingBytesPerStream` waited after a flush: drop it and reset with
    /// ENHANCE_YOUR_CALM (gRPC clients see RESOURCE_EXHAUSTED).
    func resetAsTooSlow() {
        guard machine.isLive else { return }
        _ = machine.fail(GRPCStatus(.resourceExhausted, "client too slow"))
        releaseSubscriptions()
        outbound.discardPending()
        connection.fanout.stats.slowStreamResets.add(1, ordering: .relaxed)
        connection.session.submitReset(streamID: streamID, errorCode: 0x0b)
        connection.requestFlush()
    }

    static func status(for failure: GRPCMessageDeframer.Failure) -> GRPCStatus {
        switch failure {
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
