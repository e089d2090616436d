#if canImport(Glibc)
import Glibc
#endif

/// One framed tick message kept by value: a (venue, symbol)'s last tick in
/// a loop's last-value cache, or the latest pending tick of a conflated or
/// rate-capped stream. Storing is a `memcpy` into storage that is reused
/// (it only grows to the largest tick seen).
final class FrameSlot {
    private var base: UnsafeMutableRawPointer?
    private var capacity = 0
    private(set) var count = 0

    init() {}

    init(copying bytes: UnsafeRawBufferPointer) {
        store(bytes)
    }

    deinit { free(base) }

    var isEmpty: Bool { count == 0 }

    @inline(__always)
    func store(_ bytes: UnsafeRawBufferPointer) {
        if bytes.count > capacity {
            guard let grown = realloc(base, max(bytes.count, 128)) else { fatalError("out of memory storing a tick") }
            base = grown
            capacity = max(bytes.count, 128)
        }
        if let source = bytes.baseAddress, bytes.count > 0 {
            base.unsafelyUnwrapped.copyMemory(from: source, byteCount: bytes.count)
        }
        count = bytes.count
    }

    func withBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try body(UnsafeRawBufferPointer(start: base, count: count))
    }
}
