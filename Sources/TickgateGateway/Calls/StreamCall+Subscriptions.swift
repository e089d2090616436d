import Synchronization
import TickgateHTTP2
import TickgateModel

/// Subscribe, unsubscribe, patterns and snapshots of a ``StreamCall``.
extension StreamCall {
    func subscribe(_ request: SubscribeRequest) {
        let requestID = request.requestID
        if request.maxRate > 0 && request.lossless {
            return refuseAll(request, "max_rate keeps only the latest tick and lossless keeps every tick: ask for one of them")
        }
        if !request.venue.isEmpty, !Self.isValidVenue(request.venue) {
            return refuseAll(request, "malformed venue \"\(request.venue.prefix(64))\": letters, digits, '-', '_' and '.', at most 64")
        }
        var decision = SubscriptionDecision.subscribe(requestID: requestID, symbols: request.symbols, catalog: context.limits.symbolCatalog)
        decision.refuseForbidden(by: grant.rights, requestID: requestID)
        let options = StreamSubscriptions.Options(maxRate: request.maxRate, lossless: request.lossless)
        let plan = resumePlan(request, accepted: decision.accepted)
        if !plan.refused.isEmpty {
            reply(refused: decision.refused + plan.refused, accepted: [], requestID: requestID)
            return
        }
        var refused = decision.refused
        var jobs: [ReplayService.Job] = []
        if !plan.items.isEmpty {
            let resumed = Set(plan.items.map(\.0))
            let alreadyHeld = resumed.filter { symbol in subscriptions.interests.keys.contains { $0.pattern == .exact(symbol) } }
            let (started, retryAfter): (Bool, Int64)
            if context.replay == nil || !alreadyHeld.isEmpty {
                (started, retryAfter) = (false, 0)
            } else if replaysRunning > 0 {
                (started, retryAfter) = (false, 500)
            } else {
                (started, retryAfter) = context.replay!.budget.tryStart()
            }
            if started {
                jobs = prepareReplay(plan.items, request: request)
            } else {
                decision.accepted.removeAll { $0.exactSymbol.map(resumed.contains) ?? false }
                context.stats.replaysRefused.add(1, ordering: .relaxed)
                let message = context.replay == nil
                    ? "this gateway does not replay from Kafka"
                    : !alreadyHeld.isEmpty
                        ? "the stream already receives \(alreadyHeld.sorted().joined(separator: ", ")) live: unsubscribe first, then resume"
                        : "replay budget exhausted (\(replaysRunning > 0 ? "this stream has a replay running" : "the gateway runs as many replays as it allows")); retry in \(retryAfter) ms"
                refused.append(RequestError(
                    requestID: requestID,
                    code: Int32((alreadyHeld.isEmpty ? GRPCStatusCode.resourceExhausted : .failedPrecondition).rawValue),
                    message: message, symbols: resumed.sorted(), retryAfterMillis: retryAfter))
            }
        }
        var accepted: [String] = []
        var snapshotOf: [MarketEntry] = []
        var newInterests = 0
        // Refusals over the limits are gathered into one error each: a
        // request naming 100,000 symbols gets two messages, not 99,000.
        var tooMany: [String] = []
        var overLimit: [String] = []
        var wouldHoldMost = 0
        for pattern in decision.accepted {
            let key = StreamSubscriptions.InterestKey(pattern: pattern, venue: request.venue)
            let candidates = context.candidates(for: pattern)
            switch subscriptions.add(key, options: options, requestID: requestID, candidates: candidates.map(\.pair)) {
            case .tooManyInterests:
                tooMany.append(pattern.description)
            case .overLimit(let wouldHold):
                overLimit.append(pattern.description)
                wouldHoldMost = max(wouldHoldMost, wouldHold)
            case .added(let changes, let isNew):
                apply(changes)
                if isNew { newInterests += 1 }
                accepted.append(pattern.description)
                if request.snapshot, !isResuming(pattern.exactSymbol ?? "") {
                    snapshotOf += candidates.filter { StreamSubscriptions.matches(key, venue: $0.venue, symbol: $0.symbol) }
                }
            }
        }
        if !tooMany.isEmpty {
            refused.append(RequestError.capped(
                requestID: requestID, code: .resourceExhausted,
                message: "a stream holds at most \(subscriptions.limit) subscriptions", symbols: tooMany))
        }
        if !overLimit.isEmpty {
            refused.append(RequestError.capped(
                requestID: requestID, code: .resourceExhausted,
                message: "\(overLimit.count == 1 ? overLimit[0] : "these") would make this stream hold \(wouldHoldMost) (venue, symbol) pairs; the limit is \(subscriptions.limit)",
                symbols: overLimit))
        }
        context.setInterested(self, !subscriptions.isEmpty)
        if newInterests > 0 { context.stats.subscriptions.add(newInterests, ordering: .relaxed) }
        reply(refused: refused, accepted: accepted, requestID: requestID)
        if let replay = context.replay, !jobs.isEmpty {
            // After the ack: each symbol's ResumeStatus and replayed ticks, then live.
            let subscribed = Set(accepted)
            let kept = jobs.filter { subscribed.contains($0.symbol) }
            for job in jobs where !subscribed.contains(job.symbol) { resumes[job.symbol] = nil }
            if kept.isEmpty { replay.budget.finished() } else { run(kept, on: replay) }
        }
        // After the ack: the snapshot, then (from the next batch on) live.
        var seen: Set<Int32> = []
        for entry in snapshotOf where seen.insert(entry.id).inserted && !entry.last.isEmpty {
            entry.last.withBytes { enqueueMarked($0, key: entry.id, snapshot: true, skipped: 0) }
            caps[entry.id]?.delivered(at: WallClock.nowNanos())
        }
        for pattern in decision.accepted {
            for entry in context.candidates(for: pattern) where entry.stale && subscriptions.held[entry.id] != nil {
                sendStatus(SymbolStatus(symbol: entry.symbol, venue: entry.venue, stale: true, lastTickTimeNanos: entry.lastReceiveNanos))
            }
        }
    }

    /// The whole request is refused (INVALID_ARGUMENT); nothing changes.
    private func refuseAll(_ request: SubscribeRequest, _ message: String) {
        reply(
            refused: [RequestError(
                requestID: request.requestID, code: Int32(GRPCStatusCode.invalidArgument.rawValue), message: message,
                symbols: request.symbols)],
            accepted: [], requestID: request.requestID)
    }

    func unsubscribe(requestID: UInt64, _ requested: [String], venue: String) {
        let decision = SubscriptionDecision.unsubscribe(requestID: requestID, symbols: requested)
        var removed = 0
        for pattern in decision.accepted {
            let key = StreamSubscriptions.InterestKey(pattern: pattern, venue: venue)
            let candidates = context.candidates(for: pattern).map(\.pair)
            let outcome = subscriptions.remove(key, candidates: candidates)
            if outcome.found { removed += 1 }
            apply(outcome.changes)
        }
        if removed > 0 { context.stats.subscriptions.subtract(removed, ordering: .relaxed) }
        context.setInterested(self, !subscriptions.isEmpty)
        reply(refused: decision.refused, accepted: decision.acceptedNames, requestID: requestID)
    }

    /// A pair the loop has just seen for the first time.
    func newPair(_ entry: MarketEntry) {
        guard machine.isLive else { return }
        switch subscriptions.newPair(entry.pair) {
        case .none:
            return
        case .add(let options, let byPattern):
            apply([.add(entry.id, options)])
            if byPattern { sendStatus(SymbolStatus(symbol: entry.symbol, venue: entry.venue, added: true)) }
        case .overLimit(let requestID):
            let error = RequestError(
                requestID: requestID, code: Int32(GRPCStatusCode.resourceExhausted.rawValue),
                message: "\(entry.venue) \(entry.symbol) matches, but this stream holds the most (venue, symbol) pairs allowed (\(subscriptions.limit))",
                symbols: [entry.symbol])
            context.stats.recordRequestError(code: Int(error.code))
            send(.error(error))
        }
    }

    func apply(_ changes: [StreamSubscriptions.Change]) {
        guard !changes.isEmpty else { return }
        for change in changes {
            switch change {
            case .add(let id, let options):
                subscribeLive(id, options)
                if options.maxRate > 0 { caps[id] = RateCap(maxRate: options.maxRate) }
            case .update(let id, let options):
                context.unsubscribe(id, self)
                subscribeLive(id, options)
                dropHeld(id)
                if options.maxRate > 0 { caps[id] = RateCap(maxRate: options.maxRate) }
            case .remove(let id):
                context.unsubscribe(id, self)
                dropHeld(id)
            }
        }
        hasLossless = subscriptions.held.values.contains { $0.options.lossless }
    }

    /// Into the pair's live lists, or its replay list while its symbol is
    /// being stitched.
    private func subscribeLive(_ id: Int32, _ options: StreamSubscriptions.Options) {
        if !resumes.isEmpty, resumes[context.entry(id).symbol] != nil {
            context.subscribeReplaying(id, self)
        } else {
            context.subscribe(id, self, capped: options.maxRate > 0)
        }
    }

    /// Forgets what waits for pair `id` (rate cap, conflation).
    private func dropHeld(_ id: Int32) {
        if let cap = caps.removeValue(forKey: id), cap.holding { capsHolding -= 1 }
        if conflated.removeValue(forKey: id) != nil { conflationOrder.removeAll { $0 == id } }
    }

    func releaseSubscriptions() {
        context.setInterested(self, false)
        let interests = subscriptions.interests.count
        let held = subscriptions.removeAll()
        for id in held { context.unsubscribe(id, self) }
        if interests > 0 { context.stats.subscriptions.subtract(interests, ordering: .relaxed) }
        caps.removeAll()
        capsHolding = 0
        conflated.removeAll()
        conflationOrder.removeAll()
        hasLossless = false
        resumes.removeAll()
        heldBytes = 0
    }

    static func isValidVenue(_ venue: String) -> Bool {
        venue.utf8.count <= 64 && venue.utf8.allSatisfy { byte in
            (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z")) || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z"))
                || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9"))
                || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "_") || byte == UInt8(ascii: ".")
        }
    }
}

extension MarketEntry {
    var pair: StreamSubscriptions.Pair { .init(id: id, venue: venue, symbol: symbol) }
}
