import Benchmark
import NIOCore
import TickgateModel

/// A tick as a feed adapter publishes it to Kafka: real-sized Unix-nanosecond
/// stamps (venue and publish time; the Kafka and gateway stamps are not set
/// yet). Its `WireCodec.encode` is the ~110-byte Kafka payload.
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
/// Allocation tolerances (see Thresholds/ and the README): the stored p90 of
/// mallocCountTotal per iteration may move by at most 100 either way, i.e.
/// 0.1 allocation per operation. One extra allocation per operation adds
/// 1,000 per iteration and fails `thresholds check`.
func perOperationConfiguration() -> Benchmark.Configuration {
    .init(
        scalingFactor: .kilo,
        maxDuration: .seconds(2),
        maxIterations: 1_000,
        thresholds: [.mallocCountTotal: .init(absolute: [.p90: 100])]
    )
}

func registerCodecBenchmarks() {
    let payload = WireCodec.encode(kafkaTick)

    // 1. Kafka payload → Tick (protobuf-c unpack, Swift Strings, free).
    Benchmark("TickDecode", configuration: perOperationConfiguration()) { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(try! WireCodec.decodeTick(payload))
        }
    }

    // 2. The gateway's per-tick step: decode → stamp → encode once as a
    // framed gRPC message, into a reused buffer (cleared each time).
    var transcodeBuffer = ByteBufferAllocator().buffer(capacity: 512)
    Benchmark("TickTranscode", configuration: perOperationConfiguration()) { benchmark in
        payload.withUnsafeBytes { raw in
            for _ in benchmark.scaledIterations {
                transcodeBuffer.clear()
                blackHole(try! TickTranscoder.transcode(kafkaPayload: raw, stamp: kafkaStamp, into: &transcodeBuffer))
            }
        }
        blackHole(transcodeBuffer.readableBytes)
    }

    // 3. A control message (the ack of a 3-symbol subscribe) with gRPC
    // framing: 5-byte prefix (flag + big-endian length, patched after the
    // encode, as the gateway's framer does) + ServerMessage. The message
    // value is built once; the encode builds its protobuf-c tree in a CArena.
    let ack = ServerMessage.ack(requestID: 7, symbols: ["BTC-USD", "ETH-USD", "SOL-USD"])
    var frameBuffer = ByteBufferAllocator().buffer(capacity: 512)
    Benchmark("GRPCFrame", configuration: perOperationConfiguration()) { benchmark in
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
