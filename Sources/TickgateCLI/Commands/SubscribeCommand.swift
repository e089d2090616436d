import ArgumentParser
import Synchronization
import TickgateClient
import TickgateKafka
import TickgateModel

struct SubscribeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "subscribe",
        abstract: "Subscribe to symbols or patterns on a gateway and print one line per tick.",
        discussion: """
            Each line: time (UTC), symbol, venue, price, size, side, sequence, and the
            end-to-end latency from the adapter's publish (t1) to this client's receipt (t5).
            Across hosts that latency includes the clocks' offset; see the README.
            A snapshot tick ends with "snapshot", a conflated one with "skipped=N".

            On exit (Ctrl-C, or --count reached) one line "resume: TOKEN" goes to
            stderr; --resume TOKEN continues exactly after the last tick printed.
            """)

    @Option(help: "Gateway address, host:port.")
    var to: HostPort = HostPort(host: "127.0.0.1", port: 50051)

    @OptionGroup var credentialOptions: CredentialOptions

    @Option(help: "Exit after this many ticks.")
    var count: Int?

    @Flag(help: "One JSON object per tick (prices as exact decimal strings).")
    var json = false

    @Flag(help: "First the last known tick of each match (marked snapshot), then live.")
    var snapshot = false

    @Option(help: "Start from a time: a look-back (5m, 2h, 1d) or RFC 3339 (2026-12-01T10:00:00Z).")
    var since: String?

    @Option(name: .customLong("max-rate"), help: "At most this many ticks per second per (venue, symbol).")
    var maxRate: UInt32?

    @Flag(help: "Never conflate: if this client falls too far behind, the stream ends with its positions.")
    var lossless = false

    @Option(help: "Only this venue (binance, coinbase, kraken, synthetic, ...).")
    var venue: String?

    @Flag(help: "Reconnect with backoff when the stream ends, resuming every symbol with no gap.")
    var reconnect = false

    @Option(help: "Continue after the ticks of a token printed by an earlier run (\"resume: t1:...\").")
    var resume: String?

    @Argument(help: "Symbols (BTC-USD) or quoted patterns ('BTC-*', '*-USD', '*'). With --resume: the token's symbols if none.")
    var symbols: [String] = []

    func validate() throws {
        if let count { guard count > 0 else { throw ValidationError("--count must be positive") } }
        if let maxRate { guard maxRate > 0 else { throw ValidationError("--max-rate must be positive") } }
        if maxRate != nil && lossless { throw ValidationError("--max-rate keeps the latest tick and --lossless keeps every tick: choose one") }
        if since != nil && resume != nil { throw ValidationError("--since and --resume do not go together") }
        if let since { _ = try sinceMillis(since) }
        if let resume { _ = try parseToken(resume) }
        _ = try names()
    }

    private func sinceMillis(_ text: String) throws -> Int64 {
        do { return try SinceTime.parse(text, nowMillis: WallClock.nowNanos() / 1_000_000) } catch { throw ValidationError("--since: \(error)") }
    }

    private func parseToken(_ text: String) throws -> ResumeToken {
        do { return try ResumeToken(parsing: text) } catch { throw ValidationError("--resume: \(error)") }
    }

    /// Symbols and patterns as asked (upper-cased), or the token's symbols.
    private func names() throws -> [String] {
        var names: [String] = []
        for item in symbols {
            for part in item.split(separator: ",") where !part.isEmpty {
                let text = part.uppercased()
                do {
                    let pattern = try SymbolPattern(validating: text)
                    if !names.contains(pattern.description) { names.append(pattern.description) }
                } catch {
                    throw ValidationError("symbols: \(error)")
                }
            }
        }
        if names.isEmpty, let resume { names = try parseToken(resume).positions.map(\.symbol) }
        guard !names.isEmpty else { throw ValidationError("symbols: name at least one symbol or pattern, e.g. BTC-USD or 'BTC-*'") }
        return names
    }

    func run() async throws {
        let names = try names()
        var options = SubscriptionOptions(venue: venue ?? "", snapshot: snapshot, maxRate: maxRate ?? 0, lossless: lossless)
        if let since { options.sinceTimeMillis = try sinceMillis(since) }
        let start = try resume.map { try parseToken($0).positions } ?? []
        options.resume = start
        let ledger = LedgerBox(PositionLedger(start))
        // Printed however the command ends: where to continue from.
        defer {
            if let token = ledger.value.withLock({ $0.token }) { printError("resume: \(token)") }
        }
        if reconnect {
            try await runReconnecting(names, options: options, start: start, ledger: ledger)
        } else {
            try await runOnce(names, options: options, ledger: ledger)
        }
    }

    private func runOnce(_ names: [String], options: SubscriptionOptions, ledger: LedgerBox) async throws {
        let credentials = try credentialOptions.credentials()
        let connection: TickgateConnection
        do {
            connection = try await TickgateConnection.connect(host: to.host, port: to.port, credentials: credentials)
        } catch {
            throw failure("\(error)")
        }
        let stream: TickStream
        let result: SubscriptionResult
        do {
            stream = try await connection.openStream()
            result = try await stream.subscribe(names, options: options)
        } catch {
            throw failure("\(error)")
        }
        for refused in result.refused {
            let retry = refused.retryAfterMillis > 0 ? " (retry in \(refused.retryAfterMillis) ms)" : ""
            printError("refused \(refused.symbols.joined(separator: ",")): \(refused.message)\(retry)")
        }
        guard !result.accepted.isEmpty else {
            await connection.close()
            throw failure("nothing was accepted")
        }
        printError("subscribed to \(result.accepted.joined(separator: " ")) on \(to); Ctrl-C stops")
        let stopped = StopFlag()
        Termination.onSignal { _ in
            stopped.set()
            stream.cancel()
        }
        let notices = Task {
            await withTaskGroup(of: Void.self) { group in
                group.addTask { for await status in stream.statuses { printError(Self.describe(status)) } }
                group.addTask { for await status in stream.resumes { printError(Self.describe(status)) } }
            }
        }
        defer { notices.cancel() }
        var received = 0
        do {
            for try await delivery in stream.ticks {
                guard ledger.value.withLock({ $0.record(delivery.tick) }) else { continue }
                printOut(json ? TickFormatter.json(delivery) : TickFormatter.line(delivery))
                received += 1
                if let count, received >= count { break }
            }
        } catch {
            await connection.close()
            if stopped.isSet { return }  // Ctrl-C
            throw failure("\(error)")
        }
        stream.cancel()
        await connection.close()
    }

    private func runReconnecting(
        _ names: [String], options: SubscriptionOptions, start: [KafkaPosition], ledger: LedgerBox
    ) async throws {
        let subscription = ResumingSubscription(
            host: to.host, port: to.port, credentials: try credentialOptions.credentials(), symbols: names, options: options,
            resumeFrom: start)
        let task = Task { () async throws -> Void in
            var received = 0
            for try await event in subscription.events() {
                switch event {
                case .tick(let delivery):
                    guard ledger.value.withLock({ $0.record(delivery.tick) }) else { continue }
                    printOut(json ? TickFormatter.json(delivery) : TickFormatter.line(delivery))
                    received += 1
                    if let count, received >= count { return }
                case .reconnecting(let attempt, let delay, let reason):
                    printError("stream ended (\(reason)); reconnecting in \(delay) (attempt \(attempt))")
                case .resumed(let statuses):
                    printError("reconnected to \(to)" + (statuses.isEmpty ? "" : "; " + statuses.map(Self.describe).joined(separator: "; ")))
                case .gap(let symbol, let reason):
                    printError("gap in \(symbol): \(reason)")
                }
            }
        }
        Termination.onSignal { _ in task.cancel() }
        printError("subscribing to \(names.joined(separator: " ")) on \(to), reconnecting on failure; Ctrl-C stops")
        do {
            try await task.value
        } catch is CancellationError {
        } catch {
            throw failure("\(error)")
        }
    }

    static func describe(_ status: SymbolStatusUpdate) -> String {
        let name = status.venue.isEmpty ? status.symbol : "\(status.venue) \(status.symbol)"
        if status.added { return "\(name) appeared and matches: subscribed" }
        return status.stale
            ? "\(name) is stale: no tick since \(TickFormatter.utcTimestamp(nanos: status.lastTickTimeNanos))"
            : "\(name) is live again"
    }

    static func describe(_ status: ResumeStatus) -> String {
        status.recovered
            ? "\(status.symbol): replaying from offset \(status.fromOffset) of partition \(status.partition), nothing missed"
            : "\(status.symbol): NOT fully recovered (\(status.reason)); going on from offset \(status.fromOffset)"
    }
}

/// Where the printed ticks stand, shared with the signal handler's exit path.
final class LedgerBox: Sendable {
    let value: Mutex<PositionLedger>
    init(_ ledger: PositionLedger) { value = Mutex(ledger) }
}
