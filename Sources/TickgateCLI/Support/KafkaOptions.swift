import ArgumentParser
import TickgateKafka

/// Options shared by every command that talks to Kafka.
struct KafkaOptions: ParsableArguments {
    @Option(name: .long, help: "Kafka bootstrap servers, host:port[,host:port…].")
    var brokers: String

    @Option(name: .long, help: "Kafka topic carrying the ticks.")
    var topic: String = "ticks"

    @Option(name: .customShort("X"), parsing: .unconditionalSingleValue,
            help: ArgumentHelp("librdkafka property key=value, as kcat takes it (repeatable); overrides Tickgate's defaults.", valueName: "key=value"))
    var properties: [String] = []

    @Option(name: .long, help: "Seconds to wait for the brokers before giving up.")
    var connectTimeout: Int = 10

    func validate() throws {
        guard !brokers.isEmpty else { throw ValidationError("--brokers must name at least one host:port") }
        for entry in brokers.split(separator: ",") {
            guard (try? HostPort(parsing: String(entry))) != nil else {
                throw ValidationError("--brokers: \"\(entry)\" is not host:port")
            }
        }
        for property in properties {
            do { _ = try KafkaConfiguration.parseProperty(property) } catch { throw ValidationError("-X \(property): \(error)") }
        }
        guard connectTimeout > 0 else { throw ValidationError("--connect-timeout must be positive") }
    }

    func configuration() throws -> KafkaConfiguration {
        KafkaConfiguration(
            brokers: brokers,
            properties: try properties.map { try KafkaConfiguration.parseProperty($0) },
            connectTimeout: .seconds(connectTimeout))
    }
}
