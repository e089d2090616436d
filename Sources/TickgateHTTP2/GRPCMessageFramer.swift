package import NIOCore

/// Writes gRPC's 5-byte prefix (compressed flag, big-endian length) around a
/// message body written in place, with no intermediate copy.
package enum GRPCMessageFramer {
    package static func writeMessage(into buffer: inout ByteBuffer, _ writeBody: (inout ByteBuffer) -> Void) {
        let start = buffer.writerIndex
        buffer.writeInteger(UInt8(0))
        buffer.writeInteger(UInt32(0))
        writeBody(&buffer)
        let length = buffer.writerIndex - start - 5
        buffer.setInteger(UInt32(length), at: start + 1)
    }
}
