import ArgumentParser

/// `--outage AFTER:FOR`, e.g. `5s:10s`: every broker goes down AFTER the
/// start, for FOR. Units: ms, s, m.
struct OutageSpec: ExpressibleByArgument, Sendable {
    let after: Duration
    let duration: Duration

    init?(argument: String) {
        let parts = argument.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, let after = Self.parse(parts[0]), let duration = Self.parse(parts[1]), duration > .zero else { return nil }
        self.after = after
        self.duration = duration
    }

    static func parse(_ text: Substring) -> Duration? {
        let units: [(String, Int64)] = [("ms", 1), ("s", 1000), ("m", 60_000)]
        for (suffix, millis) in units where text.hasSuffix(suffix) {
            guard let value = Int64(text.dropLast(suffix.count)), value >= 0, value < 1_000_000_000 else { return nil }
            return .milliseconds(value * millis)
        }
        return nil
    }

    static var defaultValueDescription: String { "AFTER:FOR" }
}
