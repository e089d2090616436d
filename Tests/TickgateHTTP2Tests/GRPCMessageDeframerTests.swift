import NIOCore
import Testing
@testable import TickgateHTTP2

@Suite struct GRPCMessageDeframerTests {
    func framed(_ payloads: [[UInt8]]) -> [UInt8] {
        var buffer = ByteBuffer()
        for payload in payloads {
            GRPCMessageFramer.writeMessage(into: &buffer) { $0.writeBytes(payload) }
        }
        return Array(buffer.readableBytesView)
    }

    @Test func framerWritesPrefix() {
        #expect(framed([[1, 2, 3]]) == [0, 0, 0, 0, 3, 1, 2, 3])
        #expect(framed([[]]) == [0, 0, 0, 0, 0])
    }

    @Test func messageSplitAcrossFramesByteByByte() throws {
        let payload = (0..<300).map { UInt8($0 & 0xFF) }
        var deframer = GRPCMessageDeframer(maxMessageSize: 1024)
        var got: [[UInt8]] = []
        for byte in framed([payload]) {
            [byte].withUnsafeBytes { deframer.append($0) }
            while let message = try deframer.next() { got.append(Array(message.readableBytesView)) }
        }
        #expect(got == [payload])
        try deframer.checkComplete()
    }

    @Test func severalMessagesInOneFrame() throws {
        let payloads: [[UInt8]] = [[1], [], [2, 3], Array(repeating: 9, count: 70_000)]
        var deframer = GRPCMessageDeframer(maxMessageSize: 1 << 20)
        framed(payloads).withUnsafeBytes { deframer.append($0) }
        var got: [[UInt8]] = []
        while let message = try deframer.next() { got.append(Array(message.readableBytesView)) }
        #expect(got == payloads)
    }

    @Test func oversizedMessageIsRefusedFromItsPrefix() {
        var deframer = GRPCMessageDeframer(maxMessageSize: 100)
        // Only the prefix has arrived: the limit is enforced before buffering the body.
        ([0, 0, 0, 0, 101] as [UInt8]).withUnsafeBytes { deframer.append($0) }
        #expect(throws: GRPCMessageDeframer.Failure.tooLarge(length: 101, limit: 100)) { try deframer.next() }
    }

    @Test func exactlyTheLimitIsAccepted() throws {
        var deframer = GRPCMessageDeframer(maxMessageSize: 100)
        framed([Array(repeating: 1, count: 100)]).withUnsafeBytes { deframer.append($0) }
        #expect(try deframer.next()?.readableBytes == 100)
    }

    @Test func compressedFlagWithoutEncodingFails() {
        var deframer = GRPCMessageDeframer(maxMessageSize: 100)
        ([1, 0, 0, 0, 1, 7] as [UInt8]).withUnsafeBytes { deframer.append($0) }
        #expect(throws: GRPCMessageDeframer.Failure.compressedWithoutEncoding) { try deframer.next() }
    }

    @Test func invalidFlagFails() {
        var deframer = GRPCMessageDeframer(maxMessageSize: 100)
        ([2, 0, 0, 0, 0] as [UInt8]).withUnsafeBytes { deframer.append($0) }
        #expect(throws: GRPCMessageDeframer.Failure.invalidFlag(2)) { try deframer.next() }
    }

    @Test func truncatedStreamIsReported() throws {
        var deframer = GRPCMessageDeframer(maxMessageSize: 100)
        ([0, 0, 0, 0, 10, 1, 2] as [UInt8]).withUnsafeBytes { deframer.append($0) }
        #expect(try deframer.next() == nil)
        #expect(throws: GRPCMessageDeframer.Failure.truncated(missing: 8)) { try deframer.checkComplete() }
    }
}

@Suite struct GRPCProtocolTests {
    @Test(arguments: [
        ("plain", "plain"), ("100%", "100%25"), ("line\nbreak", "line%0Abreak"), ("café", "caf%C3%A9"), ("", ""),
    ])
    func percentEncoding(plain: String, encoded: String) {
        #expect(GRPCPercentEncoding.encode(plain) == encoded)
        #expect(GRPCPercentEncoding.decode(encoded) == plain)
    }

    @Test func malformedEscapesAreKept() {
        #expect(GRPCPercentEncoding.decode("50%") == "50%")
        #expect(GRPCPercentEncoding.decode("%zz") == "%zz")
    }

    @Test(arguments: [
        ("application/grpc", true), ("application/grpc+proto", true), ("application/grpc;charset=utf-8", true),
        ("APPLICATION/GRPC", true), ("application/grpc+json", false), ("application/json", false), ("text/plain", false),
    ])
    func contentTypes(value: String, accepted: Bool) {
        #expect(GRPCProtocol.isGRPCContentType(value) == accepted)
    }

    @Test func statusTrailers() {
        let fields = GRPCStatus(.resourceExhausted, "too big: 5%").trailerFields
        #expect(fields == [HTTP2Header("grpc-status", "8"), HTTP2Header("grpc-message", "too big: 5%25")])
        #expect(GRPCStatus.ok.trailerFields == [HTTP2Header("grpc-status", "0")])
    }
}
