import ArgumentParser
import TickgateClient
import TickgateModel

struct SubscribeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "subscribe",
        abstract: "Subscribe to symbols on a gateway and print one line per tick.",
        discussion: """
            Each line: time (UTC), symbol, venue, price, size, side, sequence, and the
            end-to-end latency from the adapter's publish (t1) to this client's receipt (t5).
            Across hosts that latency includes the clocks' offset; see the README.
            """)

    @Option(help: "Gateway address, host:port.")
    var to: HostPort = HostPort(host: "127.0.0.1", port: 50051)

    @Option(help: "Exit after this many ticks.")
    var count: Int?

    @Flag(help: "One JSON object per tick (prices as exact decimal strings).")
    var json = false

    @Argument(help: "Symbols, BASE-QUOTE (e.g. BTC-USD ETH-USD).")
    var symbols: [String]

    func validate() throws {
        if let count { guard count > 0 else { throw ValidationError("--count must be positive") } }
        _ = try SymbolList.parse(symbols, option: "symbols")
    }

    func run() async throws {
        let symbols = try SymbolList.parse(symbols, option: "symbols").map(\.rawValue)
        let connection: TickgateConnection
        do {
            connection = try await TickgateConnection.connect(host: to.host, port: to.port)
        } catch {
            throw failure("\(error)")
        }
        let stream: TickStream
        let result: SubscriptionResult
        do {
            stream = try await connection.openStream()
            result = try await stream.subscribe(symbols)
        } catch {
            throw failure("\(error)")
        }
        for refused in result.refused {
            printError("refused \(refused.symbols.joined(separator: ",")): \(refused.message)")
        }
        guard !result.accepted.isEmpty else {
            await connection.close()
            throw failure("no symbol was accepted")
        }
        printError("subscribed to \(result.accepted.joined(separator: " ")) on \(to); Ctrl-C stops")
        Termination.onSignal { _ in stream.cancel() }
        let statusPrinter = Task {
            for await status in stream.statuses {
                printError(status.stale
                    ? "\(status.symbol) is stale: no tick since \(TickFormatter.utcTimestamp(nanos: status.lastTickTimeNanos))"
                    : "\(status.symbol) is live again")
            }
        }
        defer { statusPrinter.cancel() }
        var received = 0
        do {
            for try await delivery in stream.ticks {
                printOut(json ? TickFormatter.json(delivery) : TickFormatter.line(delivery))
                received += 1
                if let count, received >= count { break }
            }
        } catch {
            await connection.close()
            throw failure("\(error)")
        }
        stream.cancel()
        await connection.close()
    }
}
