/// The partition Kafka's default key partitioner puts a key in: murmur2
/// of the key's bytes, made positive, modulo the partition count (Java's
/// `DefaultPartitioner`, librdkafka's `murmur2_random` for keyed messages,
/// which Tickgate's producers use). Lets the gateway find a symbol's
/// partition before it has seen a tick of it.
public enum KafkaKeyPartitioner {
    public static func partition(of key: String, partitions: Int) -> Int32 {
        precondition(partitions > 0)
        return Int32((murmur2(Array(key.utf8)) & 0x7fff_ffff) % UInt32(partitions))
    }

    /// Kafka's murmur2 (seed 0x9747b28c), byte for byte as Java computes it.
    static func murmur2(_ data: [UInt8]) -> UInt32 {
        let m: UInt32 = 0x5bd1_e995
        let r: UInt32 = 24
        var h: UInt32 = 0x9747_b28c ^ UInt32(truncatingIfNeeded: data.count)
        let fours = data.count / 4
        for index in 0..<fours {
            let i = index * 4
            var k = UInt32(data[i]) | UInt32(data[i + 1]) << 8 | UInt32(data[i + 2]) << 16 | UInt32(data[i + 3]) << 24
            k = k &* m
            k ^= k >> r
            k = k &* m
            h = h &* m
            h ^= k
        }
        let tail = fours * 4
        switch data.count % 4 {
        case 3:
            h ^= UInt32(data[tail + 2]) << 16
            h ^= UInt32(data[tail + 1]) << 8
            h ^= UInt32(data[tail])
            h = h &* m
        case 2:
            h ^= UInt32(data[tail + 1]) << 8
            h ^= UInt32(data[tail])
            h = h &* m
        case 1:
            h ^= UInt32(data[tail])
            h = h &* m
        default:
            break
        }
        h ^= h >> 13
        h = h &* m
        h ^= h >> 15
        return h
    }
}
