import CTickgateProto

extension ExactDecimal {
    init(_ c: UnsafePointer<Tickgate__V1__Decimal>?) {
        guard let c else {
            self = .zero
            return
        }
        self.init(mantissa: c.pointee.mantissa, exponent: c.pointee.exponent)
    }

    var cValue: Tickgate__V1__Decimal {
        var value = Tickgate__V1__Decimal()
        tickgate__v1__decimal__init(&value)
        value.mantissa = mantissa
        value.exponent = exponent
        return value
    }
}

extension Tick {
    /// Copies a decoded protobuf-c tick into Swift values.
    init(_ c: UnsafePointer<Tickgate__V1__Tick>) {
        let t = c.pointee
        self.init(
            symbol: stringFromC(t.symbol), venue: stringFromC(t.venue),
            price: ExactDecimal(t.price), size: ExactDecimal(t.size),
            side: Side(rawValue: Int32(truncatingIfNeeded: t.side.rawValue)) ?? .unspecified,
            sequence: t.sequence, tradeID: stringFromC(t.trade_id),
            venueTimeNanos: t.venue_time_ns, publishTimeNanos: t.publish_time_ns,
            kafkaTimeMillis: t.kafka_time_ms, gatewayReceiveTimeNanos: t.gateway_receive_time_ns,
            gatewayDispatchTimeNanos: t.gateway_dispatch_time_ns,
            kafkaPartition: t.kafka_partition, kafkaOffset: t.kafka_offset)
        self.snapshot = t.snapshot != 0
        self.skipped = t.skipped
    }

    /// The scalar fields, with string and decimal pointers left for the caller.
    private var cScalars: Tickgate__V1__Tick {
        var t = Tickgate__V1__Tick()
        tickgate__v1__tick__init(&t)
        t.side = Tickgate__V1__Side(rawValue: .init(truncatingIfNeeded: side.rawValue))
        t.sequence = sequence
        t.venue_time_ns = venueTimeNanos
        t.publish_time_ns = publishTimeNanos
        t.kafka_time_ms = kafkaTimeMillis
        t.gateway_receive_time_ns = gatewayReceiveTimeNanos
        t.gateway_dispatch_time_ns = gatewayDispatchTimeNanos
        t.kafka_partition = kafkaPartition
        t.kafka_offset = kafkaOffset
        t.snapshot = snapshot ? 1 : 0
        t.skipped = skipped
        return t
    }

    /// A C view of this tick valid only inside `body`; allocates nothing
    /// (native Swift strings are already NUL-terminated). Used per tick by
    /// the feed adapters.
    func withCMessage<R>(_ body: (UnsafeMutablePointer<Tickgate__V1__Tick>) throws -> R) rethrows -> R {
        var t = cScalars
        var price = self.price.cValue
        var size = self.size.cValue
        return try symbol.withCString { symbolC in
            try venue.withCString { venueC in
                try tradeID.withCString { tradeC in
                    try withUnsafeMutablePointer(to: &price) { priceC in
                        try withUnsafeMutablePointer(to: &size) { sizeC in
                            t.symbol = UnsafeMutablePointer(mutating: symbolC)
                            t.venue = UnsafeMutablePointer(mutating: venueC)
                            t.trade_id = UnsafeMutablePointer(mutating: tradeC)
                            t.price = priceC
                            t.size = sizeC
                            return try body(&t)
                        }
                    }
                }
            }
        }
    }

    /// A C copy of this tick owned by `arena`.
    func cMessage(in arena: CArena) -> UnsafeMutablePointer<Tickgate__V1__Tick> {
        var t = cScalars
        t.symbol = arena.string(symbol)
        t.venue = arena.string(venue)
        t.trade_id = arena.string(tradeID)
        t.price = arena.make(price.cValue)
        t.size = arena.make(size.cValue)
        return arena.make(t)
    }
}
