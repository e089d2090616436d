package import NIOCore
#if canImport(Glibc)
import Glibc
#endif

/// The bytes one stream has waiting for its flow-control window, on one
/// event loop: bytes it owns (copied in), then bytes it only borrows.
///
/// Borrowed bytes are the gateway's one-copy delivery path: a live tick is
/// recorded as a range of the loop's shared batch buffer (``borrow(_:limit:)``,
/// no copy), and the send-data callback copies it from there straight into
/// the connection's out buffer (``copyFront(_:to:)``), the one copy between
/// Kafka's bytes and the socket. The batch is alive only for its delivery
/// pass, so whatever is still borrowed when the pass ends is copied in
/// (``endPass()``): only a stream whose window or socket is full pays a
/// second copy. Any other write, and any reader other than the send path,
/// copies the borrowed ranges in first, so the byte order is always the
/// order of the writes.
///
/// Not a `ByteBuffer` on purpose: appending one tick is the gateway's
/// per-delivery work, and a `ByteBuffer` write checks its storage for
/// uniqueness (copy on write) and its storage object's fields for
/// exclusivity every time. Here an append is a bounds check and a
/// `memcpy` (or, borrowed, a range extended); nothing is shared, so nothing
/// is checked. Storage grows by doubling, is compacted when the read front
/// outweighs what is unread, and is given back when it drains after a burst.
package final class PendingBytes {
    /// A borrowed range of a delivery pass's shared bytes.
    @usableFromInline struct Borrowed {
        @usableFromInline var start: UnsafeRawPointer
        @usableFromInline var count: Int
        @usableFromInline init(start: UnsafeRawPointer, count: Int) {
            self.start = start
            self.count = count
        }
    }

    // Inlinable into the gateway's delivery loop (another module). What a
    // borrow touches comes first (stored properties are laid out in
    // order): one delivery, one object's first cache line or two.
    //
    // The borrowed bytes, in order: `ranges[rangeHead..<rangeCount]`, then
    // the tail range. The tail lives in the object itself, so a stream that
    // takes one tick per pass (or consecutive ones) never touches `ranges`.
    #if DEBUG
    /// What a live delivery may fill the queue to (``borrowLive(_:)``); its
    /// owner sets it below zero to send every delivery its slow way (the
    /// stream is ending, or behind and conflated).
    @usableFromInline package var deliveryLimit = 0
    @usableFromInline package internal(set) var readerIndex = 0
    @usableFromInline package internal(set) var writerIndex = 0
    @usableFromInline package internal(set) var borrowedBytes = 0
    @usableFromInline var tailStart: UnsafeRawPointer?
    @usableFromInline var tailCount = 0
    /// Listed by the delivery pass, which calls ``endPass()``.
    @usableFromInline var listedForPass = false
    /// Listed with its connection's output for the next flush (the owner's
    /// bookkeeping, see ``HTTP2OutboundStream/queueForFlush()``): kept
    /// here, beside what a borrow touches.
    @usableFromInline package var isQueuedForFlush = false
    @usableFromInline var base: UnsafeMutableRawPointer?
    @usableFromInline package internal(set) var capacity = 0
    @usableFromInline var ranges: UnsafeMutablePointer<Borrowed>?
    @usableFromInline var rangeCapacity = 0
    @usableFromInline var rangeCount = 0
    @usableFromInline var rangeHead = 0
    #else
    @exclusivity(unchecked) @usableFromInline package var deliveryLimit = 0
    @exclusivity(unchecked) @usableFromInline package internal(set) var readerIndex = 0
    @exclusivity(unchecked) @usableFromInline package internal(set) var writerIndex = 0
    @exclusivity(unchecked) @usableFromInline package internal(set) var borrowedBytes = 0
    @exclusivity(unchecked) @usableFromInline var tailStart: UnsafeRawPointer?
    @exclusivity(unchecked) @usableFromInline var tailCount = 0
    @exclusivity(unchecked) @usableFromInline var listedForPass = false
    @exclusivity(unchecked) @usableFromInline package var isQueuedForFlush = false
    @exclusivity(unchecked) @usableFromInline var base: UnsafeMutableRawPointer?
    @exclusivity(unchecked) @usableFromInline package internal(set) var capacity = 0
    @exclusivity(unchecked) @usableFromInline var ranges: UnsafeMutablePointer<Borrowed>?
    @exclusivity(unchecked) @usableFromInline var rangeCapacity = 0
    @exclusivity(unchecked) @usableFromInline var rangeCount = 0
    @exclusivity(unchecked) @usableFromInline var rangeHead = 0
    #endif

    /// Storage larger than this is given back once the queue drains.
    static let retainedCapacity = 16 * 1024
    /// Read bytes at the front are moved out only past this many.
    static let compactionFloor = 16 * 1024

    package init() {}

    deinit {
        free(base)
        free(ranges)
    }

    /// Everything waiting: owned and borrowed.
    @inlinable @inline(__always)
    package var readableBytes: Int { writerIndex &- readerIndex &+ borrowedBytes }

    /// Marks the queue as listed with its connection's output; false if it
    /// already was.
    @inlinable @inline(__always)
    package func markQueuedForFlush() -> Bool {
        guard !isQueuedForFlush else { return false }
        isQueuedForFlush = true
        return true
    }

    /// The bytes held in this queue's own storage.
    @inlinable @inline(__always)
    var ownedBytes: Int { writerIndex &- readerIndex }

    /// Appends `bytes` unless that would leave more than `limit` pending;
    /// false (nothing appended) then. A copying delivery (a held, replayed
    /// or rate-capped tick): inlined into the gateway, with this module's
    /// unchecked access.
    @inlinable @inline(__always)
    package func writeBytes(_ bytes: UnsafeRawBufferPointer, limit: Int) -> Bool {
        guard writerIndex &- readerIndex &+ bytes.count <= limit else { return false }
        writeBytes(bytes)
        return true
    }

    /// Appends `bytes` (a copy: after whatever is borrowed).
    @inlinable
    package func writeBytes(_ bytes: UnsafeRawBufferPointer) {
        let count = bytes.count
        guard count > 0, let source = bytes.baseAddress else { return }
        if borrowedBytes > 0 { copyBorrowedIn() }
        if writerIndex &+ count > capacity { makeRoom(for: count) }
        (base.unsafelyUnwrapped + writerIndex).copyMemory(from: source, byteCount: count)
        writerIndex &+= count
    }

    package func writeBytes(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { writeBytes($0) }
    }

    package func writeBytes(_ buffer: ByteBuffer) {
        buffer.withUnsafeReadableBytes { writeBytes($0) }
    }

    /// Appends one gRPC message whose body `writeBody` encodes (control
    /// messages: acks, pongs, statuses, summaries, requests). Returns its
    /// framed size.
    @discardableResult
    package func writeMessage(_ writeBody: (inout ByteBuffer) -> Void) -> Int {
        var scratch = ByteBuffer()
        GRPCMessageFramer.writeMessage(into: &scratch, writeBody)
        writeBytes(scratch)
        return scratch.readableBytes
    }

    /// Takes back the last `count` bytes written (by a copying write, the
    /// last thing done).
    package func removeLast(_ count: Int) {
        precondition(borrowedBytes == 0, "taking back bytes that were borrowed")
        writerIndex = max(readerIndex, writerIndex - count)
    }

    /// Every pending byte, contiguous (what is borrowed is copied in first).
    package func withUnsafeReadableBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        if borrowedBytes > 0 { copyBorrowedIn() }
        return try body(UnsafeRawBufferPointer(start: base.map { $0 + readerIndex }, count: ownedBytes))
    }

    /// The unread bytes, copied (tests).
    package var readableBytesArray: [UInt8] { withUnsafeReadableBytes { Array($0) } }

    /// `count` bytes were sent (read through ``withUnsafeReadableBytes(_:)``).
    package func moveReaderIndex(forwardBy count: Int) {
        precondition(count >= 0 && count <= ownedBytes, "reading past what is pending")
        readerIndex &+= count
    }

    /// Nothing pending any more (bytes dropped, or all sent). Storage from a
    /// burst is given back.
    package func clear() {
        readerIndex = 0
        writerIndex = 0
        dropBorrowed()
        if capacity > Self.retainedCapacity {
            free(base)
            base = nil
            capacity = 0
        }
    }

    /// Read bytes at the front are given back once they outweigh what is
    /// still unread (and a few KiB): a reader that always leaves a little
    /// pending must not make the queue grow with every byte it took. The
    /// move costs at most what was read since the last one, so it is
    /// amortised; the capacity stays within a small multiple of the most
    /// that was ever pending at once.
    package func compact() {
        if readableBytes == 0 {
            clear()
        } else if readerIndex >= Self.compactionFloor && readerIndex >= ownedBytes {
            moveUnreadToFront()
        }
    }

    @usableFromInline @inline(never)
    func makeRoom(for count: Int) {
        let unread = ownedBytes
        if readerIndex > 0 && unread + count <= capacity / 2 {
            moveUnreadToFront()
            return
        }
        if readerIndex > 0 { moveUnreadToFront() }
        var newCapacity = max(256, capacity)
        while newCapacity < unread + count { newCapacity *= 2 }
        guard let grown = realloc(base, newCapacity) else { fatalError("out of memory growing a stream's pending bytes to \(newCapacity)") }
        base = grown
        capacity = newCapacity
    }

    private func moveUnreadToFront() {
        let unread = ownedBytes
        if unread > 0, let base { base.copyMemory(from: base + readerIndex, byteCount: unread) }
        readerIndex = 0
        writerIndex = unread
    }
}
