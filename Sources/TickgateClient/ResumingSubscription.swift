public import TickgateModel

/// A subscription that survives its connection: when the stream ends for a
/// reason a retry can fix (the gateway restarting, a network cut, GOAWAY),
/// it reconnects with backoff and resumes every symbol from the last tick
/// it yielded, so the app sees no gap and no duplicate across reconnects.
/// When Kafka no longer holds what was missed, it says so (`gap`) and goes
/// on. Patterns cannot be resumed (they have no position): after a
/// reconnect they continue live, and that is reported as a gap too.
///
///     let subscription = ResumingSubscription(host: "127.0.0.1", port: 50051, symbols: ["BTC-USD"])
///     for try await event in subscription.events() {
///         if case .tick(let delivery) = event { print(delivery.tick.price) }
///     }
public struct ResumingSubscription: Sendable {
    public enum Event: Sendable {
        case tick(TickDelivery)
        /// The stream ended; the next attempt follows after `delay`.
        case reconnecting(attempt: Int, delay: Duration, reason: String)
        /// Subscribed again; `statuses` say whether each symbol was recovered.
        case resumed(statuses: [ResumeStatus])
        /// Ticks were lost and could not be replayed (Kafka no longer holds
        /// them, or a pattern was subscribed).
        case gap(symbol: String, reason: String)
    }

    public struct Backoff: Sendable {
        public var initial: Duration = .milliseconds(100)
        public var maximum: Duration = .seconds(10)
        /// Give up after this many attempts in a row (nil: never).
        public var maxAttempts: Int? = nil
        public init() {}
    }

    public let host: String
    public let port: Int
    public let credentials: Credentials
    public let symbols: [String]
    public let options: SubscriptionOptions
    public let backoff: Backoff
    /// Where to start (a resume token's positions).
    public let initialPositions: [KafkaPosition]

    public init(
        host: String, port: Int, credentials: Credentials = .none, symbols: [String],
        options: SubscriptionOptions = SubscriptionOptions(), resumeFrom positions: [KafkaPosition] = [], backoff: Backoff = Backoff()
    ) {
        self.host = host
        self.port = port
        self.credentials = credentials
        self.symbols = symbols
        self.options = options
        self.backoff = backoff
        self.initialPositions = positions
    }

    /// The subscription's events, pulled by the app: nothing is buffered
    /// between the gateway's stream and the app (the stream's own bounded
    /// buffer and HTTP/2 flow control push back). Ends when the app stops
    /// iterating; throws when the subscription is refused or
    /// `backoff.maxAttempts` is exhausted.
    public func events() -> Events { Events(subscription: self) }

    public struct Events: AsyncSequence, Sendable {
        public typealias Element = Event
        let subscription: ResumingSubscription

        public func makeAsyncIterator() -> Iterator { Iterator(subscription: subscription) }

        public struct Iterator: AsyncIteratorProtocol {
            let subscription: ResumingSubscription
            var ledger: PositionLedger
            var attempt = 0
            var first = true
            var connection: TickgateConnection? = nil
            var stream: TickStream? = nil
            var ticks: TickSequence.AsyncIterator? = nil
            var queued: [Event] = []
            var waitBeforeConnecting: Duration? = nil

            init(subscription: ResumingSubscription) {
                self.subscription = subscription
                self.ledger = PositionLedger(subscription.initialPositions)
            }

            public mutating func next() async throws -> Event? {
                while !Task.isCancelled {
                    if !queued.isEmpty { return queued.removeFirst() }
                    if var iterator = ticks {
                        let reason: String
                        do {
                            if let delivery = try await iterator.next() {
                                ticks = iterator
                                guard ledger.record(delivery.tick) else { continue }
                                return .tick(delivery)
                            }
                            reason = "the stream ended"
                        } catch let error as TickgateClientError {
                            if case .lagging(let positions, _) = error {
                                // Lossless and behind: resume from where it stood.
                                let known = Set(ledger.positions.map(\.symbol))
                                ledger = PositionLedger(ledger.positions + positions.filter { !known.contains($0.symbol) })
                            }
                            reason = error.description
                        } catch {
                            reason = "\(error)"
                        }
                        await disconnect()
                        try scheduleRetry(reason: reason)
                        continue
                    }
                    if let delay = waitBeforeConnecting {
                        waitBeforeConnecting = nil
                        try? await Task.sleep(for: delay)
                        continue
                    }
                    do {
                        try await connect()
                    } catch let retry as RetryLater {
                        await disconnect()
                        queued.append(.reconnecting(attempt: attempt, delay: retry.delay, reason: retry.reason))
                        waitBeforeConnecting = retry.delay
                    } catch let refused as Refused {
                        await disconnect()
                        throw refused.error
                    } catch {
                        await disconnect()
                        try scheduleRetry(reason: "\(error)")
                    }
                }
                await disconnect()
                return nil
            }

            private mutating func scheduleRetry(reason: String) throws {
                attempt += 1
                let backoff = subscription.backoff
                if let limit = backoff.maxAttempts, attempt > limit {
                    throw TickgateClientError.cannotConnect(
                        address: "\(subscription.host):\(subscription.port)", detail: "gave up after \(limit) attempts: \(reason)")
                }
                var delay = backoff.initial
                for _ in 1..<Swift.min(attempt, 20) { delay = Swift.min(backoff.maximum, delay * 2) }
                queued.append(.reconnecting(attempt: attempt, delay: delay, reason: reason))
                waitBeforeConnecting = delay
            }

            private mutating func disconnect() async {
                stream?.cancel()
                await connection?.close()
                stream = nil
                connection = nil
                ticks = nil
            }

            private mutating func connect() async throws {
                let connection = try await TickgateConnection.connect(
                    host: subscription.host, port: subscription.port, credentials: subscription.credentials)
                self.connection = connection
                let stream = try await connection.openStream()
                self.stream = stream
                let symbols = subscription.symbols
                var asked = subscription.options
                let resumable = Set(symbols)
                asked.resume = ledger.positions.filter { resumable.contains($0.symbol) }
                if !asked.resume.isEmpty {
                    asked.sinceTimeMillis = 0
                    asked.snapshot = false
                }
                let result = try await stream.subscribe(symbols, options: asked)
                if let busy = result.refused.first(where: { $0.retryAfterMillis > 0 }) {
                    // The gateway's replay budget is spent: ask again later.
                    throw RetryLater(delay: .milliseconds(busy.retryAfterMillis), reason: busy.message)
                }
                guard !result.accepted.isEmpty else {
                    let detail = result.refused.map { "\($0.symbols.joined(separator: ",")): \($0.message)" }.joined(separator: "; ")
                    throw Refused(error: .status(code: 3, name: "INVALID_ARGUMENT", message: "subscription refused: \(detail)"))
                }
                attempt = 0
                if !first {
                    var statuses: [ResumeStatus] = []
                    let accepted = Set(result.accepted)
                    let waiting = asked.resume.filter { accepted.contains($0.symbol) }
                    if !waiting.isEmpty {
                        var iterator = stream.resumes.makeAsyncIterator()
                        for _ in waiting { if let status = await iterator.next() { statuses.append(status) } }
                    }
                    queued.append(.resumed(statuses: statuses))
                    for status in statuses where !status.recovered {
                        queued.append(.gap(symbol: status.symbol, reason: status.reason))
                    }
                    for name in symbols where (try? SymbolPattern(validating: name))?.exactSymbol == nil {
                        queued.append(.gap(symbol: name, reason: "patterns cannot be resumed: live from here on"))
                    }
                }
                first = false
                ticks = stream.ticks.makeAsyncIterator()
            }
        }
    }
}

private struct Refused: Error {
    var error: TickgateClientError
}

private struct RetryLater: Error {
    var delay: Duration
    var reason: String
}
