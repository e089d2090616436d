import NIOCore
import NIOPosix
import Testing
import TickgateClient
import TickgateGateway
import TickgateTestSupport
#if canImport(Glibc)
import Glibc
#endif

/// An HPACK bomb: one 4 KB header stored in the dynamic table, then
/// referenced 60,000 times with one byte each, so a 75 KB header block
/// decodes to 242 MB. The gateway advertises and enforces a header list
/// limit while decoding: the stream is reset and nothing is kept.
@Suite(.serialized, .timeLimit(.minutes(1)))
struct HeaderLimitTests {
    static func frame(type: UInt8, flags: UInt8, stream: UInt32, _ payload: ArraySlice<UInt8>) -> [UInt8] {
        let n = payload.count
        return [UInt8(n >> 16 & 0xFF), UInt8(n >> 8 & 0xFF), UInt8(n & 0xFF), type, flags,
                UInt8(stream >> 24 & 0x7F), UInt8(stream >> 16 & 0xFF), UInt8(stream >> 8 & 0xFF), UInt8(stream & 0xFF)] + payload
    }

    static func bomb(references: Int) -> [UInt8] {
        var block: [UInt8] = [0x83, 0x86]  // :method POST, :scheme http
        let path = Array("/tickgate.v1.PriceStream/Stream".utf8)
        block += [0x44, UInt8(path.count)] + path
        block += [0x41, 0x01, UInt8(ascii: "x")]
        let type = Array("application/grpc".utf8)
        block += [0x5F, UInt8(type.count)] + type
        // x-bomb: 4,000 bytes, added to the dynamic table (index 62).
        let name = Array("x-bomb".utf8)
        block += [0x40, UInt8(name.count)] + name + [0x7F, 0xA1, 0x1E] + [UInt8](repeating: UInt8(ascii: "a"), count: 4000)
        block += [UInt8](repeating: 0xBE, count: references)
        var bytes = Array("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".utf8) + frame(type: 0x4, flags: 0, stream: 0, [])
        var offset = 0
        var first = true
        while offset < block.count {
            let end = min(offset + 16_384, block.count)
            let last = end == block.count
            bytes += frame(type: first ? 0x1 : 0x9, flags: last ? 0x4 : 0, stream: 1, block[offset..<end])
            first = false
            offset = end
        }
        return bytes
    }

    static func residentKiB() -> Int {
        var text = [CChar](repeating: 0, count: 128)
        guard let file = fopen("/proc/self/statm", "r") else { return 0 }
        defer { fclose(file) }
        _ = fgets(&text, 128, file)
        let fields = String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self).split(separator: " ")
        return (Int(fields[1]) ?? 0) * Int(sysconf(Int32(_SC_PAGESIZE))) / 1024
    }

    @Test func anHPACKBombIsRefusedWhileDecodingAndCostsNoMemory() async throws {
        let harness = try await GatewayHarness.start(partitions: 1)
        let before = Self.residentKiB()
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connect(host: "127.0.0.1", port: harness.port).get()
        try await channel.writeAndFlush(ByteBuffer(bytes: Self.bomb(references: 60_000)))
        let refused = await eventually { harness.gateway.stats.snapshot.headerListsRefused == 1 }
        #expect(refused)
        let after = Self.residentKiB()
        // (A sanitizer's quarantine keeps freed memory resident: no bound then.)
        if !runningUnderSanitizer {
            #expect(after - before < 50 * 1024, "RSS grew by \(after - before) KiB for a 242 MB header list")
        }
        try? await channel.close()
        // The gateway goes on serving.
        let connection = try await TickgateConnection.connect(host: "127.0.0.1", port: harness.port)
        let stream = try await connection.openStream()
        let result = try await stream.subscribe(["BTC-USD"])
        #expect(result.accepted == ["BTC-USD"])
        stream.cancel()
        await connection.close()
        await harness.stop()
    }

    @Test func aHeaderPastTheLimitResetsTheStream() async throws {
        let harness = try await GatewayHarness.start(partitions: 1)
        let response = try await RawGRPCClient.call(
            port: harness.port, extraHeaders: [("x-big", String(repeating: "b", count: 20_000))], body: [])
        #expect(response.resetCode != nil, "\(response.headers)")
        #expect(harness.gateway.stats.snapshot.headerListsRefused == 1)
        await harness.stop()
    }
}
