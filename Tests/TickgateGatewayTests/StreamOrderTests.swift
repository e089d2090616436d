import NIOCore
import NIOPosix
import Synchronization
import Testing
import TickgateGateway
import TickgateTestSupport

/// RFC 9113 §5.1.1: a stream id lower than one the client already opened is
/// a connection error of type PROTOCOL_ERROR: GOAWAY, then the close.
@Suite(.serialized, .timeLimit(.minutes(1)))
struct StreamOrderTests {
    final class Collector: ChannelInboundHandler, Sendable {
        typealias InboundIn = ByteBuffer
        let bytes = Mutex<[UInt8]>([])
        let closed = Atomic<Bool>(false)
        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let buffer = unwrapInboundIn(data)
            bytes.withLock { $0 += buffer.readableBytesView }
        }
        func channelInactive(context: ChannelHandlerContext) { closed.store(true, ordering: .relaxed) }
    }

    static func headers(stream: UInt32) -> [UInt8] {
        let path = Array("/tickgate.v1.PriceStream/Stream".utf8)
        let type = Array("application/grpc".utf8)
        let block: [UInt8] = [0x83, 0x86, 0x04, UInt8(path.count)] + path + [0x01, 0x01, UInt8(ascii: "x"), 0x0F, 0x10, UInt8(type.count)] + type
        return HeaderLimitTests.frame(type: 0x1, flags: 0x4, stream: stream, block[...])
    }

    /// GOAWAY frames in `bytes` (after the server's SETTINGS), as error codes.
    static func goAwayCodes(_ bytes: [UInt8]) -> [UInt32] {
        var codes: [UInt32] = []
        var index = 0
        while index + 9 <= bytes.count {
            let length = Int(bytes[index]) << 16 | Int(bytes[index + 1]) << 8 | Int(bytes[index + 2])
            let type = bytes[index + 3]
            guard index + 9 + length <= bytes.count else { break }
            if type == 0x7, length >= 8 {
                let p = index + 9 + 4
                codes.append(UInt32(bytes[p]) << 24 | UInt32(bytes[p + 1]) << 16 | UInt32(bytes[p + 2]) << 8 | UInt32(bytes[p + 3]))
            }
            index += 9 + length
        }
        return codes
    }

    @Test func aLowerStreamIDThanOneAlreadyOpenedIsAProtocolError() async throws {
        let harness = try await GatewayHarness.start(partitions: 1)
        let collector = Collector()
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelInitializer { channel in channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(collector) } }
            .connect(host: "127.0.0.1", port: harness.port).get()
        var request = Array("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".utf8) + HeaderLimitTests.frame(type: 0x4, flags: 0, stream: 0, [])
        request += Self.headers(stream: 5) + Self.headers(stream: 3)
        try await channel.writeAndFlush(ByteBuffer(bytes: request))
        let closed = await eventually { collector.closed.load(ordering: .relaxed) }
        #expect(closed, "the connection must be closed")
        #expect(Self.goAwayCodes(collector.bytes.withLock { $0 }).contains(1), "GOAWAY PROTOCOL_ERROR first")
        try? await channel.close()
        await harness.stop()
    }
}
