import ArgumentParser
import Synchronization
import TickgateFeeds
import TickgateKafka
import TickgateModel

enum FeedKind: String, ExpressibleByArgument, CaseIterable {
    case synthetic
}

struct IngestCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ingest",
        abstract: "Run a feed adapter that publishes ticks into Kafka, keyed by symbol.")

    @OptionGroup var kafka: KafkaOptions

    @Option(help: "Feed to run: \(FeedKind.allCases.map(\.rawValue).joined(separator: ", ")).")
    var feed: FeedKind = .synthetic

    @Option(help: "Comma-separated symbols (BASE-QUOTE).")
    var symbols: String = "BTC-USD,ETH-USD"

    @Option(help: "Ticks per second, over all symbols (scheduled, open loop).")
    var rate: Double = 1000

    @Option(help: "Stop after this many ticks.")
    var count: Int?

    @Option(help: "Stop after this many seconds.")
    var duration: Double?

    @Option(help: "Random seed of the synthetic feed.")
    var seed: UInt64 = 42

    @Flag(name: .shortAndLong, help: "Log debug detail.")
    var verbose = false

    func validate() throws {
        guard rate > 0, rate <= 10_000_000 else { throw ValidationError("--rate must be in (0, 10000000]") }
        if let count { guard count > 0 else { throw ValidationError("--count must be positive") } }
        if let duration { guard duration > 0 else { throw ValidationError("--duration must be positive") } }
        _ = try SymbolList.parse([symbols], option: "--symbols")
    }

    func run() async throws {
        let logger = CLILogging.logger("tickgate.ingest", verbose: verbose)
        let symbols = try SymbolList.parse([symbols], option: "--symbols")
        let configuration = try kafka.configuration()
        let topic = kafka.topic
        let publisher: TickPublisher
        do {
            publisher = try await runOnDedicatedThread(name: "kafka-connect") { () throws(KafkaError) in
                try TickPublisher(configuration: configuration, topic: topic, logger: logger)
            }
        } catch {
            throw failure("\(error)")
        }
        let feed = Mutex(SyntheticFeed(symbols: symbols, seed: seed))
        let options = IngestRun.Options(
            ratePerSecond: rate, count: count,
            duration: duration.map { .nanoseconds(Int64($0 * 1e9)) })
        let run = IngestRun(publisher: publisher, options: options, logger: logger) { now, _ in
            feed.withLock { $0.next(now: now) }
        }
        printError("publishing \(feed.withLock { _ in symbols.count }) symbol(s) at \(rate) ticks/s to \(topic) on \(kafka.brokers)\(count.map { ", \($0) ticks" } ?? "")\(duration.map { ", for \($0) s" } ?? ""); Ctrl-C stops")
        Termination.onSignal { _ in run.stop() }
        do {
            let report = try await runOnDedicatedThread(name: "ingest-wait") { () throws(KafkaError) in try run.finish() }
            printOut("published \(report.published) ticks in \(String(format2: report.elapsedSeconds)) s (\(Int(Double(report.published) / max(report.elapsedSeconds, 0.001))) ticks/s); delivered \(report.delivered), failed \(report.failed)")
        } catch {
            throw failure("\(error)")
        }
        publisher.producer.close()
    }
}

extension String {
    init(format2 value: Double) {
        let hundredths = Int((value * 100).rounded())
        let fraction = hundredths % 100
        self = "\(hundredths / 100).\(fraction < 10 ? "0" : "")\(fraction)"
    }
}
