import ArgumentParser
import Logging
import NIOCore
import NIOPosix
import TickgateMetrics
import Synchronization
import TickgateFeeds
import TickgateKafka
import TickgateModel

enum FeedKind: String, ExpressibleByArgument, CaseIterable {
    case synthetic
    case replay
    case binance
    case coinbase
    case kraken
}

/// `--format` for the replay feed.
enum ReplayFormatArgument: String, ExpressibleByArgument, CaseIterable {
    case binance, csv, ndjson

    var format: ReplayFormat { ReplayFormat(rawValue: rawValue)! }
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

    @Option(help: "synthetic: extra ticks sent at once every --burst-every seconds (a market event).")
    var burst: Int = 0

    @Option(help: "synthetic: seconds between bursts.")
    var burstEvery: Double = 1

    @Option(help: "binance/coinbase/kraken: the WebSocket URL (default: the venue's live endpoint).")
    var url: String?

    @Option(help: "binance/coinbase/kraken: extra trusted CA certificates (PEM) for wss://, besides the system's.")
    var caFile: String?

    @Option(help: "binance/coinbase/kraken: channels, comma-separated. binance: trade, bookTicker (default trade); coinbase: matches, ticker (default matches); kraken: trade, ticker (default trade).")
    var channels: String?

    @Option(help: "replay: the trade file, or - for standard input.")
    var file: String?

    @Option(help: "replay: binance (trade-history CSV), csv (with a header) or ndjson. Default: from the file name.")
    var format: ReplayFormatArgument?

    @Option(help: "replay: 1 = recorded speed, 10 = ten times faster, max = as fast as possible.")
    var speed: String = "1"

    @Option(help: "replay: the symbol, for files that do not name it (Binance's; default: from the file name).")
    var symbol: String?

    @Option(help: "replay: the venue recorded in each tick (default: binance for Binance files, else replay).")
    var venue: String?

    @Option(help: "Serve GET /metrics (Prometheus text) here, e.g. 127.0.0.1:9465.")
    var metricsListen: HostPort?

    @Flag(name: .shortAndLong, help: "Log debug detail.")
    var verbose = false

    func validate() throws {
        if feed == .replay {
            guard let file, !file.isEmpty else { throw ValidationError("--feed replay needs --file PATH (or - for standard input)") }
            guard speed == "max" || (Double(speed).map { $0 > 0 } ?? false) else {
                throw ValidationError("--speed must be a positive number or max")
            }
            if let symbol { _ = try SymbolList.parseVenue(symbol) }
            return
        }
        guard rate > 0, rate <= 10_000_000 else { throw ValidationError("--rate must be in (0, 10000000]") }
        guard burst >= 0, burstEvery > 0 else { throw ValidationError("--burst must be ≥ 0 and --burst-every positive") }
        if let count { guard count > 0 else { throw ValidationError("--count must be positive") } }
        if let duration { guard duration > 0 else { throw ValidationError("--duration must be positive") } }
        _ = try SymbolList.parse([symbols], option: "--symbols")
    }

    func run() async throws {
        let logger = CLILogging.logger("tickgate.ingest", verbose: verbose)
        switch feed {
        case .replay: return try await runReplay(logger: logger)
        case .binance:
            return try await runVenue(BinanceProtocol(streams: try parseChannels(default: "trade")), logger: logger)
        case .coinbase:
            return try await runVenue(CoinbaseProtocol(channels: try parseChannels(default: "matches")), logger: logger)
        case .kraken:
            return try await runVenue(KrakenProtocol(channels: try parseChannels(default: "trade")), logger: logger)
        case .synthetic: break
        }
        let symbols = try SymbolList.parse([symbols], option: "--symbols")
        let topic = kafka.topic
        let publisher = try await kafka.connectPublisher(logger: logger)
        let feed = Mutex(SyntheticFeed(symbols: symbols, seed: seed))
        var options = IngestRun.Options(
            ratePerSecond: rate, count: count,
            duration: duration.map { .nanoseconds(Int64($0 * 1e9)) })
        options.burstSize = burst
        options.burstEvery = .nanoseconds(Int64(burstEvery * 1e9))
        let run = IngestRun(publisher: publisher, options: options, logger: logger) { now, _ in
            feed.withLock { $0.next(now: now) }
        }
        printError("publishing \(feed.withLock { _ in symbols.count }) symbol(s) at \(rate) ticks/s to \(topic) on \(kafka.brokers)\(count.map { ", \($0) ticks" } ?? "")\(duration.map { ", for \($0) s" } ?? ""); Ctrl-C stops")
        let metricsChannel = try await startMetrics(adapter: "synthetic", venue: SyntheticFeed.venue, publisher: publisher)
        Termination.onSignal { _ in run.stop() }
        defer { if let metricsChannel { metricsChannel.close(promise: nil) } }
        do {
            let report = try await runOnDedicatedThread(name: "ingest-wait") { () throws(KafkaError) in try run.finish() }
            printOut("published \(report.published) ticks in \(String(format2: report.elapsedSeconds)) s (\(Int(Double(report.published) / max(report.elapsedSeconds, 0.001))) ticks/s); delivered \(report.delivered), failed \(report.failed)")
        } catch {
            throw failure("\(error)")
        }
        publisher.producer.close()
    }
}

extension IngestCommand {
    func parseChannels<Channel: RawRepresentable & CaseIterable>(default fallback: String) throws -> [Channel] where Channel.RawValue == String {
        try (channels ?? fallback).split(separator: ",").map { name in
            guard let channel = Channel(rawValue: String(name)) else {
                throw failure("--channels: unknown channel \(name) for --feed \(feed.rawValue) (\(Channel.allCases.map(\.rawValue).joined(separator: ", ")))")
            }
            return channel
        }
    }

    /// Starts /metrics if asked; returns the channel to close at the end.
    func startMetrics(adapter: String, venue: String, publisher: TickPublisher, feed: FeedStats? = nil, queue: BoundedTickQueue? = nil) async throws -> (any Channel)? {
        guard let metricsListen else { return nil }
        let metrics = FeedMetrics(adapter: adapter, venue: venue)
        do {
            let channel = try await MetricsServer.bind(host: metricsListen.host, port: metricsListen.port, group: MultiThreadedEventLoopGroup.singleton) {
                metrics.exposition(publisher: publisher, feed: feed, queue: queue)
            }
            printError("metrics on http://\(HostPort(host: metricsListen.host, port: channel.localAddress?.port ?? metricsListen.port))/metrics")
            return channel
        } catch {
            throw failure("cannot serve metrics on \(metricsListen): \(error)")
        }
    }

    func runVenue<Venue: VenueProtocol>(_ venue: Venue, logger: Logger) async throws {
        let symbols = try SymbolList.parse([self.symbols], option: "--symbols")
        let topic = kafka.topic
        let publisher = try await kafka.connectPublisher(logger: logger)
        let queue = BoundedTickQueue(capacity: 100_000, logger: logger)
        let drain = QueuePublisher(queue: queue, publisher: publisher, logger: logger)
        var feedOptions = WebSocketFeed<Venue>.Options(url: url ?? venue.defaultURL, symbols: symbols)
        feedOptions.trustedCAFile = caFile
        let feed = WebSocketFeed(venue: venue, options: feedOptions, queue: queue, logger: logger)
        let metricsChannel = try await startMetrics(adapter: feed.adapterName, venue: venue.venue, publisher: publisher, feed: feed.stats, queue: queue)
        printError("\(venue.venue): \(symbols.map(\.rawValue).joined(separator: ",")) from \(url ?? venue.defaultURL) to \(topic) on \(kafka.brokers); Ctrl-C stops")
        let task = Task { try await feed.run() }
        Termination.onSignal { _ in task.cancel() }
        let progress = Task {
            while !Task.isCancelled {
                try await Task.sleep(for: .seconds(10))
                printError("[\(venue.venue)] \(feed.stats.snapshot), queue \(queue.depth), Kafka delivered \(publisher.producer.delivered)")
            }
        }
        var outcome: (any Error)? = nil
        do { try await task.value } catch is CancellationError {} catch { outcome = error }
        progress.cancel()
        queue.close()
        let (published, publishError) = await runOnDedicatedThread(name: "feed-wait") { drain.finish() }
        var flushError: KafkaError? = nil
        do {
            try await runOnDedicatedThread(name: "feed-flush") { () throws(KafkaError) in try publisher.producer.flush(timeout: .seconds(30)) }
        } catch { flushError = error }
        printOut("\(venue.venue): \(feed.stats.snapshot); published \(published), delivered \(publisher.producer.delivered), failed \(publisher.producer.failed), queue full \(queue.fullEpisodes) time(s)")
        publisher.producer.close()
        try? await metricsChannel?.close()
        if let outcome { throw failure("\(outcome)") }
        if let error = publishError ?? flushError { throw failure("\(error)") }
    }

    func runReplay(logger: Logger) async throws {
        let path = file ?? "-"
        let format = format?.format ?? (path == "-" ? .csv : ReplayFormat.guess(fileName: path))
        var defaultSymbol: Symbol? = nil
        if let symbol {
            defaultSymbol = try SymbolList.parseVenue(symbol)
        } else if format == .binance, let name = ReplayFormat.binanceSymbol(fromFileName: path) {
            defaultSymbol = try? VenueSymbols.canonical(name)
        }
        if format == .binance && defaultSymbol == nil {
            throw failure("a Binance trade file does not name its symbol: give --symbol (e.g. BTCUSDT or BTC-USDT)")
        }
        let topic = kafka.topic
        let publisher = try await kafka.connectPublisher(logger: logger)
        let options = ReplayRun.Options(
            source: path == "-" ? .standardInput : .file(path), format: format, symbol: defaultSymbol,
            venue: venue ?? (format == .binance ? "binance" : "replay"), speed: speed == "max" ? nil : Double(speed))
        let run: ReplayRun
        do {
            run = try ReplayRun(publisher: publisher, options: options, logger: logger)
        } catch {
            throw failure("\(error)")
        }
        let metricsChannel = try await startMetrics(adapter: "replay", venue: options.venue, publisher: publisher)
        printError("replaying \(path) (\(format.rawValue), speed \(speed)) to \(topic) on \(kafka.brokers); Ctrl-C stops")
        Termination.onSignal { _ in run.stop() }
        do {
            let report = try await runOnDedicatedThread(name: "replay-wait") { () throws(ReplayRun.Failure) in try run.finish() }
            printOut("replayed \(report.lines) lines: published \(report.published), skipped \(report.skipped) bad line(s), dropped \(report.duplicates) duplicate(s); delivered \(publisher.producer.delivered), failed \(publisher.producer.failed)")
            for error in report.firstErrors { printError("  skipped \(error)") }
        } catch {
            throw failure("\(error)")
        }
        try? await metricsChannel?.close()
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
