import NIOCore
import Testing
import TickgateModel

@Suite struct WireCodecTests {
    static let fullTick = Tick(
        symbol: "BTC-USD", venue: "coinbase",
        price: ExactDecimal(mantissa: 123_456_789_012_345_678, exponent: -8),
        size: ExactDecimal(mantissa: -1, exponent: -18), side: .sell, sequence: UInt64.max - 1,
        tradeID: "t-42", venueTimeNanos: 1_700_000_000_000_000_001, publishTimeNanos: 1_700_000_000_000_000_002,
        kafkaTimeMillis: 1_700_000_000_000, gatewayReceiveTimeNanos: 1_700_000_000_000_000_003,
        gatewayDispatchTimeNanos: 1_700_000_000_000_000_004, kafkaPartition: 5, kafkaOffset: 1 << 40)

    @Test func tickRoundTripsEveryField() throws {
        let bytes = WireCodec.encode(Self.fullTick)
        #expect(try WireCodec.decodeTick(bytes) == Self.fullTick)
        var marked = Self.fullTick
        marked.snapshot = true
        marked.skipped = 1 << 33
        #expect(try WireCodec.decodeTick(WireCodec.encode(marked)) == marked)
    }

    @Test func snapshotMessagesRoundTrip() throws {
        let request = SnapshotRequest(symbols: ["BTC-USD", "*-EUR"], venue: "kraken")
        var buffer = ByteBuffer()
        WireCodec.encode(request, into: &buffer)
        #expect(try WireCodec.decodeSnapshotRequest(buffer) == request)
        var tick = Self.fullTick
        tick.snapshot = true
        let response = SnapshotResponse(ticks: [tick, tick], warmingUp: true)
        buffer.clear()
        WireCodec.encode(response, into: &buffer)
        #expect(try WireCodec.decodeSnapshotResponse(buffer) == response)
    }

    @Test(arguments: [
        ExactDecimal.zero, ExactDecimal(mantissa: 0, exponent: -8), ExactDecimal(mantissa: 1, exponent: -18),
        ExactDecimal(mantissa: 999_999_999_999_999_999, exponent: 0), ExactDecimal(mantissa: Int64.min, exponent: Int32.min),
        ExactDecimal(mantissa: Int64.max, exponent: Int32.max), ExactDecimal(mantissa: -65_000_12, exponent: -2),
    ])
    func decimalEdgeCasesRoundTrip(value: ExactDecimal) throws {
        var tick = Self.fullTick
        tick.price = value
        tick.size = value
        let decoded = try WireCodec.decodeTick(WireCodec.encode(tick))
        #expect(decoded.price == value)
        #expect(decoded.size == value)
    }

    @Test func clientMessagesRoundTrip() throws {
        let messages: [ClientMessage] = [
            .subscribe(requestID: 1, symbols: ["BTC-USD", "ETH-USD"]),
            .subscribe(requestID: 2, symbols: []),
            .unsubscribe(requestID: UInt64.max, symbols: ["BTC-USD"]),
            .unsubscribe(requestID: 3, symbols: ["BTC-*"], venue: "kraken"),
            .subscribe(SubscribeRequest(requestID: 4, symbols: ["*-USD", "*"], venue: "binance", snapshot: true, maxRate: 7, lossless: false)),
            .subscribe(SubscribeRequest(requestID: 5, symbols: ["ETH-USD"], lossless: true)),
            .subscribe(SubscribeRequest(
                requestID: 6, symbols: ["ETH-USD", "BTC-USD"], resume: [KafkaPosition(symbol: "ETH-USD", partition: 2, offset: 1 << 40)],
                liveWhenMissing: true)),
            .subscribe(SubscribeRequest(requestID: 7, symbols: ["ETH-USD"], sinceTimeMillis: 1_795_000_000_000)),
            .ping(nonce: 9, clientTimeNanos: -1),
        ]
        for message in messages {
            var buffer = ByteBuffer()
            WireCodec.encode(message, into: &buffer)
            let decoded = try WireCodec.decodeClientMessage(buffer)
            #expect(decoded == message)
        }
    }

    @Test func serverMessagesRoundTrip() throws {
        var second = Self.fullTick
        second.symbol = "ETH-USD"
        second.sequence = 3
        let messages: [ServerMessage] = [
            .tick(Self.fullTick), .batch([Self.fullTick, second]), .ack(requestID: 4, symbols: ["BTC-USD"]),
            .ack(requestID: 5, symbols: []),
            .error(RequestError(requestID: 6, code: 5, message: "unknown symbol(s) ✓", symbols: ["FOO-BAR"])),
            .pong(nonce: 1, clientTimeNanos: 2, serverTimeNanos: 3),
            .symbolStatus(SymbolStatus(symbol: "BTC-USD", venue: "kraken", stale: true, lastTickTimeNanos: 1_795_000_000_000_000_000)),
            .symbolStatus(SymbolStatus(symbol: "ETH-USD", added: true)),
            .heartbeat(serverTimeNanos: 1_795_000_000_123_456_789),
            .resumeStatus(ResumeStatus(requestID: 9, symbol: "BTC-USD", recovered: false, partition: 4, fromOffset: 77, reason: "gone")),
            .error(RequestError(requestID: 10, code: 8, message: "busy", symbols: ["BTC-USD"], retryAfterMillis: 1500)),
            .lagging(positions: [KafkaPosition(symbol: "BTC-USD", partition: 3, offset: 41), KafkaPosition(symbol: "ETH-USD", partition: 0, offset: 7)], message: "behind"),
        ]
        for message in messages {
            var buffer = ByteBuffer()
            WireCodec.encode(message, into: &buffer)
            let decoded = try WireCodec.decodeServerMessage(buffer)
            #expect(decoded == message)
        }
    }

    @Test(arguments: [[0xFF, 0xFF, 0xFF, 0xFF], [0x0A, 0x05, 0x41], [0x08]] as [[UInt8]])
    func malformedBytesAreRefused(bytes: [UInt8]) {
        #expect(throws: WireError.self) { try WireCodec.decodeTick(bytes) }
        #expect(throws: WireError.self) { try WireCodec.decodeClientMessage(bytes) }
    }

    @Test func clientMessageWithoutKindIsRefused() {
        #expect(throws: WireError.self) { try WireCodec.decodeClientMessage([UInt8]()) }
    }

    @Test func transcoderStampsAndFramesOnce() throws {
        var original = Self.fullTick
        original.kafkaPartition = 0
        original.kafkaOffset = 0
        original.gatewayReceiveTimeNanos = 0
        original.gatewayDispatchTimeNanos = 0
        let payload = WireCodec.encode(original)
        var out = ByteBuffer()
        let before = WallClock.nowNanos()
        let symbol = try payload.withUnsafeBytes { raw in
            try TickTranscoder.transcode(
                kafkaPayload: raw,
                stamp: KafkaStamp(partition: 3, offset: 77, kafkaTimeMillis: 1234, receiveTimeNanos: 99),
                into: &out)
        }
        #expect(symbol == "BTC-USD")
        #expect(out.readInteger(as: UInt8.self) == 0)
        let length = Int(out.readInteger(as: UInt32.self)!)
        #expect(length == out.readableBytes)
        let message = try WireCodec.decodeServerMessage(out)
        guard case .tick(let tick) = message else {
            Issue.record("expected a tick, got \(message)")
            return
        }
        #expect(tick.kafkaPartition == 3 && tick.kafkaOffset == 77 && tick.kafkaTimeMillis == 1234)
        #expect(tick.gatewayReceiveTimeNanos == 99)
        #expect(tick.gatewayDispatchTimeNanos >= before)
        #expect(tick.price == original.price && tick.sequence == original.sequence && tick.venue == original.venue)
    }

    @Test func transcoderWritesNothingForMalformedPayload() {
        var out = ByteBuffer()
        #expect(throws: WireError.self) {
            try [UInt8](repeating: 0xFF, count: 8).withUnsafeBytes { raw in
                _ = try TickTranscoder.transcode(
                    kafkaPayload: raw, stamp: KafkaStamp(partition: 0, offset: 0, kafkaTimeMillis: 0, receiveTimeNanos: 0), into: &out)
            }
        }
        #expect(out.readableBytes == 0)
    }
}
