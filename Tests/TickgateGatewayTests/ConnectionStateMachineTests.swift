import NIOCore
import Testing
@testable import TickgateGateway
import TickgateHTTP2

/// The connection lifecycle, driven without sockets, with an injected clock.
@Suite struct ConnectionStateMachineTests {
    let t0 = NIODeadline.uptimeNanoseconds(1_000_000_000)

    @Test func shutdownDrainsOpenStreamsThenCloses() {
        var machine = ConnectionStateMachine(now: t0)
        #expect(machine.streamOpened(id: 1) == .none)
        #expect(machine.streamOpened(id: 3) == .none)
        let actions = machine.drain(.shutdown, now: t0)
        #expect(actions == [
            .sendGoAway(lastStreamID: 3, debug: "server shutting down"),
            .endOpenStreams(ConnectionStateMachine.shuttingDown),
            .scheduleDeadline(t0 + .seconds(5)),
        ])
        #expect(machine.state == .draining(.shutdown))
        #expect(machine.streamOpened(id: 5) == .refuseStream, "no new streams while draining")
        #expect(machine.streamClosed(now: t0) == .none)
        #expect(machine.streamClosed(now: t0) == .close, "the last stream closed")
        #expect(machine.channelInactive() == .tearDown)
        #expect(machine.channelInactive() == .none, "torn down once")
    }

    @Test func shutdownWithNoStreamClosesAtOnce() {
        var machine = ConnectionStateMachine(now: t0)
        #expect(machine.drain(.shutdown, now: t0) == [.sendGoAway(lastStreamID: 0, debug: "server shutting down"), .close])
    }

    @Test func drainDeadlineClosesWhatIsLeft() {
        var machine = ConnectionStateMachine(now: t0)
        _ = machine.streamOpened(id: 1)
        _ = machine.drain(.shutdown, now: t0)
        #expect(machine.deadlinePassed(now: t0) == [.close])
        #expect(machine.deadlinePassed(now: t0) == [])
    }

    @Test func maxAgeLetsCallsGoOnForTheGraceThenEndsThemUnavailable() {
        var limits = ConnectionStateMachine.Limits()
        limits.maxAgeGrace = .seconds(30)
        var machine = ConnectionStateMachine(limits: limits, now: t0)
        _ = machine.streamOpened(id: 1)
        _ = machine.streamOpened(id: 3)
        #expect(machine.drain(.maxAge, now: t0) == [
            .sendGoAway(lastStreamID: 3, debug: "max_age"), .scheduleDeadline(t0 + .seconds(30)),
        ], "graceful: the open calls are not ended")
        #expect(machine.streamOpened(id: 5) == .refuseStream)
        #expect(machine.streamClosed(now: t0) == .none)
        let late = t0 + .seconds(30)
        #expect(machine.deadlinePassed(now: late) == [
            .endOpenStreams(ConnectionStateMachine.tooOld), .scheduleDeadline(late + .seconds(5)),
        ])
        #expect(machine.deadlinePassed(now: late + .seconds(5)) == [.close], "what did not end in the drain grace is closed")
    }

    @Test func aRefusedConnectionAcceptsNoStreamAndClosesAtTheDeadline() {
        var machine = ConnectionStateMachine(now: t0)
        #expect(machine.refuse(now: t0) == [.scheduleDeadline(t0 + .seconds(5))])
        #expect(machine.refusedCallAnswered("too many connections from this address") == [
            .refuseConnection(.enhanceYourCalm, debug: "too many connections from this address"),
        ])
        #expect(machine.refusedCallAnswered("too many connections from this address") == [], "one GOAWAY")
        #expect(machine.streamOpened(id: 1) == .refuseStream)
        #expect(machine.sessionFinished() == .none, "nghttp2 is done once GOAWAY is out, but the peer has not read it yet")
        #expect(machine.deadlinePassed(now: t0 + .seconds(5)) == [.close])
    }

    @Test func aClientThatResetsStreamsTooFastGetsGoAway() {
        var limits = ConnectionStateMachine.Limits()
        limits.resetsPerSecond = 10
        limits.resetBurst = 20
        var machine = ConnectionStateMachine(limits: limits, now: t0)
        for _ in 0..<20 { #expect(machine.resetReceived(now: t0) == [], "a burst is allowed") }
        #expect(machine.resetReceived(now: t0) == [.abort(.enhanceYourCalm, debug: "too_many_resets")])
        #expect(machine.resetReceived(now: t0) == [], "once")

        var steady = ConnectionStateMachine(limits: limits, now: t0)
        for second in 0..<100 {
            for _ in 0..<10 { #expect(steady.resetReceived(now: t0 + .seconds(Int64(second))) == []) }
        }
    }

    @Test func aPrefaceNotFinishedInTimeCloses() {
        var limits = ConnectionStateMachine.Limits()
        limits.handshakeTimeout = .seconds(10)
        var slow = ConnectionStateMachine(limits: limits, now: t0)
        #expect(slow.tick(now: t0 + .seconds(9)) == [])
        #expect(slow.tick(now: t0 + .seconds(10)) == [.close])
        var prompt = ConnectionStateMachine(limits: limits, now: t0)
        prompt.prefaceReceived()
        #expect(prompt.tick(now: t0 + .seconds(60)) == [])
    }

    @Test func maxAgeWithNoCallClosesAtOnce() {
        var machine = ConnectionStateMachine(now: t0)
        #expect(machine.drain(.maxAge, now: t0) == [.sendGoAway(lastStreamID: 0, debug: "max_age"), .close])
    }

    @Test func peerGoAwaySendsNoGoAwayAndClosesWithTheLastStream() {
        var machine = ConnectionStateMachine(now: t0)
        _ = machine.streamOpened(id: 1)
        #expect(machine.drain(.peerGoAway, now: t0) == [.scheduleDeadline(t0 + .seconds(5))])
        #expect(machine.streamClosed(now: t0) == .close)
    }

    @Test func shutdownDuringAPeerDrainStillEndsTheStreams() {
        var machine = ConnectionStateMachine(now: t0)
        _ = machine.streamOpened(id: 1)
        _ = machine.drain(.peerGoAway, now: t0)
        #expect(machine.drain(.shutdown, now: t0) == [.endOpenStreams(ConnectionStateMachine.shuttingDown)])
    }

    @Test(arguments: [
        // (idle timeout s, streams open, seconds since idle, drains?)
        (nil, 0, 1000, false),
        (30, 0, 29, false),
        (30, 0, 30, true),
        (30, 1, 300, false),
    ] as [(Int?, Int, Int64, Bool)])
    func idleLimit(timeout: Int?, streams: Int, elapsed: Int64, drains: Bool) {
        var machine = ConnectionStateMachine(limits: .init(idleTimeout: timeout.map { .seconds(Int64($0)) }), now: t0)
        machine.prefaceReceived()
        for index in 0..<streams { _ = machine.streamOpened(id: Int32(2 * index + 1)) }
        let actions = machine.tick(now: t0 + .seconds(elapsed))
        #expect(actions.contains(.close) == drains)
        #expect((machine.state == .active) == !drains)
    }

    @Test func idleClockRestartsWhenTheLastStreamCloses() {
        var machine = ConnectionStateMachine(limits: .init(idleTimeout: .seconds(30)), now: t0)
        machine.prefaceReceived()
        _ = machine.streamOpened(id: 1)
        _ = machine.streamClosed(now: t0 + .seconds(100))
        #expect(machine.tick(now: t0 + .seconds(120)).isEmpty)
        #expect(machine.tick(now: t0 + .seconds(130)).contains(.close))
    }

    @Test func outputIsListedOncePerFlushPass() {
        var machine = ConnectionStateMachine(now: t0)
        let first = machine.outputQueued()
        let second = machine.outputQueued()
        machine.flushStarted()
        let afterFlush = machine.outputQueued()
        #expect(first && !second && afterFlush)
    }

    @Test func sessionFinishedClosesOnce() {
        var machine = ConnectionStateMachine(now: t0)
        #expect(machine.sessionFinished() == .close)
        #expect(machine.sessionFinished() == .none)
        #expect(machine.channelInactive() == .tearDown)
        let queued = machine.outputQueued()
        #expect(!queued, "nothing is flushed after teardown")
    }
}

/// The keepalive hook: gRPC's ping policy, off unless configured.
@Suite struct ConnectionPingPolicyTests {
    let t0 = NIODeadline.uptimeNanoseconds(1_000_000_000)

    @Test func pingsAreNotPolicedByDefault() {
        var machine = ConnectionStateMachine(now: t0)
        for index in 0..<100 {
            #expect(machine.pingReceived(now: t0 + .milliseconds(Int64(index))).isEmpty)
        }
    }

    @Test(arguments: [
        // (ms between pings, pings, aborts?)
        (1_000, 10, false),  // every second against a 500 ms minimum: fine
        (100, 3, false),     // two strikes are tolerated
        (100, 4, true),      // the third gets GOAWAY
    ] as [(Int64, Int, Bool)])
    func tooFrequentPingsGetTooManyPings(gap: Int64, pings: Int, aborts: Bool) {
        var machine = ConnectionStateMachine(limits: .init(minPingInterval: .milliseconds(500)), now: t0)
        _ = machine.streamOpened(id: 1)
        var actions: [ConnectionStateMachine.Action] = []
        for index in 0..<pings { actions += machine.pingReceived(now: t0 + .milliseconds(gap * Int64(index))) }
        #expect(actions.contains(.abort(.enhanceYourCalm, debug: "too_many_pings")) == aborts)
        #expect((machine.state == .closing) == aborts)
    }

    @Test func aWellSpacedPingClearsTheStrikes() {
        var machine = ConnectionStateMachine(limits: .init(minPingInterval: .milliseconds(500)), now: t0)
        _ = machine.streamOpened(id: 1)
        _ = machine.pingReceived(now: t0)
        _ = machine.pingReceived(now: t0 + .milliseconds(10))
        _ = machine.pingReceived(now: t0 + .milliseconds(20))
        #expect(machine.pingStrikes == 2)
        #expect(machine.pingReceived(now: t0 + .seconds(2)).isEmpty)
        #expect(machine.pingStrikes == 0)
    }

    @Test func pingsWithoutStreamsCanBeRefused() {
        var machine = ConnectionStateMachine(
            limits: .init(minPingInterval: .seconds(10), pingsWithoutStreams: false), now: t0)
        var actions: [ConnectionStateMachine.Action] = []
        for index in 0..<3 { actions += machine.pingReceived(now: t0 + .seconds(Int64(60 * index))) }
        #expect(actions == [.abort(.enhanceYourCalm, debug: "too_many_pings")])
    }
}
