import Synchronization
import NIOCore
import Testing
@testable import TickgateGateway
import TickgateHTTP2
import TickgateModel

@Suite struct SSEStreamTests {
    static func tickFrame(_ symbol: String, sequence: UInt64, partition: Int32, offset: Int64) -> [UInt8] {
        let tick = Tick(symbol: symbol, venue: "synthetic", price: ExactDecimal(mantissa: 6_700_012, exponent: -2),
                        size: ExactDecimal(mantissa: 15, exponent: -3), side: .sell, sequence: sequence,
                        kafkaPartition: partition, kafkaOffset: offset)
        return frame(.tick(tick))
    }

    static func frame(_ message: ServerMessage) -> [UInt8] {
        var body = ByteBuffer()
        WireCodec.encode(message, into: &body)
        return [0] + withUnsafeBytes(of: UInt32(body.readableBytes).bigEndian, Array.init) + Array(body.readableBytesView)
    }

    static func text(_ stream: HTTP2OutboundStream) -> String {
        let text = String(decoding: stream.pending.readableBytesArray, as: UTF8.self)
        stream.pending.clear()
        return text
    }

    @Test func ticksBecomeEventsWithSharedJSONAndThisStreamsResumeID() {
        let stats = GatewayStats()
        let cache = TickJSONCache(stats: stats)
        let a = HTTP2OutboundStream(), b = HTTP2OutboundStream()
        let first = SSEStream(source: a, cache: cache, limit: 1 << 20, named: ["BTC-USD"], resumedFrom: [])
        let second = SSEStream(source: b, cache: cache, limit: 1 << 20, named: [], resumedFrom: [])
        let btc = Self.tickFrame("BTC-USD", sequence: 9, partition: 3, offset: 41)
        for source in [a, b] {
            source.pending.writeBytes(Self.frame(.ack(requestID: 1, symbols: ["BTC-USD"])))
            source.pending.writeBytes(btc)
        }
        var marked: [UInt8] = []
        _ = btc.withUnsafeBytes { TickFrame.writeMarked($0, snapshot: false, skipped: 4) { marked += $0 } }
        a.pending.writeBytes(marked)

        let out = Self.text(first.transcode())
        let json = "{\"symbol\":\"BTC-USD\",\"venue\":\"synthetic\",\"price\":\"67000.12\",\"size\":\"0.015\",\"side\":\"sell\",\"sequence\":9,"
            + "\"trade_id\":\"\",\"venue_time_ns\":0,\"publish_time_ns\":0,\"kafka_time_ms\":0,\"gateway_receive_time_ns\":0,"
            + "\"gateway_dispatch_time_ns\":0,\"kafka_partition\":3,\"kafka_offset\":41"
        #expect(out == "retry: 1000\n\nevent: ack\ndata: {\"symbols\":[\"BTC-USD\"]}\n\n"
            + "id: t1:BTC-USD@3:41\ndata: \(json)}\n\n" + "id: t1:BTC-USD@3:41\ndata: \(json),\"skipped\":4}\n\n")
        #expect(a.pending.readableBytes == 0, "everything was taken")
        // The other stream names no symbol: no id; the JSON came from the cache.
        #expect(Self.text(second.transcode()).hasSuffix("\n\ndata: \(json)}\n\n"))
        #expect(stats.sseTickEncodes.load(ordering: .relaxed) == 1, "one JSON encoding for the tick, shared")
    }

    @Test func theBoundLeavesTheRestWithTheCallAndTheEndCarriesTheStatus() {
        let source = HTTP2OutboundStream()
        let sse = SSEStream(source: source, cache: TickJSONCache(stats: GatewayStats()), limit: 600, named: ["ETH-USD"],
                            resumedFrom: [KafkaPosition(symbol: "ETH-USD", partition: 1, offset: 7)])
        for offset in 8..<20 { source.pending.writeBytes(Self.tickFrame("ETH-USD", sequence: UInt64(offset), partition: 1, offset: Int64(offset))) }
        let before = source.pending.readableBytes
        let wire = sse.transcode()
        #expect(wire.pending.readableBytes >= 600 && wire.pending.readableBytes < 1200, "stops past the bound")
        #expect(source.pending.readableBytes > 0 && source.pending.readableBytes < before, "the rest waits with the call")
        _ = Self.text(wire)
        source.finish(trailers: GRPCStatus(.unavailable, "server shutting down").trailerFields)
        var rest = ""
        while !wire.finished {
            rest += Self.text(sse.transcode())
        }
        #expect(rest.contains("id: t1:ETH-USD@1:19\n"))
        #expect(rest.hasSuffix("event: end\ndata: {\"code\":14,\"message\":\"server shutting down\"}\n\n"))
    }
}
