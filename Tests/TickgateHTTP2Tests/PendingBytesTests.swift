import Testing
@testable import TickgateHTTP2

/// A stream's pending queue: owned bytes, then ranges borrowed from a
/// delivery pass's shared batch (the one-copy path).
@Suite struct PendingBytesTests {
    /// Sends everything pending through the send path's copy.
    private func sendAll(_ pending: PendingBytes) -> [UInt8] {
        let count = pending.readableBytes
        var out = [UInt8](repeating: 0, count: count)
        out.withUnsafeMutableBytes { pending.copyFront(count, to: $0.baseAddress!) }
        return out
    }

    @Test func borrowedBytesAreNotCopiedUntilSent() {
        var batch: [UInt8] = Array(1...8)
        let pending = PendingBytes()
        batch.withUnsafeMutableBytes { raw in
            #expect(pending.borrow(UnsafeRawBufferPointer(rebasing: raw[0..<4]), limit: 100) == [.listForPass, .queueForFlush])
            #expect(pending.borrow(UnsafeRawBufferPointer(rebasing: raw[4..<8]), limit: 100) == [], "listed and queued already")
            #expect(pending.readableBytes == 8)
            #expect(pending.capacity == 0, "nothing copied in")
            // The batch changes before the send: the send sees the change,
            // so nothing was copied when the bytes were queued.
            raw[0] = 99
        }
        #expect(sendAll(pending) == [99, 2, 3, 4, 5, 6, 7, 8])
        #expect(pending.readableBytes == 0)
        #expect(pending.endPass() == 0)
    }

    @Test func consecutiveRangesBecomeOneAndAPartialSendKeepsTheRest() {
        let batch: [UInt8] = Array(0..<30)
        let pending = PendingBytes()
        batch.withUnsafeBytes { raw in
            _ = pending.borrow(UnsafeRawBufferPointer(rebasing: raw[0..<10]), limit: 100)
            _ = pending.borrow(UnsafeRawBufferPointer(rebasing: raw[10..<20]), limit: 100)
            _ = pending.borrow(UnsafeRawBufferPointer(rebasing: raw[25..<30]), limit: 100)
            #expect(pending.borrowedRanges == 2, "0..<20 is one range")
            var first = [UInt8](repeating: 0, count: 15)
            first.withUnsafeMutableBytes { pending.copyFront(15, to: $0.baseAddress!) }
            #expect(first == Array(0..<15))
            #expect(pending.readableBytes == 10)
            #expect(sendAll(pending) == Array(15..<20) + Array(25..<30))
        }
    }

    /// The pass ends with bytes unsent: they are copied in, and survive the
    /// batch being reused.
    @Test func endingThePassCopiesInWhatIsStillBorrowed() {
        var batch: [UInt8] = Array(0..<12)
        let pending = PendingBytes()
        pending.writeBytes([200, 201])
        batch.withUnsafeBytes { raw in
            _ = pending.borrow(UnsafeRawBufferPointer(rebasing: raw[0..<6]), limit: 100)
            _ = pending.borrow(UnsafeRawBufferPointer(rebasing: raw[8..<12]), limit: 100)
        }
        var some = [UInt8](repeating: 0, count: 4)
        some.withUnsafeMutableBytes { pending.copyFront(4, to: $0.baseAddress!) }
        #expect(some == [200, 201, 0, 1])
        #expect(pending.endPass() == 8)
        for index in batch.indices { batch[index] = 0xEE }
        #expect(pending.borrowedBytes == 0)
        #expect(sendAll(pending) == [2, 3, 4, 5, 8, 9, 10, 11])
        // Listed again at the next pass's first borrow (still queued for a
        // flush: none took it off).
        batch.withUnsafeBytes { raw in
            #expect(pending.borrow(UnsafeRawBufferPointer(rebasing: raw[0..<1]), limit: 100) == [.listForPass])
        }
        pending.clear()
        #expect(pending.readableBytes == 0)
        #expect(pending.endPass() == 0)
    }

    /// Any other write goes after what is borrowed, and readers other than
    /// the send path see one contiguous run, in order.
    @Test func aCopyingWriteAfterABorrowKeepsTheOrder() {
        let batch: [UInt8] = [1, 2, 3]
        let pending = PendingBytes()
        batch.withUnsafeBytes { raw in
            _ = pending.borrow(raw, limit: 100)
            pending.writeBytes([4, 5])
            #expect(pending.borrowedBytes == 0, "copied in before the write")
            _ = pending.borrow(UnsafeRawBufferPointer(rebasing: raw[0..<1]), limit: 100)
            #expect(pending.readableBytesArray == [1, 2, 3, 4, 5, 1])
            #expect(pending.borrowedBytes == 0)
        }
        #expect(pending.endPass() == 0)
        #expect(sendAll(pending) == [1, 2, 3, 4, 5, 1])
    }

    @Test func theLimitCountsBorrowedAndOwnedBytes() {
        let batch = [UInt8](repeating: 7, count: 60)
        let pending = PendingBytes()
        pending.writeBytes([UInt8](repeating: 1, count: 50))
        batch.withUnsafeBytes { raw in
            #expect(pending.borrow(UnsafeRawBufferPointer(rebasing: raw[0..<40]), limit: 100) == [.listForPass, .queueForFlush])
            #expect(pending.borrow(UnsafeRawBufferPointer(rebasing: raw[40..<60]), limit: 100) == .refused)
            #expect(pending.readableBytes == 90)
            #expect(pending.borrow(UnsafeRawBufferPointer(rebasing: raw[40..<50]), limit: 100) == [])
            #expect(pending.readableBytes == 100)
            pending.endPass()
        }
        #expect(pending.readableBytesArray == [UInt8](repeating: 1, count: 50) + [UInt8](repeating: 7, count: 50))
    }

    /// Many separate ranges in one pass (a stream subscribed to every other
    /// symbol of a long batch): the range list grows and is reused.
    @Test func manyRangesInOnePass() {
        let batch: [UInt8] = (0..<2_000).map { UInt8(truncatingIfNeeded: $0) }
        let pending = PendingBytes()
        var expected: [UInt8] = []
        batch.withUnsafeBytes { raw in
            for start in stride(from: 0, to: 2_000, by: 2) {
                _ = pending.borrow(UnsafeRawBufferPointer(rebasing: raw[start..<(start + 1)]), limit: .max)
                expected.append(batch[start])
            }
            #expect(pending.borrowedRanges == 1_000)
            var half = [UInt8](repeating: 0, count: 501)
            half.withUnsafeMutableBytes { pending.copyFront(501, to: $0.baseAddress!) }
            #expect(half == Array(expected[..<501]))
            #expect(pending.endPass() == 499)
        }
        #expect(sendAll(pending) == Array(expected[501...]))
        pending.clear()
        #expect(pending.rangeCapacity <= PendingBytes.retainedRanges, "a burst's range storage is given back")
    }
}
