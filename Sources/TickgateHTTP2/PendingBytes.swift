package import NIOCore
#if canImport(Glibc)
import Glibc
#endif

/// The bytes one stream has waiting for its flow-control window: a plain
/// growable byte queue owned by its stream, on one event loop.
///
/// Not a `ByteBuffer` on purpose: appending one tick is the gateway's
/// per-delivery work, and a `ByteBuffer` write checks its storage for
/// uniqueness (copy on write) and its storage object's fields for
/// exclusivity every time. Here an append is a bounds check and a
/// `memcpy`; nothing is shared, so nothing is checked. Storage grows by
/// doubling, is compacted when the read front outweighs what is unread,
/// and is given back when it drains after a burst.
package final class PendingBytes {
    // Inlinable into the gateway's delivery loop (another module).
    #if DEBUG
    @usableFromInline var base: UnsafeMutableRawPointer?
    @usableFromInline package internal(set) var capacity = 0
    @usableFromInline package internal(set) var readerIndex = 0
    @usableFromInline package internal(set) var writerIndex = 0
    #else
    @exclusivity(unchecked) @usableFromInline var base: UnsafeMutableRawPointer?
    @exclusivity(unchecked) @usableFromInline package internal(set) var capacity = 0
    @exclusivity(unchecked) @usableFromInline package internal(set) var readerIndex = 0
    @exclusivity(unchecked) @usableFromInline package internal(set) var writerIndex = 0
    #endif

    /// Storage larger than this is given back once the queue drains.
    static let retainedCapacity = 16 * 1024
    /// Read bytes at the front are moved out only past this many.
    static let compactionFloor = 16 * 1024

    package init() {}

    deinit { free(base) }

    @inlinable @inline(__always)
    package var readableBytes: Int { writerIndex &- readerIndex }

    /// Appends `bytes` unless that would leave more than `limit` pending;
    /// false (nothing appended) then. The delivery loop's one call per
    /// delivery: inlined into it, with this module's unchecked access.
    @inlinable @inline(__always)
    package func writeBytes(_ bytes: UnsafeRawBufferPointer, limit: Int) -> Bool {
        guard writerIndex &- readerIndex &+ bytes.count <= limit else { return false }
        writeBytes(bytes)
        return true
    }

    /// Appends `bytes`.
    @inlinable
    package func writeBytes(_ bytes: UnsafeRawBufferPointer) {
        let count = bytes.count
        guard count > 0, let source = bytes.baseAddress else { return }
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

    /// Takes back the last `count` bytes written.
    package func removeLast(_ count: Int) {
        writerIndex = max(readerIndex, writerIndex - count)
    }

    package func withUnsafeReadableBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try body(UnsafeRawBufferPointer(start: base.map { $0 + readerIndex }, count: readableBytes))
    }

    /// The unread bytes, copied (tests).
    package var readableBytesArray: [UInt8] { withUnsafeReadableBytes { Array($0) } }

    /// `count` bytes were sent.
    package func moveReaderIndex(forwardBy count: Int) {
        precondition(count >= 0 && count <= readableBytes, "reading past what is pending")
        readerIndex &+= count
    }

    /// Nothing pending any more (bytes dropped, or all sent). Storage from a
    /// burst is given back.
    package func clear() {
        readerIndex = 0
        writerIndex = 0
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
        } else if readerIndex >= Self.compactionFloor && readerIndex >= readableBytes {
            moveUnreadToFront()
        }
    }

    @usableFromInline @inline(never)
    func makeRoom(for count: Int) {
        let unread = readableBytes
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
        let unread = readableBytes
        if unread > 0, let base { base.copyMemory(from: base + readerIndex, byteCount: unread) }
        readerIndex = 0
        writerIndex = unread
    }
}
