public import NIOCore
import CTickgateProto

/// Encodes and decodes the `tickgate.v1` messages with protobuf-c.
/// Every protobuf-c call of the project lives in this module.
public enum WireCodec {}

extension WireCodec {
    /// Appends `tick` as a `tickgate.v1.Tick` (the Kafka payload format).
    public static func encode(_ tick: Tick, into buffer: inout ByteBuffer) {
        tick.withCMessage { c in
            let size = tickgate__v1__tick__get_packed_size(c)
            buffer.writeProtobuf(size: size) { tickgate__v1__tick__pack(c, $0) }
        }
    }

    public static func encode(_ tick: Tick) -> [UInt8] {
        tick.withCMessage { c in
            let size = tickgate__v1__tick__get_packed_size(c)
            return [UInt8](unsafeUninitializedCapacity: size) { out, count in
                count = size == 0 ? 0 : tickgate__v1__tick__pack(c, out.baseAddress!)
            }
        }
    }

    public static func decodeTick(_ bytes: UnsafeRawBufferPointer) throws(WireError) -> Tick {
        let decoded = withProtobufInput(bytes) { tickgate__v1__tick__unpack(nil, $0, $1) }
        guard let decoded else { throw WireError(messageType: "Tick", byteCount: bytes.count) }
        defer { tickgate__v1__tick__free_unpacked(decoded, nil) }
        return Tick(decoded)
    }

    public static func decodeTick(_ bytes: [UInt8]) throws(WireError) -> Tick {
        let result: Result<Tick, WireError> = bytes.withUnsafeBytes { raw in
            Result { () throws(WireError) -> Tick in try decodeTick(raw) }
        }
        return try result.get()
    }
}

extension ByteBuffer {
    /// Runs a protobuf-c `pack` into `size` new bytes at the writer index.
    @inline(__always)
    mutating func writeProtobuf(size: Int, _ pack: (UnsafeMutablePointer<UInt8>) -> Int) {
        guard size > 0 else { return }
        writeWithUnsafeMutableBytes(minimumWritableBytes: size) { raw in
            let written = pack(raw.baseAddress!.assumingMemoryBound(to: UInt8.self))
            precondition(written == size, "protobuf-c packed \(written) bytes, expected \(size)")
            return written
        }
    }
}
