import NIOCore
import NIOEmbedded
import Testing
@testable import TickgateHTTP2

/// The driver shared by the gateway's connections and the client's.
@Suite struct HTTP2ChannelDriverTests {
    /// A server connection: flushes when the read completes and when the
    /// channel turns writable, as the gateway's handler does.
    final class ServerHandler: ChannelInboundHandler {
        typealias InboundIn = ByteBuffer
        let driver = HTTP2ChannelDriver(session: NGHTTP2Session(role: .server))
        let events = Recorder()
        var context: ChannelHandlerContext?

        init() { driver.session.delegate = events }

        func handlerAdded(context: ChannelHandlerContext) { self.context = context }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            try! driver.read(unwrapInboundIn(data))
        }

        func channelReadComplete(context: ChannelHandlerContext) { driver.flush(context: context) }

        func channelWritabilityChanged(context: ChannelHandlerContext) {
            if context.channel.isWritable { driver.flush(context: context) }
        }
    }

    /// Tells the handlers behind it that the channel turned writable from
    /// inside every flush, as NIO does when a write drains the socket
    /// below its low watermark.
    final class WritableInsideFlush: ChannelOutboundHandler {
        typealias OutboundIn = ByteBuffer
        var fired = 0

        func flush(context: ChannelHandlerContext) {
            context.flush()
            guard fired < 2 else { return }
            fired += 1
            context.fireChannelWritabilityChanged()
        }
    }

    /// Defect: a flush re-entered from `channelWritabilityChanged` inside
    /// `writeAndFlush` found the bytes it had just handed to the channel
    /// still in its buffer and wrote them twice, corrupting the connection.
    @Test func flushReenteredFromInsideTheWriteSendsEveryByteOnce() throws {
        let server = ServerHandler()
        let reentrant = WritableInsideFlush()
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandler(reentrant)
        try channel.pipeline.syncOperations.addHandler(server)
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()

        let client = NGHTTP2Session(role: .client)
        defer { client.close() }
        let clientEvents = Recorder()
        client.delegate = clientEvents
        let request = HTTP2OutboundStream()
        request.finish(trailers: nil)
        let id = try #require(client.submitRequest(headers: [
            HTTP2Header(":method", "POST"), HTTP2Header(":scheme", "http"), HTTP2Header(":path", "/a/b"),
            HTTP2Header(":authority", "test"),
        ], body: request))

        // Both ways until quiet; the server answers with a body of several
        // frames and trailers on the first request it sees.
        var answered = false
        var received: [UInt8] = []
        for _ in 0..<20 {
            var toServer = ByteBuffer()
            try client.send(into: &toServer)
            if toServer.readableBytes > 0 { try channel.writeInbound(toServer) }
            if !answered, server.events.headers.contains(where: { $0.0 == id }) {
                answered = true
                let body = HTTP2OutboundStream()
                server.driver.session.submitResponse(streamID: id, headers: [HTTP2Header(":status", "200")], body: body)
                body.pending.writeBytes(Array(repeating: 5, count: 50_000))
                body.finish(trailers: [HTTP2Header("grpc-status", "0")])
                server.driver.flush(context: server.context!)
            }
            var moved = toServer.readableBytes
            while let out = try channel.readOutbound(as: ByteBuffer.self) {
                received += out.readableBytesView
                try client.receive(out)
                moved += out.readableBytes
            }
            if moved == 0 { break }
        }
        #expect(reentrant.fired > 0, "the flush was re-entered")
        #expect(answered)
        #expect(clientEvents.data[id]?.count == 50_000)
        #expect(clientEvents.headers.filter { $0.0 == id }.count == 2, "headers and trailers, once each")
        #expect(clientEvents.closed.first?.0 == id && clientEvents.closed.first?.1 == 0)
        _ = try channel.finish()
        server.driver.close()
    }

    @Test func notWritableTakesNothingFromTheSession() throws {
        let server = ServerHandler()
        let channel = EmbeddedChannel(handler: server)
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        channel.isWritable = false
        #expect(server.driver.flush(context: server.context!) == .notWritable)
        #expect(try channel.readOutbound(as: ByteBuffer.self) == nil)
        #expect(server.driver.session.wantsWrite, "the SETTINGS frame still waits")
        channel.isWritable = true
        guard case .wrote(let bytes) = server.driver.flush(context: server.context!) else {
            Issue.record("expected a write")
            return
        }
        #expect(bytes > 0)
        _ = try channel.finish()
        server.driver.close()
    }
}

@Suite struct HTTP2OutboundStreamTests {
    /// Defect: the pending buffer was compacted only when it drained to
    /// zero, so a reader that always left a little behind made its
    /// capacity grow with every byte delivered.
    @Test func capacityStaysBoundedWhenALittleIsAlwaysLeftPending() {
        let stream = HTTP2OutboundStream()
        let chunk = [UInt8](repeating: 1, count: 1_000)
        for _ in 0..<20_000 {  // 20 MB through the buffer
            stream.pending.writeBytes(chunk)
            stream.pending.moveReaderIndex(forwardBy: stream.pending.readableBytes - 10)
            stream.compactPending()
        }
        #expect(stream.pending.readableBytes == 10)
        #expect(stream.pending.capacity <= 64 * 1024, "capacity \(stream.pending.capacity)")
    }

    @Test func compactionKeepsTheUnreadBytesInOrder() {
        let stream = HTTP2OutboundStream()
        var expected: [UInt8] = []
        var next: UInt8 = 0
        for round in 0..<200 {
            let bytes = (0..<(300 + round)).map { _ -> UInt8 in
                next &+= 1
                return next
            }
            stream.pending.writeBytes(bytes)
            expected += bytes
            let take = stream.pending.readableBytes / 2
            stream.pending.moveReaderIndex(forwardBy: take)
            expected.removeFirst(take)
            stream.compactPending()
            #expect(stream.pending.readableBytesArray == expected)
        }
    }

    @Test func storageFromABurstIsGivenBackWhenItDrains() {
        let stream = HTTP2OutboundStream()
        stream.pending.writeBytes([UInt8](repeating: 3, count: 1 << 20))
        #expect(stream.pending.capacity >= 1 << 20)
        stream.pending.moveReaderIndex(forwardBy: 1 << 20)
        stream.compactPending()
        #expect(stream.pending.capacity == 0, "an idle stream holds nothing")
        stream.pending.writeBytes([1, 2, 3])
        #expect(stream.pending.readableBytesArray == [1, 2, 3])
    }
}
