import NIOCore
import Testing
@testable import TickgateGateway
import TickgateModel
import TickgateTestSupport

/// Server reflection (v1 and v1alpha): what stock tools ask a server.
@Suite(.serialized, .timeLimit(.minutes(1)))
struct ReflectionTests {
    @Test func theIndexKnowsEveryServedFileAndSymbol() throws {
        let index = ReflectionIndex.served
        #expect(index.services == [
            "grpc.health.v1.Health", "grpc.reflection.v1.ServerReflection", "grpc.reflection.v1alpha.ServerReflection",
            "tickgate.v1.PriceStream",
        ])
        for symbol in ["tickgate.v1.PriceStream", "tickgate.v1.PriceStream.Stream", "tickgate.v1.Tick", ".tickgate.v1.Decimal",
                       "tickgate.v1.Side", "tickgate.v1", "grpc.health.v1.HealthCheckResponse.ServingStatus"] {
            guard case .files(let files) = index.answer(ReflectionRequest(kind: .fileContainingSymbol(symbol))) else {
                Issue.record("\(symbol) not found")
                continue
            }
            #expect(files.count == 1)
        }
        #expect(index.answer(ReflectionRequest(kind: .fileContainingSymbol("tickgate.v1.Nope"))) == .error(
            code: 5, message: "symbol \"tickgate.v1.Nope\" is not in the served schema"))
        #expect(index.answer(ReflectionRequest(kind: .allExtensionNumbersOfType("tickgate.v1.Tick"))) == .extensionNumbers(
            baseType: "tickgate.v1.Tick", numbers: []))
        guard case .files(let files) = index.answer(ReflectionRequest(kind: .fileByFilename("tickgate/v1/tickgate.proto"))) else {
            Issue.record("tickgate/v1/tickgate.proto not found")
            return
        }
        // The bytes are a FileDescriptorProto: field 1 (name) comes first.
        #expect(files[0].starts(with: [0x0A, UInt8("tickgate/v1/tickgate.proto".utf8.count)]))
    }

    static func body(_ requests: [ReflectionRequest]) -> [UInt8] {
        requests.flatMap { request in
            var buffer = ByteBuffer()
            WireCodec.encode(request, into: &buffer)
            return RawGRPCClient.frame(Array(buffer.readableBytesView))
        }
    }

    static func answers(_ response: RawGRPCClient.Response) throws -> [(ReflectionRequest?, ReflectionAnswer?)] {
        var data = ByteBuffer(bytes: response.data)
        var answers: [(ReflectionRequest?, ReflectionAnswer?)] = []
        while data.readableBytes >= 5, data.readInteger(as: UInt8.self) == 0, let length = data.readInteger(as: UInt32.self),
            let message = data.readSlice(length: Int(length))
        {
            answers.append(try WireCodec.decodeReflectionResponse(message))
        }
        return answers
    }

    @Test(arguments: ["/grpc.reflection.v1.ServerReflection/ServerReflectionInfo", "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo"])
    func oneAnswerPerRequestInOrderThenOK(_ path: String) async throws {
        let harness = try await GatewayHarness.start(partitions: 1)
        let requests = [
            ReflectionRequest(host: "gw", kind: .listServices("*")),
            ReflectionRequest(kind: .fileContainingSymbol("tickgate.v1.PriceStream")),
            ReflectionRequest(kind: .fileByFilename("no/such.proto")),
        ]
        let response = try await RawGRPCClient.call(port: harness.port, path: path, body: Self.body(requests))
        #expect(response.grpcStatus == 0)
        let answers = try Self.answers(response)
        #expect(answers.map(\.0) == requests, "each answer echoes its request")
        #expect(answers.first?.1 == .services(ReflectionIndex.served.services))
        if case .files(let files)? = answers.dropFirst().first?.1 { #expect(files.count == 1) } else { Issue.record("no files") }
        if case .error(let code, _)? = answers.last?.1 { #expect(code == 5) } else { Issue.record("no error") }

        let garbage = try await RawGRPCClient.call(port: harness.port, path: path, body: RawGRPCClient.frame([0xFF, 0xFF]))
        #expect(garbage.grpcStatus == 13)
        await harness.stop()
    }
}
