public import NIOCore
import CTickgateProto

extension SubscribeRequest {
    init(_ s: Tickgate__V1__Subscribe) {
        self.init(
            requestID: s.request_id, symbols: stringsFromC(s.symbols, count: s.n_symbols),
            venue: stringFromC(s.venue), snapshot: s.snapshot != 0, maxRate: s.max_rate, lossless: s.lossless != 0,
            resume: (0..<s.n_resume).compactMap { s.resume[$0].map { KafkaPosition($0) } },
            sinceTimeMillis: s.since_time_ms, liveWhenMissing: s.on_missing == TICKGATE__V1__RESUME_FALLBACK__RESUME_FALLBACK_LIVE)
    }

    func cMessage(in arena: CArena) -> Tickgate__V1__Subscribe {
        var s = Tickgate__V1__Subscribe()
        tickgate__v1__subscribe__init(&s)
        s.request_id = requestID
        s.n_symbols = symbols.count
        s.symbols = arena.strings(symbols)
        s.venue = arena.string(venue)
        s.snapshot = snapshot ? 1 : 0
        s.max_rate = maxRate
        s.lossless = lossless ? 1 : 0
        s.n_resume = resume.count
        s.resume = arena.array(resume.map { Optional($0.cMessage(in: arena)) })
        s.since_time_ms = sinceTimeMillis
        s.on_missing = liveWhenMissing ? TICKGATE__V1__RESUME_FALLBACK__RESUME_FALLBACK_LIVE : TICKGATE__V1__RESUME_FALLBACK__RESUME_FALLBACK_EARLIEST
        return s
    }
}

extension WireCodec {
    /// A bare `Subscribe`: the request of a `Watch` call.
    public static func encode(_ request: SubscribeRequest, into buffer: inout ByteBuffer) {
        withCArena { arena in
            var s = request.cMessage(in: arena)
            let size = tickgate__v1__subscribe__get_packed_size(&s)
            buffer.writeProtobuf(size: size) { tickgate__v1__subscribe__pack(&s, $0) }
        }
    }

    public static func decodeSubscribe(_ bytes: UnsafeRawBufferPointer) throws(WireError) -> SubscribeRequest {
        let decoded = withProtobufInput(bytes) { tickgate__v1__subscribe__unpack(nil, $0, $1) }
        guard let decoded else { throw WireError(messageType: "Subscribe", byteCount: bytes.count) }
        defer { tickgate__v1__subscribe__free_unpacked(decoded, nil) }
        return SubscribeRequest(decoded.pointee)
    }

    public static func decodeSubscribe(_ buffer: ByteBuffer) throws(WireError) -> SubscribeRequest {
        try decode(buffer) { raw throws(WireError) in try decodeSubscribe(raw) }
    }
}
