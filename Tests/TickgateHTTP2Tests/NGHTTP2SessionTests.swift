import NIOCore
import Testing
@testable import TickgateHTTP2

/// Records what a session reports.
final class Recorder: NGHTTP2SessionDelegate {
    var headers: [(Int32, [HTTP2Header], Bool)] = []
    var data: [Int32: [UInt8]] = [:]
    var ended: [Int32] = []
    var closed: [(Int32, UInt32)] = []

    func sessionDidReceiveHeaders(_ headers: [HTTP2Header], streamID: Int32, endStream: Bool) {
        self.headers.append((streamID, headers, endStream))
    }
    func sessionDidReceiveData(_ bytes: UnsafeRawBufferPointer, streamID: Int32) {
        data[streamID, default: []].append(contentsOf: bytes)
    }
    func sessionDidReceiveEndStream(streamID: Int32) { ended.append(streamID) }
    func sessionDidCloseStream(streamID: Int32, errorCode: UInt32) { closed.append((streamID, errorCode)) }
}

/// A client and a server session wired back to back in memory.
@Suite struct NGHTTP2SessionTests {
    final class Pair {
        let client = NGHTTP2Session(role: .client)
        let server = NGHTTP2Session(role: .server)
        let clientEvents = Recorder()
        let serverEvents = Recorder()

        init() {
            client.delegate = clientEvents
            server.delegate = serverEvents
        }

        /// Moves bytes both ways until neither side has anything to send.
        func pump() throws {
            for _ in 0..<100 {
                var toServer = ByteBuffer()
                try client.send(into: &toServer)
                if toServer.readableBytes > 0 { try server.receive(toServer) }
                var toClient = ByteBuffer()
                try server.send(into: &toClient)
                if toClient.readableBytes > 0 { try client.receive(toClient) }
                if toServer.readableBytes == 0 && toClient.readableBytes == 0 { return }
            }
        }

        deinit {
            client.close()
            server.close()
        }
    }

    let requestHeaders = [
        HTTP2Header(":method", "POST"), HTTP2Header(":scheme", "http"), HTTP2Header(":path", "/x/y"),
        HTTP2Header(":authority", "test"), HTTP2Header("content-type", "application/grpc"),
    ]

    @Test func requestBodyResponseAndTrailers() throws {
        let pair = Pair()
        let requestBody = HTTP2OutboundStream()
        let id = try #require(pair.client.submitRequest(headers: requestHeaders, body: requestBody))
        requestBody.pending.writeBytes([1, 2, 3])
        pair.client.resume(requestBody)
        try pair.pump()
        #expect(pair.serverEvents.headers.first?.1[first: ":path"] == "/x/y")
        #expect(pair.serverEvents.data[id] == [1, 2, 3])

        // Deferred until more arrives, then resumed.
        requestBody.pending.writeBytes([4])
        requestBody.finish(trailers: nil)
        pair.client.resume(requestBody)
        try pair.pump()
        #expect(pair.serverEvents.data[id] == [1, 2, 3, 4])
        #expect(pair.serverEvents.ended == [id])

        let responseBody = HTTP2OutboundStream()
        pair.server.submitResponse(streamID: id, headers: [HTTP2Header(":status", "200")], body: responseBody)
        responseBody.pending.writeBytes(Array(repeating: 7, count: 40_000))  // several DATA frames
        responseBody.finish(trailers: [HTTP2Header("grpc-status", "0")])
        pair.server.resume(responseBody)
        try pair.pump()
        #expect(pair.clientEvents.data[id]?.count == 40_000)
        #expect(pair.clientEvents.headers.count == 2)
        #expect(pair.clientEvents.headers.last?.1 == [HTTP2Header("grpc-status", "0")])
        #expect(pair.clientEvents.headers.last?.2 == true)
        #expect(pair.clientEvents.closed.first?.0 == id)
        #expect(responseBody.closed)
    }

    @Test func trailersOnlyResponse() throws {
        let pair = Pair()
        let body = HTTP2OutboundStream()
        let id = try #require(pair.client.submitRequest(headers: requestHeaders, body: body))
        try pair.pump()
        pair.server.submitResponse(
            streamID: id, headers: [HTTP2Header(":status", "200"), HTTP2Header("grpc-status", "12")], body: nil)
        try pair.pump()
        #expect(pair.clientEvents.headers.first?.2 == true, "HEADERS carries END_STREAM")
        #expect(pair.clientEvents.headers.first?.1[first: "grpc-status"] == "12")
    }

    @Test func resetIsReportedWithItsCode() throws {
        let pair = Pair()
        let body = HTTP2OutboundStream()
        let id = try #require(pair.client.submitRequest(headers: requestHeaders, body: body))
        try pair.pump()
        pair.client.submitReset(streamID: id, errorCode: .cancel)
        try pair.pump()
        #expect(pair.serverEvents.closed.first?.0 == id)
        #expect(pair.serverEvents.closed.first?.1 == 8)
    }

    @Test func garbageInputIsAConnectionError() {
        let server = NGHTTP2Session(role: .server)
        defer { server.close() }
        var garbage = ByteBuffer()
        garbage.writeString("GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(throws: HTTP2SessionError.self) { try server.receive(garbage) }
    }

    @Test func closeIsIdempotent() {
        let session = NGHTTP2Session(role: .server)
        session.close()
        session.close()
        var out = ByteBuffer()
        #expect(throws: Never.self) { try session.send(into: &out) }
        #expect(out.readableBytes == 0)
    }
}

@Suite struct ClientStreamIDsTests {
    @Test func anIdleStreamBelowOneOpenedIsRefusedAndTrailersOnAnOpenedOneAreNot() {
        var ids = ClientStreamIDs()
        var answers: [Bool] = []
        for id: Int32 in [5, 3, 7, 11, 5, 9, 11, 13] { answers.append(ids.headers(on: id)) }
        // 3 below the first opened (5): never opened; 5 again: trailers (or
        // a late HEADERS) on a stream once opened; 9 was skipped.
        #expect(answers == [true, false, true, true, true, false, true, true])
        #expect(ids.highest == 13)
    }

    @Test func aStreamTheClientEndedStaysEndedAndTheMemoryIsBounded() {
        var ids = ClientStreamIDs()
        ids.endStream(on: 1)
        #expect(ids.isEnded(1))
        #expect(!ids.isEnded(3))
        for id in stride(from: Int32(3), through: Int32(3 + 2 * ClientStreamIDs.maxEnded), by: 2) { ids.endStream(on: id) }
        #expect(!ids.isEnded(1), "the oldest are forgotten past maxEnded")
        #expect(ids.isEnded(Int32(3 + 2 * ClientStreamIDs.maxEnded)))
    }
}
