import Synchronization
import NIOCore
import Testing
import TickgateGateway
import TickgateKafka
import TickgateModel
import TickgateTestSupport

/// `grpc.health.v1.Health`: SERVING, NOT_SERVING through a broker outage,
/// NOT_FOUND for a service the gateway does not serve.
@Suite(.serialized, .timeLimit(.minutes(2)))
struct HealthTests {
    static func request(_ service: String) -> [UInt8] {
        var body = ByteBuffer()
        WireCodec.encodeHealthCheckRequest(service: service, into: &body)
        return RawGRPCClient.frame(Array(body.readableBytesView))
    }

    static func check(_ port: Int, _ service: String) async throws -> (Int?, HealthStatus?) {
        let response = try await RawGRPCClient.call(port: port, path: "/grpc.health.v1.Health/Check", body: request(service))
        let status = response.data.count > 5 ? try WireCodec.decodeHealthCheckResponse(ByteBuffer(bytes: response.data.dropFirst(5))) : nil
        return (response.grpcStatus, status)
    }

    @Test func servingThenNotServingThroughABrokerOutageThenServingAgain() async throws {
        let harness = try await GatewayHarness.start(partitions: 1) {
            $0.kafka = KafkaConfiguration(brokers: $0.kafka.brokers, connectTimeout: .seconds(2))
        }
        // SERVING once the reader's first watermark refresh is in (a
        // sanitizer build can take seconds to get there).
        let serving = await eventually(timeout: .seconds(15)) {
            let (code, status) = (try? await Self.check(harness.port, "")) ?? (nil, nil)
            return code == 0 && status == .serving
        }
        #expect(serving)
        // (Eventually too: a slow build's reader can miss a refresh, and its
        // status flickers before the outage.)
        let perServiceServing = await eventually(timeout: .seconds(15)) {
            let (code, status) = (try? await Self.check(harness.port, "tickgate.v1.PriceStream")) ?? (nil, nil)
            return code == 0 && status == .serving
        }
        #expect(perServiceServing)
        let (unknown, _) = try await Self.check(harness.port, "no.such.Service")
        #expect(unknown == 5, "an unknown service is NOT_FOUND")

        // A watcher hears SERVING at once, then NOT_SERVING when the brokers
        // go: they go once the first answer is in (taken down before it, a
        // loaded run's watcher heard NOT_SERVING first and then nothing).
        let port = harness.port
        let broker = harness.broker
        let wentDown = Atomic<Bool>(false)
        let answer = try await RawGRPCClient.call(
            port: port, path: "/grpc.health.v1.Health/Watch", body: Self.request(""),
            until: { response in
                if response.data.count >= 7, !wentDown.exchange(true, ordering: .relaxed) { broker.setBroker(1, up: false) }
                return response.data.count >= 14
            })
        #expect(Array(answer.data.prefix(14)) == [0, 0, 0, 0, 2, 0x08, 1, 0, 0, 0, 0, 2, 0x08, 2], "SERVING, then NOT_SERVING")
        let down = try await Self.check(harness.port, "")
        #expect(down.0 == 0 && down.1 == .notServing)
        harness.broker.setBroker(1, up: true)
        let back = await eventually(timeout: .seconds(30)) { (try? await Self.check(port, "").1) == .serving }
        #expect(back)
        await harness.stop()
    }
}
