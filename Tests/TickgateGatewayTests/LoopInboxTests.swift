import NIOCore
import Testing
@testable import TickgateGateway
import TickgateHTTP2

/// Defect 5: the Kafka reader slept while any loop's inbox was full, so one
/// slow loop stalled every loop. Now a full inbox drops that loop's copy
/// and the loop tells the streams concerned once it has caught up.
@Suite struct LoopInboxTests {
    static func batch(_ symbols: [String]) -> TickFrameBatch {
        TickFrameBatch(buffer: ByteBuffer(), entries: symbols.map { .init(symbol: $0, start: 0, length: 0) })
    }

    @Test func fullInboxDropsWithoutWaitingAndReportsTheSymbolsAfterwards() {
        let inbox = LoopInbox(maxQueuedTicks: 4)
        guard case .queued(wake: true) = inbox.push(Self.batch(["A-USD", "B-USD", "C-USD", "D-USD"])) else {
            Issue.record("first push queues and wakes")
            return
        }
        guard case .dropped = inbox.push(Self.batch(["E-USD"])) else {
            Issue.record("over the bound: dropped at once")
            return
        }
        let (first, more) = inbox.take(maxTicks: 100)
        #expect(!more)
        #expect(first.count == 2, "the batch, then the notice")
        guard case .lost(let symbols, let status) = first.last else {
            Issue.record("expected the notice last")
            return
        }
        #expect(symbols == ["E-USD"])
        #expect(status.code == .unavailable)
        guard case .queued(wake: true) = inbox.push(Self.batch(["F-USD"])) else {
            Issue.record("caught up: queues again")
            return
        }
    }

    @Test func aTurnTakesABoundedNumberOfTicks() {
        let inbox = LoopInbox(maxQueuedTicks: 1_000)
        for _ in 0..<5 { _ = inbox.push(Self.batch(Array(repeating: "A-USD", count: 10))) }
        let (first, more) = inbox.take(maxTicks: 25)
        #expect(first.count == 2)
        #expect(more)
        #expect(inbox.queuedTicks == 30)
        let (rest, again) = inbox.take(maxTicks: 1_000)
        #expect(rest.count == 3)
        #expect(!again)
    }
}
