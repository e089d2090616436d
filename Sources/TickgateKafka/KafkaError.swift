/// What went wrong talking to Kafka, in words a person can act on.
public enum KafkaError: Error, CustomStringConvertible, Equatable {
    case invalidConfiguration(String)
    case brokersUnreachable(brokers: String, detail: String)
    case topicNotFound(topic: String, brokers: String)
    case clientCreation(String)
    case produce(String)
    case deliveryFailed(count: Int, firstError: String)
    case flushTimedOut(pending: Int)
    case broker(String)
    /// librdkafka's local queue is full (the brokers are not keeping up).
    case queueFull

    public var description: String {
        switch self {
        case .invalidConfiguration(let detail):
            return "invalid Kafka configuration: \(detail)"
        case .brokersUnreachable(let brokers, let detail):
            return "cannot reach Kafka brokers at \(brokers): \(detail)"
        case .topicNotFound(let topic, let brokers):
            return "topic \"\(topic)\" does not exist on \(brokers)"
        case .clientCreation(let detail):
            return "cannot create Kafka client: \(detail)"
        case .produce(let detail):
            return "cannot publish to Kafka: \(detail)"
        case .deliveryFailed(let count, let firstError):
            return "\(count) message(s) were not delivered to Kafka; first error: \(firstError)"
        case .flushTimedOut(let pending):
            return "\(pending) message(s) still unacknowledged by Kafka when the flush timed out"
        case .broker(let detail):
            return "embedded broker: \(detail)"
        case .queueFull:
            return "Kafka's local queue is full: the brokers are not keeping up"
        }
    }
}
