import Foundation
import Logging
import Synchronization
import Testing
import TickgateKafka
import TickgateModel
import TickgateTestSupport

#if canImport(Glibc)
import Glibc
#endif

/// What the reader and producer do when Kafka misbehaves: unreachable
/// brokers, partitions added later, positions that left the log.
@Suite(.serialized, .timeLimit(.minutes(3)))
struct KafkaReaderFaultTests {
    /// Records seen by a reader, by partition.
    final class Seen: Sendable {
        let records = Mutex<[(partition: Int32, offset: Int64, symbol: String, sequence: UInt64)]>([])
        let gaps = Mutex<[KafkaGap]>([])

        func add(_ batch: UnsafeBufferPointer<KafkaRecord>) {
            let decoded = batch.map { record in
                let tick = try! WireCodec.decodeTick(Array(record.value))
                return (record.partition, record.offset, tick.symbol, tick.sequence)
            }
            records.withLock { $0 += decoded }
        }

        var count: Int { records.withLock { $0.count } }
    }

    private func produce(_ ticks: [Tick], kafka: KafkaConfiguration) async throws {
        try await runOnDedicatedThread(name: "t") { () throws(KafkaError) in
            let producer = try KafkaProducer(configuration: kafka, topic: "ticks", logger: .quiet)
            defer { producer.close() }
            for tick in ticks { try producer.send(key: tick.symbol, value: WireCodec.encode(tick)) }
            try producer.flush(timeout: .seconds(30))
        }
    }

    /// Defect: the producer's handles were destroyed in the initialiser's
    /// error path and again when the object was torn down, and librdkafka
    /// aborted the process ("refcnt sub-zero") instead of an error.
    @Test func producerOnUnreachableBrokersFailsCleanlyTwice() async {
        for _ in 0..<2 {
            await #expect {
                _ = try await runOnDedicatedThread(name: "t") { () throws(KafkaError) in
                    try KafkaProducer(
                        configuration: KafkaConfiguration(brokers: "127.0.0.1:1", connectTimeout: .seconds(1)),
                        topic: "ticks", logger: .quiet)
                }
            } throws: { error in
                guard case .brokersUnreachable = error as? KafkaError else { return false }
                return true
            }
        }
    }

    /// Defect: partitions added to the topic after start were never read.
    /// The broker here cannot add partitions, so the reader is told to
    /// assume 2 of the topic's 4 at start: the other 2 are found by the
    /// metadata watch, as new partitions of a real cluster are.
    @Test func partitionsFoundLaterAreReadFromTheirBeginning() async throws {
        let broker = try EmbeddedBroker(logger: .quiet)
        defer { broker.close() }
        try broker.createTopic("ticks", partitions: 4)
        let kafka = KafkaConfiguration(brokers: broker.bootstrapServers)
        let symbols = (0..<20).map { "S\($0)-USD" }
        let before = makeTicks(symbols: symbols, perSymbol: 10)
        try await produce(before, kafka: kafka)
        var options = KafkaPartitionReader.Options()
        options.assumedInitialPartitions = 2
        options.metadataRefresh = .milliseconds(100)
        options.watermarkRefresh = .milliseconds(50)
        let chosen = options
        let reader = try await runOnDedicatedThread(name: "t") { () throws(KafkaError) in
            try KafkaPartitionReader(configuration: kafka, topic: "ticks", options: chosen, logger: .quiet)
        }
        defer { reader.close() }
        #expect(reader.partitionCount == 2)
        let seen = Seen()
        reader.start { seen.add($0) }
        #expect(await eventually { reader.partitionCount == 4 })
        // Partitions 0 and 1 were read from their end, 2 and 3 from their
        // beginning: exactly the ticks that went to 2 and 3.
        let expected = await eventually { seen.count > 0 && seen.records.withLock { Set($0.map(\.partition)) } == [2, 3] }
        #expect(expected)
        let after = makeTicks(symbols: symbols, perSymbol: 5, seed: 9)
        try await produce(after, kafka: kafka)
        let all = await eventually {
            seen.records.withLock { records in Set(records.map(\.partition)) == [0, 1, 2, 3] }
        }
        #expect(all)
        let records = seen.records.withLock { $0 }
        let late = records.filter { $0.partition >= 2 }
        #expect(Set(late.map { "\($0.partition)/\($0.offset)" }).count == late.count, "no duplicates")
        #expect(late.filter { $0.offset == 0 }.count == 2, "both new partitions from offset 0")
    }

    /// Defect: a position outside the log made librdkafka jump to the live
    /// end in silence. Here a broker answers a fetch with
    /// OFFSET_OUT_OF_RANGE although the position is fine: the reader asks
    /// for the watermarks, finds the position inside the log and goes on
    /// there, losing and repeating nothing, with the error counted.
    @Test func spuriousOutOfRangeLosesNothing() async throws {
        let broker = try EmbeddedBroker(logger: .quiet)
        defer { broker.close() }
        try broker.createTopic("ticks", partitions: 1)
        let kafka = KafkaConfiguration(brokers: broker.bootstrapServers)
        let reader = try await runOnDedicatedThread(name: "t") { () throws(KafkaError) in
            try KafkaPartitionReader(configuration: kafka, topic: "ticks", logger: .quiet)
        }
        defer { reader.close() }
        let seen = Seen()
        reader.start(onGap: { gap in seen.gaps.withLock { $0.append(gap) } }) { seen.add($0) }
        try await produce(makeTicks(symbols: ["BTC-USD"], perSymbol: 100), kafka: kafka)
        #expect(await eventually { seen.count == 100 })
        broker.failNextFetches(count: 1)
        try await produce(makeTicks(symbols: ["ETH-USD"], perSymbol: 100), kafka: kafka)
        #expect(await eventually { seen.count >= 200 })
        #expect(await eventually { (reader.errorCounts.first { $0.key.name == "OFFSET_OUT_OF_RANGE" }?.value ?? 0) >= 1 })
        let offsets = seen.records.withLock { $0.map(\.offset) }
        #expect(offsets == Array(0..<200), "every offset once, in order")
        #expect(seen.gaps.withLock { $0 }.isEmpty)
        #expect(reader.gapCount == 0)
    }

    /// A position retention already removed: the reader goes on at the
    /// oldest offset kept and reports exactly the skipped range.
    @Test func positionBelowTheLogStartIsReportedAsAGap() async throws {
        let broker = try EmbeddedBroker(logger: .quiet)
        defer { broker.close() }
        try broker.createTopic("ticks", partitions: 1)
        let kafka = KafkaConfiguration(brokers: broker.bootstrapServers)
        // The embedded broker keeps at most 5 MiB per partition: 7 MB of
        // ticks push the oldest out, as retention does on a real cluster.
        var big = makeTicks(symbols: ["BTC-USD"], perSymbol: 1)[0]
        big.tradeID = String(repeating: "x", count: 900)
        let ticks = (1...7_500).map { index -> Tick in
            var tick = big
            tick.sequence = UInt64(index)
            return tick
        }
        try await produce(ticks, kafka: kafka)
        let reader = try await runOnDedicatedThread(name: "t") { () throws(KafkaError) in
            try KafkaPartitionReader(configuration: kafka, topic: "ticks", start: .offsets([0: 0]), logger: .quiet)
        }
        defer { reader.close() }
        let seen = Seen()
        reader.start(onGap: { gap in seen.gaps.withLock { $0.append(gap) } }) { seen.add($0) }
        #expect(await eventually { !seen.gaps.withLock { $0 }.isEmpty })
        let gap = try #require(seen.gaps.withLock { $0.first })
        #expect(gap.partition == 0)
        #expect(gap.fromOffset == 0)
        #expect(gap.resumeOffset > 0)
        #expect(await eventually { seen.count == 7_500 - Int(gap.resumeOffset) })
        let first = seen.records.withLock { $0.first }
        #expect(first?.offset == gap.resumeOffset, "reading goes on exactly where the gap ends")
        #expect(reader.gapCount == 1)
    }

    /// Defect: threads started by `runOnDedicatedThread` were neither
    /// joined nor detached, so each kept its stack (8 MiB of address
    /// space) after it ended.
    @Test func dedicatedThreadsGiveTheirStacksBack() async throws {
        // Other tests run alongside and move the process's size by tens of
        // MiB; 400 leaked stacks would add over 3 GiB.
        for _ in 0..<4 { await runOnDedicatedThread(name: "warm") {} }
        let before = try virtualMemoryKiB()
        for _ in 0..<400 { await runOnDedicatedThread(name: "t") {} }
        let grown = try virtualMemoryKiB() - before
        #expect(grown < 1024 * 1024, "grew by \(grown) KiB over 400 threads")
    }

    private func virtualMemoryKiB() throws -> Int {
        let status = try String(contentsOfFile: "/proc/self/status", encoding: .utf8)
        let line = try #require(status.split(separator: "\n").first { $0.hasPrefix("VmSize:") })
        // "VmSize:\t  123456 kB" (under AddressSanitizer the number fills the
        // field and follows the tab directly).
        return try #require(Int(line.split(whereSeparator: { $0 == " " || $0 == "\t" })[1]))
    }
}
