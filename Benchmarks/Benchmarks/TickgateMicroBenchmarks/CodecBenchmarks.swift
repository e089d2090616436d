import Benchmark
import NIOCore
import TickgateModel

/// A tick as a feed adapter publishes it to Kafka: real-sized Unix-nanosecond
/// stamps (venue and publish time; the Kafka and gateway stamps are not set
/// yet). `WireCodec.encode` makes it a 63-byte Kafka payload; transcoded
/// (stamped, wrapped in ServerMessage, gRPC-framed) it is 103 bytes.
let kafkaTick = Tick(
    symbol: "BTC-USD", venue: "synthetic",
    price: ExactDecimal(mantissa: 6_500_012, exponent: -2),
    size: ExactDecimal(mantissa: 12_345, exponent: -8),
    side: .buy, sequence: 1_000_042,
    venueTimeNanos: 1_795_000_000_123_456_789, publishTimeNanos: 1_795_000_000_123_706_789)

/// Where the gateway's reader would have found that payload.
let kafkaStamp = KafkaStamp(
    partition: 3, offset: 1_000_042, kafkaTimeMillis: 1_795_000_000_124,
    receiveTimeNanos: 1_795_000_000_124_900_000)

/// The per-operation benchmarks run 1,000 operations per iteration
/// (`scalingFactor: .kilo`, `for _ in benchmark.scaledIterations`), so the
/// table's time and malloc columns are per operation and the throughput
/// column is operations per second. The threshold checks compare the raw
/// per-iteration values (per 1,000 operations).
///
/// Allocation tolerance (see Thresholds/ and the README): `thresholds check`
/// fails when the p90 malloc count per iteration differs by more than 100
/// from the stored value, i.e. 0.1 allocation per operation. The measured
/// counts are exact (p0 = p100), so one extra allocation per operation
/// (+1,000 per iteration) always fails. Time is not checked: this 2-core
/// machine is shared with builds.
func perOperationConfiguration() -> Benchmark.Configuration {
    .init(
        scalingFactor: .kilo,
        maxDuration: .seconds(1),
        maxIterations: 1_000,
        thresholds: [.mallocCountTotal: .init(absolute: [.p90: 100])]
    )
}

func registerCodecBenchmarks() {
    let payload = WireCodec.encode(kafkaTick)

    // 1. Kafka payload → Tick (protobuf-c unpack, Swift Strings, free).
    Benchmark("TickDecode", configuration: perOperationConfiguration()) { benchmark in
        try measure(benchmark) {
            for _ in benchmark.scaledIterations {
                blackHole(try WireCodec.decodeTick(payload))
            }
        }
    }

    // 2. The gateway's per-tick step: decode → stamp → encode once as a
    // framed gRPC message, into a reused buffer (cleared each time).
    var transcodeBuffer = ByteBufferAllocator().buffer(capacity: 512)
    Benchmark("TickTranscode", configuration: perOperationConfiguration()) { benchmark in
        try payload.withUnsafeBytes { raw in
            try measure(benchmark) {
                for _ in benchmark.scaledIterations {
                    transcodeBuffer.clear()
                    blackHole(try TickTranscoder.transcode(kafkaPayload: raw, stamp: kafkaStamp, into: &transcodeBuffer))
                }
            }
        }
        blackHole(transcodeBuffer.readableBytes)
    }

    // 3. A control message (the ack of a 3-symbol subscribe) with gRPC
    // framing (36 bytes): 5-byte prefix (flag + big-endian length, patched after the
    // encode, as the gateway's framer does) + ServerMessage. The message
    // value is built once; the encode builds its protobuf-c tree in a CArena.
    let ack = ServerMessage.ack(requestID: 7, symbols: ["BTC-USD", "ETH-USD", "SOL-USD"])
    var frameBuffer = ByteBufferAllocator().buffer(capacity: 512)
    Benchmark("GRPCFrame", configuration: perOperationConfiguration()) { benchmark in
        measure(benchmark) {
            for _ in benchmark.scaledIterations {
                frameBuffer.clear()
                let start = frameBuffer.writerIndex
                frameBuffer.writeInteger(UInt8(0))  // not compressed
                frameBuffer.writeInteger(UInt32(0))  // length, patched below
                WireCodec.encode(ack, into: &frameBuffer)
                frameBuffer.setInteger(UInt32(frameBuffer.writerIndex - start - 5), at: start + 1)
                blackHole(frameBuffer.readableBytes)
            }
        }
    }
}
