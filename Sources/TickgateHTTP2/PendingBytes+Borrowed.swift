#if canImport(Glibc)
import Glibc
#endif

/// The borrowed half of ``PendingBytes``: ranges of a delivery pass's
/// shared batch, recorded without a copy and copied once, by the send path
/// or (what a full window left) when the pass ends.
extension PendingBytes {
    /// Separate borrowed ranges waiting (tests).
    package var borrowedRanges: Int { rangeCount &- rangeHead &+ (tailCount > 0 ? 1 : 0) }
    /// Range storage larger than this is given back once the queue drains.
    static var retainedRanges: Int { 64 }

    /// What a borrow asks of its caller: nothing (the common case), or
    /// any of these.
    package struct BorrowOutcome: OptionSet, Sendable {
        package let rawValue: UInt8
        @inlinable package init(rawValue: UInt8) { self.rawValue = rawValue }
        /// Over the limit: nothing was recorded.
        package static let refused = BorrowOutcome(rawValue: 1)
        /// The first borrow since the last ``endPass()``: list this queue
        /// for its pass's end.
        package static let listForPass = BorrowOutcome(rawValue: 2)
        /// It was not queued for a flush (``isQueuedForFlush`` is now set):
        /// list it with its connection's output.
        package static let queueForFlush = BorrowOutcome(rawValue: 4)
    }

    /// Records `bytes` as pending without copying them, unless that would
    /// leave more than `limit` pending. `bytes` must stay valid and
    /// unchanged until ``endPass()`` (the delivery pass's batch buffer), and
    /// ``endPass()`` must be called once this returns
    /// ``BorrowOutcome/listForPass``. A range that continues the last one
    /// extends it (a stream that takes consecutive ticks of a batch holds
    /// one range for them).
    @inlinable @inline(__always)
    package func borrow(_ bytes: UnsafeRawBufferPointer, limit: Int) -> BorrowOutcome {
        let count = bytes.count
        guard writerIndex &- readerIndex &+ borrowedBytes &+ count <= limit else { return .refused }
        let outcome: BorrowOutcome = markQueuedForFlush() ? .queueForFlush : []
        guard count > 0, let start = bytes.baseAddress else { return outcome }
        borrowedBytes &+= count
        if tailCount > 0 {
            // Listed already: the tail exists only within a pass.
            if tailStart.unsafelyUnwrapped + tailCount == start {
                tailCount &+= count
            } else {
                sealTail()
                tailStart = start
                tailCount = count
            }
            return outcome
        }
        tailStart = start
        tailCount = count
        guard !listedForPass else { return outcome }
        listedForPass = true
        return outcome.union(.listForPass)
    }

    /// ``borrow(_:limit:)`` up to ``deliveryLimit``: a delivery that reads
    /// nothing but this queue.
    @inlinable @inline(__always)
    package func borrowLive(_ bytes: UnsafeRawBufferPointer) -> BorrowOutcome {
        borrow(bytes, limit: deliveryLimit)
    }

    /// The delivery pass ends and its shared bytes go: what is still
    /// borrowed is copied in (nothing to do, usually: it was sent).
    /// Returns the bytes copied in.
    @inlinable @inline(__always) @discardableResult
    package func endPass() -> Int {
        listedForPass = false
        guard borrowedBytes > 0 else { return 0 }
        return copyBorrowedIn()
    }

    /// Copies the first `count` pending bytes (owned, then borrowed) to
    /// `target` and takes them off the queue: the send path's one copy.
    package func copyFront(_ count: Int, to target: UnsafeMutableRawPointer) {
        precondition(count >= 0 && count <= readableBytes, "sending past what is pending")
        var target = target
        var left = count
        let owned = min(ownedBytes, left)
        if owned > 0 {
            target.copyMemory(from: base.unsafelyUnwrapped + readerIndex, byteCount: owned)
            readerIndex &+= owned
            target += owned
            left &-= owned
        }
        while left > 0 && rangeHead < rangeCount {
            let range = ranges.unsafelyUnwrapped + rangeHead
            let n = min(range.pointee.count, left)
            target.copyMemory(from: range.pointee.start, byteCount: n)
            target += n
            left &-= n
            borrowedBytes &-= n
            if n == range.pointee.count {
                rangeHead &+= 1
            } else {
                range.pointee.start += n
                range.pointee.count &-= n
            }
        }
        if left > 0 {
            target.copyMemory(from: tailStart.unsafelyUnwrapped, byteCount: left)
            tailStart = tailStart.unsafelyUnwrapped + left
            tailCount &-= left
            borrowedBytes &-= left
        }
        if rangeHead == rangeCount {
            rangeHead = 0
            rangeCount = 0
        }
    }

    /// The tail is followed by a range it does not continue: it joins `ranges`.
    @usableFromInline @inline(never)
    func sealTail() {
        if rangeCount == rangeCapacity { growRanges() }
        (ranges.unsafelyUnwrapped + rangeCount).initialize(to: Borrowed(start: tailStart.unsafelyUnwrapped, count: tailCount))
        rangeCount &+= 1
    }

    func growRanges() {
        let grown = max(8, rangeCapacity * 2)
        guard let storage = realloc(ranges, grown * MemoryLayout<Borrowed>.stride) else {
            fatalError("out of memory growing a stream's borrowed ranges to \(grown)")
        }
        ranges = storage.bindMemory(to: Borrowed.self, capacity: grown)
        rangeCapacity = grown
    }

    /// What is borrowed becomes owned (a copy), in order after what is owned.
    @usableFromInline @inline(never) @discardableResult
    func copyBorrowedIn() -> Int {
        let total = borrowedBytes
        guard total > 0 else {
            dropBorrowed()
            return 0
        }
        if writerIndex &+ total > capacity { makeRoom(for: total) }
        var target = base.unsafelyUnwrapped + writerIndex
        for index in rangeHead..<rangeCount {
            let range = ranges.unsafelyUnwrapped[index]
            target.copyMemory(from: range.start, byteCount: range.count)
            target += range.count
        }
        if tailCount > 0 { target.copyMemory(from: tailStart.unsafelyUnwrapped, byteCount: tailCount) }
        writerIndex &+= total
        dropBorrowed()
        return total
    }

    func dropBorrowed() {
        borrowedBytes = 0
        tailStart = nil
        tailCount = 0
        rangeHead = 0
        rangeCount = 0
        if rangeCapacity > Self.retainedRanges {
            free(ranges)
            ranges = nil
            rangeCapacity = 0
        }
    }

}
