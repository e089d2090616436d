import NIOCore
import Synchronization
import TickgateHTTP2
import TickgateModel

/// One Server-Sent Events response (`GET /v1/ticks`): turns what its
/// ``StreamCall`` queues (framed gRPC messages, the same shared tick bytes
/// every subscriber gets) into `text/event-stream` events before each
/// write.
///
/// A tick is one unnamed event: `data:` its JSON from the loop's
/// ``TickJSONCache`` (built once per tick), then this delivery's marks;
/// `id:` this stream's resume token (`t1:SYMBOL@PARTITION:OFFSET,…` over
/// the symbols named in the request), which a browser's `EventSource`
/// sends back as `Last-Event-ID` when it reconnects. Everything else is a
/// named event (`status`, `resume`, `refused`, `ack`, `heartbeat`,
/// `lagging`, and `end` with the final status).
///
/// What it has transcoded waits in `wire`, bounded like the call's own
/// pending bytes: past the bound it stops, the call's bytes stay with the
/// call, and the call's bound (conflation) applies.
final class SSEStream: OutboundTranscoder {
    /// What the call appends to (gRPC messages).
    let source: HTTP2OutboundStream
    /// What leaves: event-stream bytes.
    let wire = HTTP2OutboundStream()
    private let cache: TickJSONCache
    private let limit: Int
    /// Resume positions: the symbols named in the request, sorted, and for
    /// each the `SYMBOL@PARTITION:OFFSET` of the last tick this stream
    /// delivered (or resumed from), kept as bytes and rewritten in place
    /// when that symbol's next tick goes out (empty: none yet). The id of
    /// an event is their concatenation: no allocation per event.
    private let named: [String]
    private let namedIndex: [String: Int]
    #if DEBUG
    private var segments: [[UInt8]]
    #else
    @exclusivity(unchecked) private var segments: [[UInt8]]
    #endif

    init(source: HTTP2OutboundStream, cache: TickJSONCache, limit: Int, named: [String], resumedFrom: [KafkaPosition]) {
        self.source = source
        self.cache = cache
        self.limit = limit
        let sorted = Array(Set(named)).sorted()
        self.named = sorted
        self.namedIndex = Dictionary(uniqueKeysWithValues: sorted.enumerated().map { ($1, $0) })
        self.segments = sorted.map { _ in [] }
        for index in segments.indices { segments[index].reserveCapacity(named[index].utf8.count + 32) }
        for position in resumedFrom {
            if let index = namedIndex[position.symbol] { setPosition(index, position.partition, position.offset) }
        }
        source.transcoder = self
        // Reconnect soon after a drop (EventSource's default is ~3 s).
        wire.pending.writeBytes(Array("retry: 1000\n\n".utf8))
    }

    func transcode() -> HTTP2OutboundStream {
        let pending = source.pending
        var consumed = 0
        pending.withUnsafeReadableBytes { raw in
            while consumed + 5 <= raw.count, wire.pending.readableBytes < limit {
                let length = Int(raw[consumed + 1]) << 24 | Int(raw[consumed + 2]) << 16 | Int(raw[consumed + 3]) << 8 | Int(raw[consumed + 4])
                guard consumed + 5 + length <= raw.count else { break }
                event(UnsafeRawBufferPointer(rebasing: raw[consumed..<(consumed + 5 + length)]))
                consumed += 5 + length
            }
        }
        if consumed > 0 {
            pending.moveReaderIndex(forwardBy: consumed)
            source.compactPending()
        }
        if source.finished, pending.readableBytes == 0, !wire.finished {
            let status = source.trailers.map(Self.status(of:)) ?? (code: 0, message: "")
            write(event: "end", data: "{\"code\":\(status.code),\"message\":\(TickJSON.quoted(status.message))}")
            wire.finish(trailers: nil)
        }
        return wire
    }

    // MARK: events

    private func event(_ frame: UnsafeRawBufferPointer) {
        if let scan = TickFrame.scan(frame) {
            guard let entry = cache.entry(frame, at: .init(partition: scan.partition, offset: scan.offset)) else { return }
            tickEvent(entry, scan)
            return
        }
        let message: ServerMessage
        do {
            message = try WireCodec.decodeServerMessage(UnsafeRawBufferPointer(rebasing: frame[5...]))
        } catch {
            return
        }
        switch message {
        case .tick(let tick):
            tickEvent(tick)
        case .batch(let ticks):
            for tick in ticks { tickEvent(tick) }
        case .ack(_, let symbols):
            write(event: "ack", data: "{\"symbols\":\(Self.array(symbols))}")
        case .error(let error):
            write(event: "refused", data: "{\"code\":\(error.code),\"message\":\(TickJSON.quoted(error.message)),\"symbols\":\(Self.array(error.symbols)),\"retry_after_ms\":\(error.retryAfterMillis)}")
        case .symbolStatus(let s):
            write(event: "status", data: "{\"symbol\":\(TickJSON.quoted(s.symbol)),\"venue\":\(TickJSON.quoted(s.venue)),\"stale\":\(s.stale),\"added\":\(s.added),\"last_tick_time_ns\":\(s.lastTickTimeNanos)}")
        case .resumeStatus(let r):
            write(event: "resume", data: "{\"symbol\":\(TickJSON.quoted(r.symbol)),\"recovered\":\(r.recovered),\"kafka_partition\":\(r.partition),\"from_offset\":\(r.fromOffset),\"reason\":\(TickJSON.quoted(r.reason))}")
        case .heartbeat(let time):
            write(event: "heartbeat", data: "{\"server_time_ns\":\(time)}")
        case .lagging(let positions, let text):
            let list = positions.map { "{\"symbol\":\(TickJSON.quoted($0.symbol)),\"kafka_partition\":\($0.partition),\"kafka_offset\":\($0.offset)}" }
            write(event: "lagging", data: "{\"positions\":[\(list.joined(separator: ","))],\"message\":\(TickJSON.quoted(text))}")
        case .pong:
            break
        }
    }

    /// The hot path: the id, then the cached JSON and this delivery's
    /// marks, written straight into the wire buffer.
    private func tickEvent(_ entry: TickJSONCache.Entry, _ scan: TickFrame.Scan) {
        let pending = wire.pending
        if let index = namedIndex[entry.symbol] {
            setPosition(index, scan.partition, scan.offset)
            writeID(pending)
        }
        pending.writeBytes(Self.dataPrefix)
        pending.writeBytes(entry.json)
        if scan.snapshot || scan.skipped > 0 { pending.writeBytes(Array(TickJSON.marks(snapshot: scan.snapshot, skipped: scan.skipped).utf8)) }
        pending.writeBytes(Self.eventEnd)
    }

    /// A tick that came inside another message (not in the cache).
    private func tickEvent(_ tick: Tick) {
        let pending = wire.pending
        if let index = namedIndex[tick.symbol] {
            setPosition(index, tick.kafkaPartition, tick.kafkaOffset)
            writeID(pending)
        }
        pending.writeBytes(Self.dataPrefix)
        pending.writeBytes(Array(("{" + TickJSON.sharedFields(tick) + TickJSON.marks(snapshot: tick.snapshot, skipped: tick.skipped)).utf8))
        pending.writeBytes(Self.eventEnd)
    }

    /// `id: t1:` and every symbol's segment that has a position.
    private func writeID(_ pending: PendingBytes) {
        pending.writeBytes(Self.idPrefix)
        var first = true
        for index in segments.indices where !segments[index].isEmpty {
            if !first { pending.writeBytes(Self.comma) }
            first = false
            segments[index].withUnsafeBytes { pending.writeBytes($0) }
        }
        pending.writeBytes(Self.newline)
    }

    /// Rewrites one symbol's segment in place (its capacity is kept).
    private func setPosition(_ index: Int, _ partition: Int32, _ offset: Int64) {
        segments[index].removeAll(keepingCapacity: true)
        segments[index].append(contentsOf: named[index].utf8)
        segments[index].append(UInt8(ascii: "@"))
        Self.appendDecimal(Int64(partition), to: &segments[index])
        segments[index].append(UInt8(ascii: ":"))
        Self.appendDecimal(offset, to: &segments[index])
    }

    private static func appendDecimal(_ value: Int64, to bytes: inout [UInt8]) {
        if value < 0 { bytes.append(UInt8(ascii: "-")) }
        var rest = value.magnitude
        var divisor: UInt64 = 1
        while divisor <= rest / 10 { divisor *= 10 }
        repeat {
            bytes.append(UInt8(ascii: "0") + UInt8(rest / divisor))
            rest %= divisor
            divisor /= 10
        } while divisor > 0
    }

    private func write(event name: String, data: String) {
        wire.pending.writeBytes(Array("event: \(name)\ndata: \(data)\n\n".utf8))
    }

    private static let idPrefix = Array("id: t1:".utf8)
    private static let dataPrefix = Array("data: ".utf8)
    private static let eventEnd = Array("}\n\n".utf8)
    private static let comma = [UInt8(ascii: ",")]
    private static let newline = [UInt8(10)]

    private static func array(_ strings: [String]) -> String {
        "[" + strings.map(TickJSON.quoted).joined(separator: ",") + "]"
    }

    static func status(of trailers: [HTTP2Header]) -> (code: Int, message: String) {
        let code = trailers[first: "grpc-status"].flatMap { Int($0) } ?? 2
        let message = trailers[first: "grpc-message"].map(GRPCPercentEncoding.decode) ?? ""
        return (code, message)
    }
}

extension SSEStream {
    /// The call behind a Server-Sent Events response (either protocol): a
    /// Watch call whose output this transcodes. Counted; not started.
    static func makeCall(for request: SSERequest, streamID: Int32, context: CallContext, grant: Grant) -> StreamCall {
        let call = StreamCall(streamID: streamID, context: context, grant: grant, watch: true)
        _ = SSEStream(source: call.outbound, cache: context.tickJSON, limit: context.limits.maxPendingBytesPerStream,
                      named: request.named, resumedFrom: request.subscribe.resume)
        context.stats.sseStreams.add(1, ordering: .relaxed)
        return call
    }
}

extension StreamCall {
    /// Starts a Watch call whose one request came outside its body (an
    /// SSE query): nothing more will come from the client.
    func startWatching(_ request: SubscribeRequest) {
        start(endStream: false)
        watch(request)
        receivedEndStream()
    }
}
