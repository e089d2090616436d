import Testing
import TickgateClient
import TickgateFeeds
import TickgateKafka
import TickgateModel
import TickgateTestSupport

/// The bundled Binance sample replays through Kafka and the gateway to a
/// subscriber: every trade, in order, with its exact price.
@Suite(.serialized, .timeLimit(.minutes(2)))
struct ReplayThroughGatewayTests {
    static let samples = String(#filePath.split(separator: "/").dropLast(3).joined(separator: "/").prepending("/")) + "/scripts/samples"

    @Test func bundledBinanceSampleReachesASubscriber() async throws {
        let harness = try await GatewayHarness.start(partitions: 3)
        let connection = try await TickgateConnection.connect(host: "127.0.0.1", port: harness.port)
        let stream = try await connection.openStream()
        _ = try await stream.subscribe(["BTC-USDT"])

        let path = Self.samples + "/BTCUSDT-trades-2024-01-01-sample.csv"
        let run = try ReplayRun(
            publisher: harness.publisher,
            options: .init(source: .file(path), format: .binance, symbol: Symbol("BTC-USDT"), venue: "binance", speed: nil),
            logger: .quiet)
        let report = try await runOnDedicatedThread(name: "t") { () throws(ReplayRun.Failure) in try run.finish() }
        #expect(report.lines == 300 && report.published == 300 && report.skipped == 0 && report.duplicates == 0)

        let got = try await collect(stream, count: 300)
        #expect(got.map(\.tick.sequence) == Array(1...300))
        let first = try #require(got.first?.tick)
        #expect(first.price.description == "42283.59000000")
        #expect(first.size.description == "0.00248478")
        #expect(first.tradeID == "3359547372" && first.venue == "binance" && first.side == .sell)
        #expect(first.venueTimeNanos == 1_704_067_200_092_000_000)
        stream.cancel()
        await connection.close()
        await harness.stop()
    }

    @Test func duplicateAndBadLinesAreDroppedAndCounted() async throws {
        let harness = try await GatewayHarness.start(partitions: 1)
        let file = "/tmp/tickgate-replay-\(UInt32.random(in: 0...UInt32.max)).csv"
        let text = """
            time,symbol,price,size,side,trade_id
            1717171717000,BTC-USD,100.5,1,buy,1
            1717171717001,BTC-USD,100.6,1,sell,2
            1717171717001,BTC-USD,100.6,1,sell,2
            1717171717002,BTC-USD,not-a-price,1,sell,3
            1717171717003,BTC-USD,100.7,1,buy,4

            """
        try text.write(toFile: file)
        let run = try ReplayRun(
            publisher: harness.publisher,
            options: .init(source: .file(file), format: .csv, symbol: nil, venue: "replay", speed: nil),
            logger: .quiet)
        let report = try await runOnDedicatedThread(name: "t") { () throws(ReplayRun.Failure) in try run.finish() }
        #expect(report.published == 3)
        #expect(report.duplicates == 1)
        #expect(report.skipped == 1)
        let firstError = report.firstErrors.first ?? ""
        #expect(firstError.hasPrefix("line 5:"), "\(report.firstErrors)")
        await harness.stop()
    }
}

extension String {
    func prepending(_ prefix: String) -> String { prefix + self }
    func write(toFile path: String) throws {
        guard let handle = fopen(path, "w") else { throw CocoaLikeError() }
        fputs(self, handle)
        fclose(handle)
    }
}

struct CocoaLikeError: Error {}

#if canImport(Glibc)
import Glibc
#endif
