import NIOCore
import Testing
@testable import TickgateGateway
import TickgateHTTP2

/// Defect 5: the Kafka reader slept while any loop's inbox was full, so one
/// slow loop stalled every loop. Now a full inbox drops that loop's copy
/// and the loop tells the streams concerned once it has caught up.
@Suite struct LoopInboxTests {
    static func batch(_ keys: [Int32]) -> TickFrameBatch {
        TickFrameBatch(buffer: ByteBuffer(), entries: keys.map { .init(key: $0, partition: 0, offset: 0, start: 0, length: 0) })
    }

    @Test func fullInboxDropsWithoutWaitingAndReportsTheSymbolsAfterwards() {
        let inbox = LoopInbox(maxQueuedTicks: 4)
        guard case .queued(wake: true) = inbox.push(Self.batch([0, 1, 2, 3])) else {
            Issue.record("first push queues and wakes")
            return
        }
        guard case .dropped = inbox.push(Self.batch([4])) else {
            Issue.record("over the bound: dropped at once")
            return
        }
        let (first, more) = inbox.take(maxTicks: 100)
        #expect(!more)
        #expect(first.count == 2, "the batch, then the notice")
        guard case .lost(let keys, let status) = first.last else {
            Issue.record("expected the notice last")
            return
        }
        #expect(keys == [4])
        #expect(status.code == .unavailable)
        guard case .queued(wake: true) = inbox.push(Self.batch([5])) else {
            Issue.record("caught up: queues again")
            return
        }
    }

    @Test func aTurnTakesABoundedNumberOfTicks() {
        let inbox = LoopInbox(maxQueuedTicks: 1_000)
        for _ in 0..<5 { _ = inbox.push(Self.batch(Array(repeating: 0, count: 10))) }
        let (first, more) = inbox.take(maxTicks: 25)
        #expect(first.count == 2)
        #expect(more)
        #expect(inbox.queuedTicks == 30)
        let (rest, again) = inbox.take(maxTicks: 1_000)
        #expect(rest.count == 3)
        #expect(!again)
    }
}
