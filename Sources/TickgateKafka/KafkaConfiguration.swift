import TickgateModel
/// How to reach Kafka: the bootstrap list plus any librdkafka property,
/// passed through as `-X key=value` does for kcat.
public struct KafkaConfiguration: Sendable {
    /// `host:port[,host:port…]`.
    public var brokers: String
    /// Extra librdkafka properties. They are applied after Tickgate's own
    /// defaults, so they override them.
    public var properties: [(key: String, value: String)]
    /// How long a command waits for the brokers before it gives up.
    public var connectTimeout: Duration

    public init(brokers: String, properties: [(key: String, value: String)] = [], connectTimeout: Duration = .seconds(10)) {
        self.brokers = brokers
        self.properties = properties
        self.connectTimeout = connectTimeout
    }

    /// Parses `key=value` (as given to `-X`).
    public static func parseProperty(_ text: String) throws(KafkaError) -> (key: String, value: String) {
        guard let equals = text.firstIndex(of: "="), equals != text.startIndex else {
            throw KafkaError.invalidConfiguration("expected key=value, got \"\(text)\"")
        }
        return (String(text[..<equals]), String(text[text.index(after: equals)...]))
    }

    var connectTimeoutMillis: Int32 {
        Int32(clamping: connectTimeout.wholeMilliseconds)
    }
}
