import ArgumentParser
import TickgateKafka

struct BrokerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "broker",
        abstract: "Run the embedded Kafka broker (librdkafka's mock cluster) alone.",
        discussion: "Any Kafka client (kcat, tickgate ingest/serve) can connect to the printed bootstrap address.")

    @Option(help: "Partitions of the ticks topic.")
    var partitions: Int = 6

    @Option(help: "Fixed bootstrap port on 127.0.0.1 (forwarded to the first broker). Default: the broker's own ephemeral port.")
    var port: Int?

    @Option(help: "Topic to create.")
    var topic: String = "ticks"

    @Option(help: "Number of brokers in the cluster.")
    var brokerCount: Int = 1

    @Option(help: ArgumentHelp(
        "Take every broker down AFTER the start, for FOR (e.g. 5s:10s; ms, s, m), to rehearse an outage against separate processes. Repeatable.",
        valueName: "AFTER:FOR"))
    var outage: [OutageSpec] = []

    func validate() throws {
        guard (1...1000).contains(partitions) else { throw ValidationError("--partitions must be 1…1000") }
        guard (1...9).contains(brokerCount) else { throw ValidationError("--broker-count must be 1…9") }
        if let port { guard (1...65535).contains(port) else { throw ValidationError("--port must be 1…65535") } }
    }

    func run() async throws {
        let logger = CLILogging.logger("tickgate.broker", verbose: false)
        let broker: EmbeddedBroker
        do {
            broker = try EmbeddedBroker(brokerCount: brokerCount, logger: logger)
            try broker.createTopic(topic, partitions: partitions)
        } catch {
            throw failure("\(error)")
        }
        var bootstrap = broker.bootstrapServers
        var forwarder: TCPForwarder? = nil
        if let port {
            let first = String(bootstrap.split(separator: ",")[0])
            do {
                forwarder = try await TCPForwarder.start(port: port, target: try HostPort(parsing: first))
            } catch {
                broker.close()
                throw failure("cannot listen on 127.0.0.1:\(port): \(error)")
            }
            bootstrap = "127.0.0.1:\(port)"
        }
        printOut("embedded Kafka broker ready")
        printOut("bootstrap: \(bootstrap)")
        printOut("topic: \(topic) (\(partitions) partitions)")
        printOut("try: kcat -b \(bootstrap) -L")
        let brokers = Int32(brokerCount)
        let outages = Task {
            let start = ContinuousClock.now
            for outage in outage.sorted(by: { $0.after < $1.after }) {
                try await Task.sleep(until: start + outage.after)
                for id in 1...brokers { broker.setBroker(id, up: false) }
                printOut("outage: every broker down for \(outage.duration)")
                try await Task.sleep(for: outage.duration)
                for id in 1...brokers { broker.setBroker(id, up: true) }
                printOut("outage over: every broker up")
            }
        }
        await Termination.wait()
        outages.cancel()
        await forwarder?.stop()
        broker.close()
    }
}
