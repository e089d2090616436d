public import Logging
public import TickgateKafka
public import TickgateModel
#if canImport(Glibc)
import Glibc
#endif

/// Replays a trade file (or standard input) into Kafka on a dedicated
/// thread: at recorded speed, at a multiple of it, or as fast as possible.
/// Bad lines are skipped, counted and reported; duplicate trades (same
/// venue, symbol and trade id within the filter's window) are dropped.
public final class ReplayRun: @unchecked Sendable {
    public enum Source: Sendable {
        case file(String)
        case standardInput
    }

    public struct Options: Sendable {
        public var source: Source
        public var format: ReplayFormat
        public var symbol: Symbol?
        public var venue: String
        /// 1 = recorded speed, 10 = ten times faster, nil = as fast as possible.
        public var speed: Double?
        public var duplicateWindow: Int

        public init(source: Source, format: ReplayFormat, symbol: Symbol?, venue: String, speed: Double?, duplicateWindow: Int = 100_000) {
            self.source = source
            self.format = format
            self.symbol = symbol
            self.venue = venue
            self.speed = speed
            self.duplicateWindow = duplicateWindow
        }
    }

    public struct Report: Sendable {
        public var lines: Int
        public var published: Int
        public var skipped: Int
        public var duplicates: Int
        public var firstErrors: [String]
    }

    public enum Failure: Error, CustomStringConvertible {
        case cannotOpen(String, String)
        case kafka(KafkaError)

        public var description: String {
            switch self {
            case .cannotOpen(let path, let reason): return "cannot open \(path): \(reason)"
            case .kafka(let error): return "\(error)"
            }
        }
    }

    private let stopFlag = StopFlag()
    private var thread: DedicatedThread?
    private let box = ResultBox()
    private let publisher: TickPublisher

    private final class ResultBox: @unchecked Sendable {
        var result: Result<Report, Failure> = .success(Report(lines: 0, published: 0, skipped: 0, duplicates: 0, firstErrors: []))
    }

    public init(publisher: TickPublisher, options: Options, logger: Logger) throws(Failure) {
        self.publisher = publisher
        let file: UnsafeMutablePointer<FILE>
        switch options.source {
        case .standardInput:
            file = fdopen(0, "r")
        case .file(let path):
            guard let opened = fopen(path, "r") else { throw .cannotOpen(path, String(cString: strerror(errno))) }
            file = opened
        }
        let handle = FileBox(file)
        let stop = stopFlag
        let box = self.box
        thread = DedicatedThread(name: "replay") {
            box.result = Self.run(file: handle, publisher: publisher, options: options, stop: stop, logger: logger)
            fclose(handle.file)
        }
    }

    public func stop() { stopFlag.set() }

    /// Waits for the end of the file (or ``stop()``), then flushes Kafka.
    public func finish(flushTimeout: Duration = .seconds(30)) throws(Failure) -> Report {
        thread?.join()
        thread = nil
        let report = try box.result.get()
        do { try publisher.producer.flush(timeout: flushTimeout) } catch { throw .kafka(error) }
        return report
    }

    private static func run(
        file: FileBox, publisher: TickPublisher, options: Options, stop: StopFlag, logger: Logger
    ) -> Result<Report, Failure> {
        var parser = ReplayParser(format: options.format, defaultSymbol: options.symbol, defaultVenue: options.venue)
        var duplicates = DuplicateFilter(capacity: options.duplicateWindow)
        var sequences: [String: UInt64] = [:]
        var report = Report(lines: 0, published: 0, skipped: 0, duplicates: 0, firstErrors: [])
        var firstRecordTime: Int64? = nil
        let startNanos = monotonicNanos()
        var line: UnsafeMutablePointer<CChar>? = nil
        var capacity = 0
        defer { free(line) }
        while !stop.isSet {
            let length = getline(&line, &capacity, file.file)
            guard length >= 0, let line else { break }
            report.lines += 1
            let text = String(decoding: UnsafeRawBufferPointer(start: line, count: length), as: UTF8.self)
            let record: TradeRecord
            do {
                guard let parsed = try parser.parse(Substring(text.hasSuffix("\n") ? String(text.dropLast()) : text)) else { continue }
                record = parsed
            } catch {
                report.skipped += 1
                if report.firstErrors.count < 5 {
                    report.firstErrors.append(error.description)
                    logger.warning("replay: skipping \(error)")
                }
                continue
            }
            if !record.tradeID.isEmpty,
               !duplicates.admit("\(record.venue)|\(record.symbol.rawValue)|\(record.tradeID)") {
                report.duplicates += 1
                continue
            }
            if let speed = options.speed {
                let first = firstRecordTime ?? record.timeNanos
                firstRecordTime = first
                let due = startNanos + Int64(Double(record.timeNanos - first) / speed)
                if due > monotonicNanos() { sleepUntil(monotonicNanos: due) }
            }
            let key = "\(record.venue)|\(record.symbol.rawValue)"
            let sequence = (sequences[key] ?? 0) + 1
            sequences[key] = sequence
            do {
                try publisher.publish(Tick(
                    symbol: record.symbol.rawValue, venue: record.venue, price: record.price, size: record.size,
                    side: record.side, sequence: sequence, tradeID: record.tradeID, venueTimeNanos: record.timeNanos))
            } catch {
                return .failure(.kafka(error))
            }
            report.published += 1
        }
        return .success(report)
    }
}

/// A C `FILE*` handed to the replay thread, which alone uses and closes it.
struct FileBox: @unchecked Sendable {
    let file: UnsafeMutablePointer<FILE>
    init(_ file: UnsafeMutablePointer<FILE>) { self.file = file }
}
