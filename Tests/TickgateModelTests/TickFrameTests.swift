import NIOCore
import Testing
import TickgateModel

@Suite struct TickFrameTests {
    /// The gateway's shared frame for `tick`, as the transcoder writes it.
    static func frame(_ tick: Tick) throws -> [UInt8] {
        var buffer = ByteBuffer()
        let payload = WireCodec.encode(tick)
        _ = try payload.withUnsafeBytes { raw in
            try TickTranscoder.transcode(
                kafkaPayload: raw, stamp: KafkaStamp(partition: 2, offset: 99, kafkaTimeMillis: 5, receiveTimeNanos: 6), into: &buffer)
        }
        return Array(buffer.readableBytesView)
    }

    static func decode(_ frame: [UInt8]) throws -> Tick {
        #expect(frame[0] == 0)
        let length = Int(frame[1]) << 24 | Int(frame[2]) << 16 | Int(frame[3]) << 8 | Int(frame[4])
        #expect(length == frame.count - 5, "the gRPC prefix must say the new length")
        guard case .tick(let tick) = try WireCodec.decodeServerMessage(ByteBuffer(bytes: frame.dropFirst(5))) else {
            Issue.record("not a tick")
            return WireCodecTests.fullTick
        }
        return tick
    }

    @Test(arguments: [(true, UInt64(0)), (false, 1), (true, 127), (false, 128), (true, UInt64.max)])
    func marksSurviveAndNothingElseChanges(snapshot: Bool, skipped: UInt64) throws {
        let original = try Self.frame(WireCodecTests.fullTick)
        var out: [UInt8] = []
        let written = original.withUnsafeBytes { raw in
            TickFrame.writeMarked(raw, snapshot: snapshot, skipped: skipped) { out.append(contentsOf: $0) }
        }
        #expect(written == out.count)
        #expect(out.count <= original.count + TickFrame.maxGrowth)
        var expected = try Self.decode(original)
        expected.snapshot = snapshot
        expected.skipped = skipped
        #expect(try Self.decode(out) == expected)
    }

    @Test func aTickWhoseLengthNeedsAnotherVarintByteIsReframed() throws {
        var tick = WireCodecTests.fullTick
        // Grow the tick to just under 128 bytes so the mark crosses the varint boundary.
        tick.tradeID = ""
        var original = try Self.frame(tick)
        while original.count - 7 < 126 {
            tick.tradeID += "x"
            original = try Self.frame(tick)
        }
        var out: [UInt8] = []
        _ = original.withUnsafeBytes { TickFrame.writeMarked($0, snapshot: true, skipped: 3) { out.append(contentsOf: $0) } }
        let decoded = try Self.decode(out)
        #expect(decoded.tradeID == tick.tradeID)
        #expect(decoded.snapshot && decoded.skipped == 3)
    }

    @Test func somethingElseIsRefused() {
        let bytes: [UInt8] = [0, 0, 0, 0, 2, 0x1A, 0x00]
        let written = bytes.withUnsafeBytes { TickFrame.writeMarked($0, snapshot: true, skipped: 0) { _ in } }
        #expect(written == nil)
    }

    @Test func aTickFromKafkaCannotCarryTheGatewaysMarks() throws {
        var tick = WireCodecTests.fullTick
        tick.snapshot = true
        tick.skipped = 9
        let decoded = try Self.decode(try Self.frame(tick))
        #expect(!decoded.snapshot && decoded.skipped == 0)
    }
}

@Suite struct SymbolPatternTests {
    @Test(arguments: [
        ("BTC-USD", "BTC-USD", true), ("BTC-USD", "BTC-USDT", false),
        ("BTC-*", "BTC-USD", true), ("BTC-*", "BTCX-USD", false), ("BTC-*", "WBTC-USD", false),
        ("*-USD", "ETH-USD", true), ("*-USD", "ETH-USDT", false), ("*-USD", "ETH-XUSD", false),
        ("*", "ANY-THING", true),
    ])
    func matches(pattern: String, symbol: String, expected: Bool) throws {
        #expect(try SymbolPattern(validating: pattern).matches(symbol) == expected)
    }

    @Test(arguments: ["BTC*", "*BTC-USD", "B*-USD", "btc-*", "*-", "-*", "**", "BTC-*-*", ""])
    func malformedPatternsAreRefused(text: String) {
        #expect(throws: SymbolError.self) { try SymbolPattern(validating: text) }
    }

    @Test func describesItselfAsWritten() throws {
        for text in ["BTC-USD", "BTC-*", "*-USD", "*"] {
            #expect(try SymbolPattern(validating: text).description == text)
        }
    }
}
