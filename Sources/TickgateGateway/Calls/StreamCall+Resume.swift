import Synchronization
import NIOCore
import TickgateHTTP2
import TickgateKafka
import TickgateModel

/// One symbol of a stream being replayed from Kafka before it joins the
/// live stream: the stitch point, and the live ticks held meanwhile.
final class SymbolResume {
    enum Phase {
        /// The replay runs; live ticks of the symbol are held.
        case replaying
        /// Replayed; live ticks up to `deliveredThrough` are dropped (the
        /// client, or another gateway, was ahead of this loop).
        case catchingUp
    }

    struct Held {
        var key: Int32
        var offset: Int64
        var frame: FrameSlot
    }

    let symbol: String
    let requestID: UInt64
    let partition: Int32
    let venue: String
    /// Offsets of the partition through this one are delivered (or were
    /// the client's already).
    var deliveredThrough: Int64
    var phase = Phase.replaying
    var held: [Held] = []
    /// Held ticks were dropped: another round must replay them.
    var overflowed = false
    /// The running round replays through this offset: live ticks up to it
    /// (the cache being read back at start-up) need not be held.
    var replayThrough: Int64 = -1
    var rounds = 1
    var statusSent = false

    init(symbol: String, requestID: UInt64, partition: Int32, venue: String, deliveredThrough: Int64) {
        self.symbol = symbol
        self.requestID = requestID
        self.partition = partition
        self.venue = venue
        self.deliveredThrough = deliveredThrough
    }
}

/// Resuming and time-started subscriptions of a ``StreamCall``: a replay
/// from Kafka (off the loop, budgeted), stitched to the live stream by
/// Kafka offset so that nothing is missed or repeated.
extension StreamCall {
    static let maxRounds = 5

    /// Checks a request's resume or since options; returns the symbols to
    /// replay, with where each starts, or the errors that refuse it.
    func resumePlan(_ request: SubscribeRequest, accepted: [SymbolPattern]) -> (items: [(String, ReplayService.Job.Start, Int32?)], refused: [RequestError]) {
        guard !request.resume.isEmpty || request.sinceTimeMillis > 0 else { return ([], []) }
        let invalid = Int32(GRPCStatusCode.invalidArgument.rawValue)
        let patterns = accepted.filter { $0.exactSymbol == nil }.map(\.description)
        if !patterns.isEmpty {
            return ([], [RequestError(requestID: request.requestID, code: invalid, message: "resume and since_time_ms apply to symbols, not patterns", symbols: patterns)])
        }
        if !request.resume.isEmpty && request.sinceTimeMillis > 0 {
            return ([], [RequestError(requestID: request.requestID, code: invalid, message: "ask for resume positions or a start time, not both", symbols: request.symbols)])
        }
        let symbols = Set(accepted.compactMap(\.exactSymbol))
        if request.sinceTimeMillis > 0 {
            return (symbols.sorted().map { ($0, .since(request.sinceTimeMillis), nil) }, [])
        }
        var items: [(String, ReplayService.Job.Start, Int32?)] = []
        var refused: [String] = []
        var seen: Set<String> = []
        let partitions = context.partitionCount
        for position in request.resume {
            guard symbols.contains(position.symbol), seen.insert(position.symbol).inserted,
                  position.partition >= 0, Int(position.partition) < partitions, position.offset >= -1
            else {
                refused.append(position.description)
                continue
            }
            items.append((position.symbol, .after(position.offset), position.partition))
        }
        guard refused.isEmpty else {
            return ([], [RequestError(
                requestID: request.requestID, code: invalid,
                message: "resume positions must name a subscribed symbol once, a partition of the topic (0..<\(partitions)) and an offset",
                symbols: refused)])
        }
        return (items, [])
    }

    /// Sets up the replay of `items`: from here on their pairs are held for
    /// it. Returns the jobs to run once they are subscribed.
    func prepareReplay(_ items: [(String, ReplayService.Job.Start, Int32?)], request: SubscribeRequest) -> [ReplayService.Job] {
        let partitions = max(1, context.partitionCount)
        var jobs: [ReplayService.Job] = []
        for (symbol, start, asked) in items {
            let known = context.candidates(for: .exact(symbol)).first { $0.offset >= 0 }?.partition
            let partition = asked ?? known ?? KafkaKeyPartitioner.partition(of: symbol, partitions: partitions)
            let through = context.position(of: partition)
            let startsAfter: Int64
            if case .after(let offset) = start { startsAfter = offset } else { startsAfter = -1 }
            let resume = SymbolResume(
                symbol: symbol, requestID: request.requestID, partition: partition, venue: request.venue,
                deliveredThrough: startsAfter)
            resume.replayThrough = through
            resumes[symbol] = resume
            jobs.append(.init(
                symbol: symbol, venue: request.venue, partition: partition, start: start, through: through,
                liveWhenMissing: request.liveWhenMissing))
        }
        return jobs
    }

    func run(_ jobs: [ReplayService.Job], on replay: ReplayService) {
        guard !jobs.isEmpty else { return }
        replaysRunning += 1
        context.stats.replays.add(1, ordering: .relaxed)
        let loop = context.eventLoop
        // Weak: a stream that ends meanwhile is freed on its own loop, not
        // on the replay's thread (which would touch its loop's state).
        let box = WeakCallBox(self)
        replay.run(jobs) { outcomes in
            loop.execute { box.call?.replayFinished(outcomes) }
        }
    }

    /// On the loop: the replayed ticks go out, then the live ticks held
    /// meanwhile; the symbol then joins the live stream (or replays the
    /// rest, if more arrived than could be held).
    func replayFinished(_ outcomes: [ReplayService.Outcome]) {
        replaysRunning -= 1
        guard machine.isLive else { return }
        context.learnKeys()
        var again: [ReplayService.Job] = []
        for outcome in outcomes {
            guard let resume = resumes[outcome.symbol] else { continue }
            if !resume.statusSent {
                resume.statusSent = true
                let recovered = outcome.recovered && outcome.failure == nil
                if !recovered { context.stats.resumesNotRecovered.add(1, ordering: .relaxed) }
                send(.resumeStatus(ResumeStatus(
                    requestID: resume.requestID, symbol: resume.symbol, recovered: recovered, partition: resume.partition,
                    fromOffset: outcome.fromOffset, reason: outcome.failure.map { "Kafka could not be read: \($0)" } ?? outcome.reason)))
            }
            var replayed = 0
            outcome.batch.buffer.withUnsafeReadableBytes { raw in
                for tick in outcome.batch.entries where tick.offset > resume.deliveredThrough {
                    resume.deliveredThrough = tick.offset
                    guard subscriptions.held[tick.key] != nil else { continue }
                    enqueueTick(UnsafeRawBufferPointer(rebasing: raw[tick.start..<(tick.start + tick.length)]), key: tick.key)
                    replayed += 1
                }
            }
            context.stats.ticksReplayed.add(replayed, ordering: .relaxed)
            guard machine.isLive else { return }
            // What could not be read was told (recovered: false); what was
            // held since the replay began follows either way.
            resume.deliveredThrough = max(resume.deliveredThrough, outcome.coveredThrough)
            for held in resume.held where held.offset > resume.deliveredThrough {
                resume.deliveredThrough = held.offset
                held.frame.withBytes { enqueueTick($0, key: held.key) }
            }
            heldBytes -= resume.held.reduce(0) { $0 + $1.frame.count }
            resume.held.removeAll()
            if resume.overflowed, resume.rounds < Self.maxRounds, outcome.failure == nil {
                // More live ticks came than could be held: replay them too.
                resume.overflowed = false
                resume.rounds += 1
                resume.replayThrough = context.position(of: resume.partition)
                again.append(.init(
                    symbol: resume.symbol, venue: resume.venue, partition: resume.partition,
                    start: .after(resume.deliveredThrough), through: resume.replayThrough,
                    liveWhenMissing: false))
            } else if resume.overflowed {
                // Could not catch up: say so, and go on live.
                send(.resumeStatus(ResumeStatus(
                    requestID: resume.requestID, symbol: resume.symbol, recovered: false, partition: resume.partition,
                    fromOffset: resume.deliveredThrough + 1, reason: "ticks came faster than the replay could catch up; some were skipped")))
                context.stats.resumesNotRecovered.add(1, ordering: .relaxed)
                goLive(resume)
            } else if resume.deliveredThrough > context.position(of: resume.partition) {
                resume.phase = .catchingUp
            } else {
                goLive(resume)
            }
        }
        if !again.isEmpty, let replay = context.replay {
            context.replay?.budget.forceStart()
            run(again, on: replay)
        }
    }

    /// A live tick of a pair whose symbol is still being stitched.
    func liveWhileResuming(_ bytes: UnsafeRawBufferPointer, key: Int32, offset: Int64) {
        guard machine.isLive, let resume = resumes[context.entry(key).symbol] else { return }
        switch resume.phase {
        case .replaying:
            guard !resume.overflowed, offset > resume.replayThrough else { return }
            if heldBytes + bytes.count > maxPendingBytes {
                resume.overflowed = true
                return
            }
            heldBytes += bytes.count
            resume.held.append(.init(key: key, offset: offset, frame: FrameSlot(copying: bytes)))
        case .catchingUp:
            guard offset > resume.deliveredThrough else { return }
            goLive(resume)
            enqueueTick(bytes, key: key)
        }
    }

    /// The symbol's pairs leave the replay lists for the live ones.
    func goLive(_ resume: SymbolResume) {
        resumes[resume.symbol] = nil
        heldBytes -= resume.held.reduce(0) { $0 + $1.frame.count }
        for (id, held) in subscriptions.held where context.entry(id).symbol == resume.symbol {
            context.unsubscribe(id, self)
            context.subscribe(id, self, capped: held.options.maxRate > 0)
        }
    }

    /// Whether a pair of `symbol` is held for a replay now.
    func isResuming(_ symbol: String) -> Bool { resumes[symbol] != nil }
}

/// Carries a stream across the replay thread and back to its loop, where
/// alone it is read.
final class WeakCallBox: @unchecked Sendable {
    weak var call: StreamCall?
    init(_ call: StreamCall) { self.call = call }
}
