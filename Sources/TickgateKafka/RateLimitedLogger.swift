public import Logging
import Synchronization

/// Logs at most one line per kind per interval, and says how many of that
/// kind were held back since the last line: an outage that repeats the
/// same error thousands of times shows up as a few lines, forever, rather
/// than as a flood or (as a fixed cap would) as silence after the first N.
public final class RateLimitedLogger: Sendable {
    private struct Entry {
        var lastLogged: ContinuousClock.Instant
        var suppressed: Int
    }

    public let logger: Logger
    private let interval: Duration
    private let entries = Mutex<[String: Entry]>([:])

    public init(logger: Logger, interval: Duration = .seconds(10)) {
        self.logger = logger
        self.interval = interval
    }

    /// `file` names the caller's module as the line's source.
    public func log(
        level: Logger.Level, kind: String, _ text: @autoclosure () -> String, now: ContinuousClock.Instant = .now,
        file: String = #fileID, function: String = #function, line: UInt = #line
    ) {
        guard logger.logLevel <= level else { return }
        let suppressed: Int? = entries.withLock { entries in
            if var entry = entries[kind], now - entry.lastLogged < interval {
                entry.suppressed += 1
                entries[kind] = entry
                return nil
            }
            let held = entries[kind]?.suppressed ?? 0
            entries[kind] = Entry(lastLogged: now, suppressed: 0)
            return held
        }
        guard let suppressed else { return }
        let suffix = suppressed > 0 ? " (\(suppressed) more of this kind since the last report)" : ""
        logger.log(level: level, "\(text())\(suffix)", file: file, function: function, line: line)
    }
}
