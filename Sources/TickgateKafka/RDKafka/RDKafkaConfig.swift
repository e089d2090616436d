import CRDKafka

/// Builds an `rd_kafka_conf_t` from defaults plus the user's properties.
/// The caller owns the result until it passes it to `rd_kafka_new`.
func makeRDKafkaConf(defaults: [(String, String)], user: KafkaConfiguration?) throws(KafkaError) -> OpaquePointer {
    let conf = rd_kafka_conf_new()!
    var all = defaults
    if let user {
        all.append(("bootstrap.servers", user.brokers))
        all.append(contentsOf: user.properties.map { ($0.key, $0.value) })
    }
    for (key, value) in all {
        var errstr = [CChar](repeating: 0, count: 512)
        let result = rd_kafka_conf_set(conf, key, value, &errstr, errstr.count)
        if result != RD_KAFKA_CONF_OK {
            rd_kafka_conf_destroy(conf)
            throw .invalidConfiguration("\(key)=\(value): \(stringFromErrorBuffer(errstr))")
        }
    }
    return conf
}

func stringFromErrorBuffer(_ buffer: [CChar]) -> String {
    String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
}
