import Logging
import TickgateFeeds
import TickgateKafka

extension KafkaOptions {
    /// A tick publisher on these brokers and topic, connected off the
    /// cooperative pool; a clear `error:` and exit when Kafka cannot be reached.
    func connectPublisher(logger: Logger) async throws -> TickPublisher {
        try await connectTickPublisher(configuration(), topic: topic, logger: logger)
    }
}

func connectTickPublisher(_ configuration: KafkaConfiguration, topic: String, logger: Logger) async throws -> TickPublisher {
    do {
        return try await runOnDedicatedThread(name: "kafka-connect") { () throws(KafkaError) in
            try TickPublisher(configuration: configuration, topic: topic, logger: logger)
        }
    } catch {
        throw failure("\(error)")
    }
}
