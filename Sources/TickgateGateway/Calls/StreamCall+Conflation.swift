import Synchronization
import TickgateHTTP2
import TickgateModel

/// The latest tick of one pair waiting for a stream that is behind.
final class PendingTick {
    let frame: FrameSlot
    /// Ticks of the pair skipped before this one.
    var skipped: UInt64
    var snapshot: Bool

    init(_ bytes: UnsafeRawBufferPointer, skipped: UInt64, snapshot: Bool) {
        self.frame = FrameSlot(copying: bytes)
        self.skipped = skipped
        self.snapshot = snapshot
    }
}

/// One rate-capped pair of one stream: when it may send next, and the
/// latest tick held back until then.
final class RateCap {
    let intervalNanos: Int64
    var nextAllowedNanos: Int64 = 0
    let frame = FrameSlot()
    var skipped: UInt64 = 0
    var holding = false

    init(maxRate: UInt32) {
        self.intervalNanos = max(1, 1_000_000_000 / Int64(maxRate))
    }

    /// A tick of the pair went out at `now`. The next may go one interval
    /// after the previous slot, so the timer's lateness does not lower the
    /// rate, but never sooner than 95% of an interval after this one (nor
    /// more than the timer's period sooner): the cap holds over any window.
    func delivered(at now: Int64) {
        let slack = min(intervalNanos / 20, 5_000_000)
        nextAllowedNanos = max(nextAllowedNanos + intervalNanos, now + intervalNanos - slack)
    }
}

/// A ``StreamCall`` that cannot keep up: conflation, rate caps, and the
/// end of a lossless stream that fell behind.
extension StreamCall {
    /// The stream is past its bound. Hand what is pending to the socket; if
    /// that makes no room, conflate (or, for a lossless pair, end).
    @inline(never)
    func overflow(_ bytes: UnsafeRawBufferPointer, key: Int32, skipped: UInt64, snapshot: Bool) {
        if context.makeRoom(for: self), fits(bytes.count, marked: skipped > 0 || snapshot) {
            write(bytes, skipped: skipped, snapshot: snapshot)
            return
        }
        if hasLossless, subscriptions.held[key]?.options.lossless == true {
            endLagging(failing: key)
            return
        }
        if !conflating {
            conflating = true
            context.stats.conflatedStreams.add(1, ordering: .relaxed)
            context.startedConflating(self)
        }
        conflate(bytes, key: key, skipped: skipped, snapshot: snapshot)
    }

    /// Keeps `bytes` as the pair's latest pending tick.
    @inline(never)
    func conflate(_ bytes: UnsafeRawBufferPointer, key: Int32, skipped: UInt64, snapshot: Bool) {
        if hasLossless, subscriptions.held[key]?.options.lossless == true {
            // Never conflated: straight in while there is room.
            if fits(bytes.count, marked: snapshot) { write(bytes, skipped: 0, snapshot: snapshot) } else { endLagging(failing: key) }
            return
        }
        if let slot = conflated[key] {
            slot.skipped &+= 1 &+ skipped
            slot.frame.store(bytes)
            slot.snapshot = snapshot
            context.stats.ticksConflated.add(1, ordering: .relaxed)
        } else {
            conflated[key] = PendingTick(bytes, skipped: skipped, snapshot: snapshot)
            conflationOrder.append(key)
        }
    }

    /// After the connection wrote: once half the bound is free, the latest
    /// tick of each conflated pair goes out (oldest pair first), marked with
    /// how many were skipped. True when the stream has caught up.
    func refill() -> Bool {
        guard machine.isLive else { return true }
        guard outbound.pending.readableBytes <= maxPendingBytes / 2 else { return false }
        var written = 0
        for key in conflationOrder {
            guard let slot = conflated[key] else { written += 1; continue }
            guard fits(slot.frame.count, marked: true) else { break }
            slot.frame.withBytes { write($0, skipped: slot.skipped, snapshot: slot.snapshot) }
            conflated[key] = nil
            written += 1
        }
        conflationOrder.removeFirst(written)
        guard conflationOrder.isEmpty else { return false }
        conflating = false
        return true
    }

    /// A tick for a pair whose rate this stream caps: sent now if its slot
    /// is due, otherwise held (the latest one) for the loop's rate timer.
    func offerCapped(_ bytes: UnsafeRawBufferPointer, key: Int32, now: Int64) {
        guard machine.isLive, let cap = caps[key] else { return }
        if !cap.holding && now >= cap.nextAllowedNanos {
            cap.delivered(at: now)
            enqueueTick(bytes, key: key)
            context.stats.deliveries.add(1, ordering: .relaxed)  // at most the cap's rate
            return
        }
        if cap.holding {
            cap.skipped &+= 1
        } else {
            cap.holding = true
            capsHolding += 1
            context.holdsCappedTicks(self)
        }
        cap.frame.store(bytes)
    }

    /// The loop's rate timer: held ticks whose slot is due go out. False
    /// when nothing is held any more.
    func releaseDue(now: Int64) -> Bool {
        guard machine.isLive, capsHolding > 0 else { return false }
        for (key, cap) in caps where cap.holding && now >= cap.nextAllowedNanos {
            cap.holding = false
            capsHolding -= 1
            cap.delivered(at: now)
            let skipped = cap.skipped
            cap.skipped = 0
            cap.frame.withBytes { enqueueMarked($0, key: key, snapshot: false, skipped: skipped) }
            context.stats.deliveries.add(1, ordering: .relaxed)
        }
        return capsHolding > 0
    }

    /// A tick with its own marks (snapshot, skipped), through the same bound.
    func enqueueMarked(_ bytes: UnsafeRawBufferPointer, key: Int32, snapshot: Bool, skipped: UInt64) {
        guard machine.isLive else { return }
        guard snapshot || skipped > 0 else { return enqueueTick(bytes, key: key) }
        if conflating {
            conflate(bytes, key: key, skipped: skipped, snapshot: snapshot)
        } else if fits(bytes.count, marked: true) {
            write(bytes, skipped: skipped, snapshot: snapshot)
        } else {
            overflow(bytes, key: key, skipped: skipped, snapshot: snapshot)
        }
    }

    private func fits(_ count: Int, marked: Bool) -> Bool {
        outbound.pending.readableBytes + count + (marked ? TickFrame.maxGrowth : 0) <= maxPendingBytes
    }

    private func write(_ bytes: UnsafeRawBufferPointer, skipped: UInt64, snapshot: Bool) {
        let pending = outbound.pending
        if skipped > 0 || snapshot {
            let written = TickFrame.writeMarked(bytes, snapshot: snapshot, skipped: skipped) { pending.writeBytes($0) }
            if written == nil { pending.writeBytes(bytes) }
        } else {
            pending.writeBytes(bytes)
        }
        hadTraffic = true
        context.hasOutput(outbound)
    }

    /// A lossless pair fell past the bound: the stream is told where it
    /// stands for each symbol it holds (the last tick it was given; the
    /// failing one's predecessor), then ends RESOURCE_EXHAUSTED.
    private func endLagging(failing: Int32) {
        var positions: [String: KafkaPosition] = [:]
        var failingSymbol: String? = nil
        let failingEntry = context.entry(failing)
        if failingEntry.offset >= 0 {
            failingSymbol = failingEntry.symbol
            positions[failingEntry.symbol] = KafkaPosition(
                symbol: failingEntry.symbol, partition: failingEntry.partition, offset: failingEntry.offset - 1)
        }
        for id in subscriptions.held.keys where id != failing {
            let entry = context.entry(id)
            guard entry.symbol != failingSymbol, let position = entry.position else { continue }
            if let known = positions[entry.symbol], known.offset >= position.offset { continue }
            positions[entry.symbol] = position
        }
        let sorted = positions.values.sorted { $0.symbol < $1.symbol }
        let message = "this lossless stream fell more than \(maxPendingBytes) bytes behind; resume from these positions"
        context.stats.laggingStreamsEnded.add(1, ordering: .relaxed)
        // Past the bound on purpose: the one message that says where to resume.
        outbound.pending.writeMessage { WireCodec.encode(ServerMessage.lagging(positions: sorted, message: message), into: &$0) }
        perform(machine.fail(GRPCStatus(.resourceExhausted, message)))
    }
}
