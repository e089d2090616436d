public import NIOCore
import CTickgateProto

extension KafkaPosition {
    init(_ c: UnsafePointer<Tickgate__V1__Position>) {
        self.init(symbol: stringFromC(c.pointee.symbol), partition: c.pointee.kafka_partition, offset: c.pointee.kafka_offset)
    }

    func cMessage(in arena: CArena) -> UnsafeMutablePointer<Tickgate__V1__Position> {
        var p = Tickgate__V1__Position()
        tickgate__v1__position__init(&p)
        p.symbol = arena.string(symbol)
        p.kafka_partition = partition
        p.kafka_offset = offset
        return arena.make(p)
    }
}

extension WireCodec {
    public static func encode(_ request: SnapshotRequest, into buffer: inout ByteBuffer) {
        withCArena { arena in
            var c = Tickgate__V1__SnapshotRequest()
            tickgate__v1__snapshot_request__init(&c)
            c.n_symbols = request.symbols.count
            c.symbols = arena.strings(request.symbols)
            c.venue = arena.string(request.venue)
            let size = tickgate__v1__snapshot_request__get_packed_size(&c)
            buffer.writeProtobuf(size: size) { tickgate__v1__snapshot_request__pack(&c, $0) }
        }
    }

    public static func decodeSnapshotRequest(_ buffer: ByteBuffer) throws(WireError) -> SnapshotRequest {
        try decode(buffer) { raw throws(WireError) in
            let decoded = withProtobufInput(raw) { tickgate__v1__snapshot_request__unpack(nil, $0, $1) }
            guard let decoded else { throw WireError(messageType: "SnapshotRequest", byteCount: raw.count) }
            defer { tickgate__v1__snapshot_request__free_unpacked(decoded, nil) }
            return SnapshotRequest(
                symbols: stringsFromC(decoded.pointee.symbols, count: decoded.pointee.n_symbols),
                venue: stringFromC(decoded.pointee.venue))
        }
    }

    public static func encode(_ response: SnapshotResponse, into buffer: inout ByteBuffer) {
        withCArena { arena in
            var c = Tickgate__V1__SnapshotResponse()
            tickgate__v1__snapshot_response__init(&c)
            c.n_ticks = response.ticks.count
            c.ticks = arena.array(response.ticks.map { Optional($0.cMessage(in: arena)) })
            c.warming_up = response.warmingUp ? 1 : 0
            let size = tickgate__v1__snapshot_response__get_packed_size(&c)
            buffer.writeProtobuf(size: size) { tickgate__v1__snapshot_response__pack(&c, $0) }
        }
    }

    public static func decodeSnapshotResponse(_ buffer: ByteBuffer) throws(WireError) -> SnapshotResponse {
        try decode(buffer) { raw throws(WireError) in
            let decoded = withProtobufInput(raw) { tickgate__v1__snapshot_response__unpack(nil, $0, $1) }
            guard let decoded else { throw WireError(messageType: "SnapshotResponse", byteCount: raw.count) }
            defer { tickgate__v1__snapshot_response__free_unpacked(decoded, nil) }
            let r = decoded.pointee
            return SnapshotResponse(
                ticks: (0..<r.n_ticks).compactMap { r.ticks[$0].map { Tick($0) } }, warmingUp: r.warming_up != 0)
        }
    }
}
