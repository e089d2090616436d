public import NIOCore
import CTickgateProto

extension WireCodec {
    // MARK: client → server

    public static func encode(_ message: ClientMessage, into buffer: inout ByteBuffer) {
        withCArena { arena in
            var c = Tickgate__V1__ClientMessage()
            tickgate__v1__client_message__init(&c)
            switch message {
            case .subscribe(let request):
                let s = request.cMessage(in: arena)
                c.kind_case = TICKGATE__V1__CLIENT_MESSAGE__KIND_SUBSCRIBE
                c.subscribe = arena.make(s)
            case .unsubscribe(let requestID, let symbols, let venue):
                var s = Tickgate__V1__Unsubscribe()
                tickgate__v1__unsubscribe__init(&s)
                s.request_id = requestID
                s.n_symbols = symbols.count
                s.symbols = arena.strings(symbols)
                s.venue = arena.string(venue)
                c.kind_case = TICKGATE__V1__CLIENT_MESSAGE__KIND_UNSUBSCRIBE
                c.unsubscribe = arena.make(s)
            case .ping(let nonce, let clientTime):
                var p = Tickgate__V1__Ping()
                tickgate__v1__ping__init(&p)
                p.nonce = nonce
                p.client_time_ns = clientTime
                c.kind_case = TICKGATE__V1__CLIENT_MESSAGE__KIND_PING
                c.ping = arena.make(p)
            }
            let size = tickgate__v1__client_message__get_packed_size(&c)
            buffer.writeProtobuf(size: size) { tickgate__v1__client_message__pack(&c, $0) }
        }
    }

    /// Decodes a request. A message with no `kind` set is malformed too: it
    /// asks for nothing.
    public static func decodeClientMessage(_ bytes: UnsafeRawBufferPointer) throws(WireError) -> ClientMessage {
        let decoded = withProtobufInput(bytes) { tickgate__v1__client_message__unpack(nil, $0, $1) }
        guard let decoded else { throw WireError(messageType: "ClientMessage", byteCount: bytes.count) }
        defer { tickgate__v1__client_message__free_unpacked(decoded, nil) }
        let c = decoded.pointee
        switch c.kind_case {
        case TICKGATE__V1__CLIENT_MESSAGE__KIND_SUBSCRIBE:
            return .subscribe(SubscribeRequest(c.subscribe.pointee))
        case TICKGATE__V1__CLIENT_MESSAGE__KIND_UNSUBSCRIBE:
            let s = c.unsubscribe.pointee
            return .unsubscribe(
                requestID: s.request_id, symbols: stringsFromC(s.symbols, count: s.n_symbols), venue: stringFromC(s.venue))
        case TICKGATE__V1__CLIENT_MESSAGE__KIND_PING:
            let p = c.ping.pointee
            return .ping(nonce: p.nonce, clientTimeNanos: p.client_time_ns)
        default:
            throw WireError(messageType: "ClientMessage", byteCount: bytes.count)
        }
    }

    // MARK: server → client

    public static func encode(_ message: ServerMessage, into buffer: inout ByteBuffer) {
        withCArena { arena in
            var c = Tickgate__V1__ServerMessage()
            tickgate__v1__server_message__init(&c)
            switch message {
            case .tick(let tick):
                c.kind_case = TICKGATE__V1__SERVER_MESSAGE__KIND_TICK
                c.tick = tick.cMessage(in: arena)
            case .batch(let ticks):
                var b = Tickgate__V1__TickBatch()
                tickgate__v1__tick_batch__init(&b)
                b.n_ticks = ticks.count
                b.ticks = arena.array(ticks.map { Optional($0.cMessage(in: arena)) })
                c.kind_case = TICKGATE__V1__SERVER_MESSAGE__KIND_BATCH
                c.batch = arena.make(b)
            case .ack(let requestID, let symbols):
                var a = Tickgate__V1__Ack()
                tickgate__v1__ack__init(&a)
                a.request_id = requestID
                a.n_symbols = symbols.count
                a.symbols = arena.strings(symbols)
                c.kind_case = TICKGATE__V1__SERVER_MESSAGE__KIND_ACK
                c.ack = arena.make(a)
            case .error(let error):
                var e = Tickgate__V1__Error()
                tickgate__v1__error__init(&e)
                e.request_id = error.requestID
                e.code = error.code
                e.message = arena.string(error.message)
                e.n_symbols = error.symbols.count
                e.symbols = arena.strings(error.symbols)
                e.retry_after_ms = error.retryAfterMillis
                c.kind_case = TICKGATE__V1__SERVER_MESSAGE__KIND_ERROR
                c.error = arena.make(e)
            case .pong(let nonce, let clientTime, let serverTime):
                var p = Tickgate__V1__Pong()
                tickgate__v1__pong__init(&p)
                p.nonce = nonce
                p.client_time_ns = clientTime
                p.server_time_ns = serverTime
                c.kind_case = TICKGATE__V1__SERVER_MESSAGE__KIND_PONG
                c.pong = arena.make(p)
            case .symbolStatus(let update):
                var status = Tickgate__V1__SymbolStatus()
                tickgate__v1__symbol_status__init(&status)
                status.symbol = arena.string(update.symbol)
                status.venue = arena.string(update.venue)
                status.stale = update.stale ? 1 : 0
                status.added = update.added ? 1 : 0
                status.last_tick_time_ns = update.lastTickTimeNanos
                c.kind_case = TICKGATE__V1__SERVER_MESSAGE__KIND_SYMBOL_STATUS
                c.symbol_status = arena.make(status)
            case .heartbeat(let serverTime):
                var h = Tickgate__V1__Heartbeat()
                tickgate__v1__heartbeat__init(&h)
                h.server_time_ns = serverTime
                c.kind_case = TICKGATE__V1__SERVER_MESSAGE__KIND_HEARTBEAT
                c.heartbeat = arena.make(h)
            case .lagging(let positions, let message):
                var l = Tickgate__V1__Lagging()
                tickgate__v1__lagging__init(&l)
                l.n_positions = positions.count
                l.positions = arena.array(positions.map { Optional($0.cMessage(in: arena)) })
                l.message = arena.string(message)
                c.kind_case = TICKGATE__V1__SERVER_MESSAGE__KIND_LAGGING
                c.lagging = arena.make(l)
            case .resumeStatus(let status):
                var r = Tickgate__V1__ResumeStatus()
                tickgate__v1__resume_status__init(&r)
                r.request_id = status.requestID
                r.symbol = arena.string(status.symbol)
                r.recovered = status.recovered ? 1 : 0
                r.kafka_partition = status.partition
                r.from_offset = status.fromOffset
                r.reason = arena.string(status.reason)
                c.kind_case = TICKGATE__V1__SERVER_MESSAGE__KIND_RESUME_STATUS
                c.resume_status = arena.make(r)
            }
            let size = tickgate__v1__server_message__get_packed_size(&c)
            buffer.writeProtobuf(size: size) { tickgate__v1__server_message__pack(&c, $0) }
        }
    }

    public static func decodeServerMessage(_ bytes: UnsafeRawBufferPointer) throws(WireError) -> ServerMessage {
        let decoded = withProtobufInput(bytes) { tickgate__v1__server_message__unpack(nil, $0, $1) }
        guard let decoded else { throw WireError(messageType: "ServerMessage", byteCount: bytes.count) }
        defer { tickgate__v1__server_message__free_unpacked(decoded, nil) }
        let c = decoded.pointee
        switch c.kind_case {
        case TICKGATE__V1__SERVER_MESSAGE__KIND_TICK:
            return .tick(Tick(c.tick))
        case TICKGATE__V1__SERVER_MESSAGE__KIND_BATCH:
            let b = c.batch.pointee
            return .batch((0..<b.n_ticks).compactMap { b.ticks[$0].map { Tick($0) } })
        case TICKGATE__V1__SERVER_MESSAGE__KIND_ACK:
            let a = c.ack.pointee
            return .ack(requestID: a.request_id, symbols: stringsFromC(a.symbols, count: a.n_symbols))
        case TICKGATE__V1__SERVER_MESSAGE__KIND_ERROR:
            let e = c.error.pointee
            return .error(RequestError(
                requestID: e.request_id, code: e.code, message: stringFromC(e.message),
                symbols: stringsFromC(e.symbols, count: e.n_symbols), retryAfterMillis: e.retry_after_ms))
        case TICKGATE__V1__SERVER_MESSAGE__KIND_PONG:
            let p = c.pong.pointee
            return .pong(nonce: p.nonce, clientTimeNanos: p.client_time_ns, serverTimeNanos: p.server_time_ns)
        case TICKGATE__V1__SERVER_MESSAGE__KIND_SYMBOL_STATUS:
            let status = c.symbol_status.pointee
            return .symbolStatus(SymbolStatus(
                symbol: stringFromC(status.symbol), venue: stringFromC(status.venue), stale: status.stale != 0,
                added: status.added != 0, lastTickTimeNanos: status.last_tick_time_ns))
        case TICKGATE__V1__SERVER_MESSAGE__KIND_HEARTBEAT:
            return .heartbeat(serverTimeNanos: c.heartbeat.pointee.server_time_ns)
        case TICKGATE__V1__SERVER_MESSAGE__KIND_LAGGING:
            let l = c.lagging.pointee
            return .lagging(
                positions: (0..<l.n_positions).compactMap { l.positions[$0].map { KafkaPosition($0) } },
                message: stringFromC(l.message))
        case TICKGATE__V1__SERVER_MESSAGE__KIND_RESUME_STATUS:
            let r = c.resume_status.pointee
            return .resumeStatus(ResumeStatus(
                requestID: r.request_id, symbol: stringFromC(r.symbol), recovered: r.recovered != 0,
                partition: r.kafka_partition, fromOffset: r.from_offset, reason: stringFromC(r.reason)))
        default:
            throw WireError(messageType: "ServerMessage", byteCount: bytes.count)
        }
    }
}

extension WireCodec {
    public static func decodeClientMessage(_ buffer: ByteBuffer) throws(WireError) -> ClientMessage {
        try decode(buffer) { raw throws(WireError) in try decodeClientMessage(raw) }
    }

    public static func decodeServerMessage(_ buffer: ByteBuffer) throws(WireError) -> ServerMessage {
        try decode(buffer) { raw throws(WireError) in try decodeServerMessage(raw) }
    }

    public static func decodeTick(_ buffer: ByteBuffer) throws(WireError) -> Tick {
        try decode(buffer) { raw throws(WireError) in try decodeTick(raw) }
    }

    public static func decodeClientMessage(_ bytes: [UInt8]) throws(WireError) -> ClientMessage {
        try decodeClientMessage(ByteBuffer(bytes: bytes))
    }

    static func decode<T>(
        _ buffer: ByteBuffer, _ body: (UnsafeRawBufferPointer) throws(WireError) -> T
    ) throws(WireError) -> T {
        let result: Result<T, WireError> = buffer.withUnsafeReadableBytes { raw in
            Result { () throws(WireError) -> T in try body(raw) }
        }
        return try result.get()
    }
}

/// The answer to a `Publish` call.
public struct PublishSummary: Hashable, Sendable {
    public var published: UInt64
    public var failed: UInt64
    public var firstError: String

    public init(published: UInt64, failed: UInt64, firstError: String) {
        self.published = published
        self.failed = failed
        self.firstError = firstError
    }
}

extension WireCodec {
    public static func encode(_ summary: PublishSummary, into buffer: inout ByteBuffer) {
        summary.firstError.withCString { error in
            var c = Tickgate__V1__PublishSummary()
            tickgate__v1__publish_summary__init(&c)
            c.published = summary.published
            c.failed = summary.failed
            c.first_error = UnsafeMutablePointer(mutating: error)
            let size = tickgate__v1__publish_summary__get_packed_size(&c)
            buffer.writeProtobuf(size: size) { tickgate__v1__publish_summary__pack(&c, $0) }
        }
    }

    public static func decodePublishSummary(_ buffer: ByteBuffer) throws(WireError) -> PublishSummary {
        try decode(buffer) { raw throws(WireError) in
            let decoded = withProtobufInput(raw) { tickgate__v1__publish_summary__unpack(nil, $0, $1) }
            guard let decoded else { throw WireError(messageType: "PublishSummary", byteCount: raw.count) }
            defer { tickgate__v1__publish_summary__free_unpacked(decoded, nil) }
            return PublishSummary(
                published: decoded.pointee.published, failed: decoded.pointee.failed,
                firstError: stringFromC(decoded.pointee.first_error))
        }
    }
}
