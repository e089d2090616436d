import Testing
import TickgateHTTP2

@Suite struct GRPCWebTests {
    @Test(arguments: [
        ("application/grpc-web", GRPCWeb.Encoding.binary), ("application/grpc-web+proto", .binary),
        ("Application/GRPC-Web+Proto; charset=utf-8", .binary), ("application/grpc-web-text", .text),
        ("application/grpc-web-text+proto", .text),
    ])
    func contentTypesNameTheirEncoding(contentType: String, encoding: GRPCWeb.Encoding) {
        #expect(GRPCWeb.encoding(contentType: contentType) == encoding)
    }

    @Test(arguments: ["application/grpc", "application/grpc+proto", "application/grpc-web+json", "text/plain", "application/grpc-webx"])
    func otherContentTypesAreNotGRPCWeb(contentType: String) {
        #expect(GRPCWeb.encoding(contentType: contentType) == nil)
    }

    @Test func theTrailerFrameIsFlag0x80ThenLengthThenHeaderLines() {
        let frame = GRPCWeb.trailerFrame([HTTP2Header("grpc-status", "3"), HTTP2Header("Grpc-Message", "bad%20symbol")])
        let block = Array("grpc-status:3\r\ngrpc-message:bad%20symbol\r\n".utf8)
        #expect(frame == [0x80, 0, 0, 0, UInt8(block.count)] + block)
    }

    @Test func finishingAWebStreamPutsTheTrailersInTheBody() {
        let stream = HTTP2OutboundStream()
        stream.trailersInBody = true
        stream.pending.writeBytes([0, 0, 0, 0, 1, 42])
        stream.finish(trailers: [HTTP2Header("grpc-status", "0")])
        #expect(stream.finished && stream.trailers == nil)
        #expect(stream.pending.readableBytesArray == [0, 0, 0, 0, 1, 42] + GRPCWeb.trailerFrame([HTTP2Header("grpc-status", "0")]))
    }
}

@Suite struct Base64Tests {
    static func decode(_ pieces: [String]) throws -> [UInt8] {
        var decoder = Base64.StreamDecoder()
        var out: [UInt8] = []
        for piece in pieces {
            try Array(piece.utf8).withUnsafeBytes { try decoder.decode($0, into: &out) }
        }
        #expect(decoder.isAtGroupBoundary)
        return out
    }

    @Test func encodesLikeRFC4648() throws {
        let vectors = ["": "", "f": "Zg==", "fo": "Zm8=", "foo": "Zm9v", "foob": "Zm9vYg==", "fooba": "Zm9vYmE=", "foobar": "Zm9vYmFy"]
        for (plain, encoded) in vectors {
            #expect(String(decoding: Base64.encode(Array(plain.utf8)), as: UTF8.self) == encoded)
            #expect(try Self.decode([encoded]) == Array(plain.utf8))
        }
    }

    @Test func decodesInAnySplitAndAcrossPaddedPieces() throws {
        let bytes = (0..<200).map { UInt8(truncatingIfNeeded: $0 &* 37) }
        let encoded = String(decoding: Base64.encode(bytes), as: UTF8.self)
        for cut in [1, 2, 3, 5, 7, 64] {
            var pieces: [String] = []
            var rest = Substring(encoded)
            while !rest.isEmpty {
                pieces.append(String(rest.prefix(cut)))
                rest = rest.dropFirst(cut)
            }
            #expect(try Self.decode(pieces) == bytes)
        }
        // Pieces encoded on their own, each padded (what a server in text
        // mode sends, one piece per write).
        let a = String(decoding: Base64.encode([1, 2, 3, 4]), as: UTF8.self)
        let b = String(decoding: Base64.encode([5]), as: UTF8.self)
        #expect(try Self.decode([a + b, "\r\n"]) == [1, 2, 3, 4, 5])
    }

    @Test func refusesWhatIsNotBase64() {
        #expect(throws: Base64.InvalidCharacter.self) { try Self.decode(["Zm9v!"]) }
        #expect(throws: Base64.InvalidCharacter.self) { try Self.decode(["Z=9v"]) }
    }
}
