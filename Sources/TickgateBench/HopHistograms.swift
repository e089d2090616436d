public import Histogram

/// The hops a bench measures, each in nanoseconds.
public enum Hop: String, CaseIterable, Sendable, Codable {
    case producerToKafka = "t1→t2 producer→Kafka time stamp (ms resolution)"
    case kafkaHop = "t1→t3 Kafka hop"
    case gatewayInside = "t3→t4 inside the gateway"
    case gatewayAdded = "t3→t5 gateway added, to the client"
    case endToEnd = "t1→t5 end to end"
    case endToEndScheduled = "t0→t5 end to end from the schedule (CO-corrected)"
    case kafkaFloor = "t1→floor plain librdkafka consumer"

    public var shortName: String {
        switch self {
        case .producerToKafka: return "t1-t2"
        case .kafkaHop: return "t1-t3"
        case .gatewayInside: return "t3-t4"
        case .gatewayAdded: return "t3-t5"
        case .endToEnd: return "t1-t5"
        case .endToEndScheduled: return "t0-t5"
        case .kafkaFloor: return "kafka-floor"
        }
    }
}

/// One histogram per hop (1 ns to 60 s, 3 significant digits).
public struct HopHistograms: Sendable {
    public var byHop: [Hop: Histogram<UInt64>]

    public init() {
        var byHop: [Hop: Histogram<UInt64>] = [:]
        for hop in Hop.allCases { byHop[hop] = Self.make() }
        self.byHop = byHop
    }

    static func make() -> Histogram<UInt64> {
        Histogram<UInt64>(lowestDiscernibleValue: 1, highestTrackableValue: 60_000_000_000, numberOfSignificantValueDigits: .three)
    }

    public mutating func merge(_ other: HopHistograms) {
        for (hop, histogram) in other.byHop { byHop[hop, default: Self.make()].add(histogram) }
    }
}

extension Histogram where Count == UInt64 {
    /// Records `nanos`, clamped into the trackable range.
    @inline(__always)
    mutating func recordClamped(_ nanos: Int64) {
        _ = record(UInt64(Swift.min(Swift.max(nanos, 1), 60_000_000_000)))
    }
}
