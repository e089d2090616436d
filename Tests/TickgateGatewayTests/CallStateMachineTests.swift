import Testing
@testable import TickgateGateway
import TickgateHTTP2

@Suite struct StreamCallStateMachineTests {
    @Test func halfCloseWithSubscriptionsKeepsStreamingThenEndsOKWhenTheLastGoes() {
        var machine = StreamCallStateMachine()
        #expect(machine.start(endStream: false) == [.sendResponseHeaders])
        #expect(machine.acceptsMessages)
        #expect(machine.receivedEndStream(subscriptions: 2) == [])
        #expect(machine.state == .halfClosed)
        #expect(machine.isLive, "ticks keep flowing")
        #expect(!machine.acceptsMessages)
        #expect(machine.subscriptionsChanged(count: 1) == [])
        #expect(machine.subscriptionsChanged(count: 0) == [.finish(.ok)])
        #expect(!machine.isLive)
        #expect(machine.streamClosed() == [.releaseSubscriptions])
        #expect(machine.streamClosed() == [], "once")
    }

    /// Defect: a request whose HEADERS carried END_STREAM was never finished.
    @Test func headersWithEndStreamEndOKAtOnce() {
        var machine = StreamCallStateMachine()
        #expect(machine.start(endStream: true) == [.sendResponseHeaders, .finish(.ok)])
        #expect(machine.state == .finishing)
    }

    @Test func halfCloseWithNothingSubscribedEndsOK() {
        var machine = StreamCallStateMachine()
        _ = machine.start(endStream: false)
        #expect(machine.receivedEndStream(subscriptions: 0) == [.finish(.ok)])
        #expect(machine.receivedEndStream(subscriptions: 0) == [], "a second END_STREAM is ignored")
    }

    @Test func failEndsALiveCallOnlyOnce() {
        var machine = StreamCallStateMachine()
        _ = machine.start(endStream: false)
        let status = GRPCStatus(.internal, "error parsing request proto")
        #expect(machine.fail(status) == [.finish(status)])
        #expect(machine.fail(status) == [])
        #expect(machine.tooSlow() == [])
    }

    @Test func tooSlowResetsThroughTheMachine() {
        var machine = StreamCallStateMachine()
        _ = machine.start(endStream: false)
        #expect(machine.tooSlow() == [.reset(.enhanceYourCalm)])
        #expect(!machine.isLive)
        #expect(machine.fail(GRPCStatus(.internal)) == [])
        #expect(machine.streamClosed() == [.releaseSubscriptions])
    }

    @Test func halfClosedCallCanStillBeEndedByTheGateway() {
        var machine = StreamCallStateMachine()
        _ = machine.start(endStream: false)
        _ = machine.receivedEndStream(subscriptions: 3)
        let shutdown = GRPCStatus(.unavailable, "server shutting down")
        #expect(machine.fail(shutdown) == [.finish(shutdown)])
    }
}

@Suite struct PublishCallStateMachineTests {
    let settled = PublishSettlement(delivered: 4, failed: 0, firstError: "")

    @Test func summaryAndOKOnlyAfterKafkaSettled() {
        var machine = PublishCallStateMachine()
        #expect(machine.start(endStream: false) == [.sendResponseHeaders])
        #expect(machine.receivedEndStream() == [.finishSending])
        #expect(machine.settled(settled) == [.sendSummary(settled), .finish(.ok)])
        #expect(machine.streamClosed() == [.unregister])
        #expect(machine.streamClosed() == [])
    }

    @Test func headersWithEndStreamSettleAnEmptyCall() {
        var machine = PublishCallStateMachine()
        #expect(machine.start(endStream: true) == [.sendResponseHeaders, .finishSending])
        let none = PublishSettlement(delivered: 0, failed: 0, firstError: "")
        #expect(machine.settled(none) == [.sendSummary(none), .finish(.ok)])
    }

    @Test func failedDeliveriesEndUnavailable() {
        var machine = PublishCallStateMachine()
        _ = machine.start(endStream: false)
        _ = machine.receivedEndStream()
        let bad = PublishSettlement(delivered: 3, failed: 1, firstError: "broker down")
        let actions = machine.settled(bad)
        #expect(actions.first == .sendSummary(bad))
        guard case .finish(let status) = actions.last else {
            Issue.record("expected finish")
            return
        }
        #expect(status.code == .unavailable)
    }

    /// Defect: a call refused at tick n did not say how many ticks before it
    /// were in Kafka. It now waits for them to settle and says so.
    @Test func rejectedCallSaysHowManyWerePublished() {
        var machine = PublishCallStateMachine()
        _ = machine.start(endStream: false)
        let refusal = GRPCStatus(.invalidArgument, "tick 5 of this call: no venue")
        #expect(machine.reject(refusal) == [.finishSending])
        #expect(!machine.acceptsMessages)
        #expect(machine.receivedEndStream() == [])
        #expect(machine.reject(GRPCStatus(.internal)) == [], "the first refusal stands")
        let actions = machine.settled(settled)
        #expect(actions == [.finish(GRPCStatus(.invalidArgument, "tick 5 of this call: no venue; 4 tick(s) of this call before it were published to Kafka"))])
    }

    @Test func rejectionAfterHalfCloseStillWaitsForKafka() {
        var machine = PublishCallStateMachine()
        _ = machine.start(endStream: false)
        _ = machine.receivedEndStream()
        #expect(machine.reject(GRPCStatus(.internal, "x")) == [])
        #expect(machine.settled(settled).count == 1)
    }
}


@Suite struct RateCapTests {
    @Test func theCapHoldsOverAnyWindowAndTheTimersLatenessDoesNotLowerTheRate() {
        let cap = RateCap(maxRate: 10)  // one per 100 ms
        #expect(cap.intervalNanos == 100_000_000)
        cap.delivered(at: 1_000_000_000)
        #expect(cap.nextAllowedNanos == 1_095_000_000, "95% of an interval: the timer's lateness is absorbed")
        // Released 4 ms late by the timer: the next slot keeps the pace.
        cap.delivered(at: 1_099_000_000)
        #expect(cap.nextAllowedNanos == 1_195_000_000)
        cap.delivered(at: 1_199_000_000)
        #expect(cap.nextAllowedNanos == 1_295_000_000)
        // Never sooner than 95% of an interval after the last one.
        cap.delivered(at: 1_340_000_000)
        #expect(cap.nextAllowedNanos == 1_435_000_000)
        // After a quiet spell, no burst: one interval from now.
        cap.delivered(at: 5_000_000_000)
        #expect(cap.nextAllowedNanos == 5_095_000_000)
    }
}

@Suite struct UnaryCallStateMachineTests {
    @Test func oneRequestThenEndStreamIsAnswered() {
        var machine = UnaryCallStateMachine()
        #expect(machine.start(endStream: false) == [.sendResponseHeaders])
        #expect(machine.receivedMessage() == [])
        #expect(machine.receivedEndStream() == [.respond])
        #expect(!machine.acceptsMessages)
        #expect(machine.receivedEndStream() == [])
    }

    @Test func noRequestOrTwoAreInternalErrors() {
        var none = UnaryCallStateMachine()
        let noneActions = none.start(endStream: true)
        #expect(noneActions.count == 2)
        guard case .finish(let status) = noneActions.last else { Issue.record("expected a finish"); return }
        #expect(status.code == .internal)
        var two = UnaryCallStateMachine()
        _ = two.start(endStream: false)
        _ = two.receivedMessage()
        guard case .finish(let second) = two.receivedMessage().first else { Issue.record("expected a finish"); return }
        #expect(second.code == .internal)
        #expect(two.receivedEndStream() == [], "already finishing")
    }
}
