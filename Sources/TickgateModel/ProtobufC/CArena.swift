#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Owns the C memory behind a protobuf-c message built from Swift values, for
/// the messages that are not on the hot path (acks, errors, batches, client
/// requests). Everything it handed out is freed when `withCArena` returns.
final class CArena {
    private var strings: [UnsafeMutablePointer<CChar>] = []
    private var blocks: [UnsafeMutableRawPointer] = []

    func string(_ value: String) -> UnsafeMutablePointer<CChar> {
        let pointer = strdup(value)!
        strings.append(pointer)
        return pointer
    }

    func strings(_ values: [String]) -> UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? {
        guard !values.isEmpty else { return nil }
        let array = UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>.allocate(capacity: values.count)
        for (index, value) in values.enumerated() {
            (array + index).initialize(to: string(value))
        }
        blocks.append(UnsafeMutableRawPointer(array))
        return array
    }

    func make<T>(_ value: T) -> UnsafeMutablePointer<T> {
        let pointer = UnsafeMutablePointer<T>.allocate(capacity: 1)
        pointer.initialize(to: value)
        blocks.append(UnsafeMutableRawPointer(pointer))
        return pointer
    }

    func array<T>(_ values: [T]) -> UnsafeMutablePointer<T>? {
        guard !values.isEmpty else { return nil }
        let pointer = UnsafeMutablePointer<T>.allocate(capacity: values.count)
        pointer.initialize(from: values, count: values.count)
        blocks.append(UnsafeMutableRawPointer(pointer))
        return pointer
    }

    fileprivate func release() {
        for pointer in strings { free(pointer) }
        // Only trivial C structs and pointers are stored: no deinitialisation needed.
        for block in blocks { block.deallocate() }
        strings.removeAll()
        blocks.removeAll()
    }
}

func withCArena<R>(_ body: (CArena) throws -> R) rethrows -> R {
    let arena = CArena()
    defer { arena.release() }
    return try body(arena)
}

/// A stand-in address for empty input: protobuf-c wants a non-NULL pointer.
nonisolated(unsafe) private var emptyInput: UInt8 = 0

func withProtobufInput<R>(_ bytes: UnsafeRawBufferPointer, _ body: (Int, UnsafePointer<UInt8>) -> R) -> R {
    if let base = bytes.baseAddress, bytes.count > 0 {
        return body(bytes.count, base.assumingMemoryBound(to: UInt8.self))
    }
    return withUnsafePointer(to: &emptyInput) { body(0, $0) }
}

func stringFromC(_ pointer: UnsafePointer<CChar>?) -> String {
    guard let pointer else { return "" }
    return String(cString: pointer)
}

func stringsFromC(_ pointer: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?, count: Int) -> [String] {
    guard let pointer, count > 0 else { return [] }
    return (0..<count).map { stringFromC(pointer[$0]) }
}
