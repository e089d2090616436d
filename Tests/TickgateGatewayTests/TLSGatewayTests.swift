import NIOCore
import NIOPosix
import Testing
import TickgateClient
import TickgateGateway
import TickgateModel
import TickgateTLS
import TickgateTestSupport

/// gRPC over TLS: ALPN h2 required, mutual TLS, and a certificate reload
/// that keeps open connections.
@Suite(.serialized, .timeLimit(.minutes(2)))
struct TLSGatewayTests {
    @Test func ticksFlowOverTLSAndAClientWithoutTheCAIsRefused() async throws {
        let certificates = try TestCertificates.make()
        defer { certificates.remove() }
        let harness = try await GatewayHarness.start(partitions: 1) {
            $0.tls = GatewayTLS(certificateChainFile: certificates.serverCertificate, privateKeyFile: certificates.serverKey)
        }
        let connection = try await TickgateConnection.connect(
            host: "127.0.0.1", port: harness.port, credentials: Credentials(tls: .init(caFile: certificates.caFile)))
        let stream = try await connection.openStream()
        #expect(try await stream.subscribe(["BTC-USD"]).accepted == ["BTC-USD"])
        try await harness.publishAndFlush(makeTicks(symbols: ["BTC-USD"], perSymbol: 3))
        #expect(try await collect(stream, count: 3).map(\.tick.sequence) == [1, 2, 3])

        // The system's CAs do not know the test CA.
        let untrusted = try await TickgateConnection.connect(
            host: "127.0.0.1", port: harness.port, credentials: Credentials(tls: .init()))
        await #expect {
            _ = try await untrusted.openStream().subscribe(["BTC-USD"])
        } throws: { error in
            "\(error)".contains("certificate verification failed")
        }
        // Plain text to a TLS port: not served.
        let plain = try await TickgateConnection.connect(host: "127.0.0.1", port: harness.port)
        await #expect(throws: TickgateClientError.self) { _ = try await plain.openStream().subscribe(["BTC-USD"]) }
        #expect(await eventually { harness.gateway.stats.snapshot.tlsRefused >= 2 })
        stream.cancel()
        await connection.close()
        await harness.stop()
    }

    @Test func anExpiredServerCertificateIsRefusedByTheClient() async throws {
        let certificates = try TestCertificates.make()
        defer { certificates.remove() }
        let harness = try await GatewayHarness.start(partitions: 1) {
            $0.tls = GatewayTLS(certificateChainFile: certificates.expiredCertificate, privateKeyFile: certificates.expiredKey)
        }
        let connection = try await TickgateConnection.connect(
            host: "127.0.0.1", port: harness.port, credentials: Credentials(tls: .init(caFile: certificates.caFile)))
        await #expect {
            _ = try await connection.openStream().subscribe(["BTC-USD"])
        } throws: { error in
            "\(error)".contains("certificate has expired")
        }
        await harness.stop()
    }

    @Test func aClientThatDoesNotNegotiateH2IsRefused() async throws {
        let certificates = try TestCertificates.make()
        defer { certificates.remove() }
        let harness = try await GatewayHarness.start(partitions: 1) {
            $0.tls = GatewayTLS(certificateChainFile: certificates.serverCertificate, privateKeyFile: certificates.serverKey)
        }
        // A TLS client with no ALPN at all (like an HTTP/1.1 client).
        let noALPN = try TLSContext(.client(serverName: "localhost", trustedCAFile: certificates.caFile))
        let closed = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connect(host: "127.0.0.1", port: harness.port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(try noALPN.makeHandler())
                    return channel
                }
            }
        try await closed.closeFuture.get()  // the gateway closed it
        #expect(await eventually { harness.gateway.stats.snapshot.tlsRefused == 1 })
        await harness.stop()
    }

    @Test func mutualTLSWantsACertificateFromTheConfiguredCA() async throws {
        let certificates = try TestCertificates.make()
        defer { certificates.remove() }
        let harness = try await GatewayHarness.start(partitions: 1) {
            $0.tls = GatewayTLS(
                certificateChainFile: certificates.serverCertificate, privateKeyFile: certificates.serverKey,
                clientCAFile: certificates.caFile)
        }
        func attempt(_ certificate: String?, _ key: String?) async throws -> SubscriptionResult {
            let connection = try await TickgateConnection.connect(
                host: "127.0.0.1", port: harness.port,
                credentials: Credentials(tls: .init(caFile: certificates.caFile, certificateFile: certificate, privateKeyFile: key)))
            defer { Task { await connection.close() } }
            return try await connection.openStream().subscribe(["BTC-USD"])
        }
        #expect(try await attempt(certificates.clientCertificate, certificates.clientKey).accepted == ["BTC-USD"])
        await #expect(throws: TickgateClientError.self) { _ = try await attempt(nil, nil) }
        await #expect(throws: TickgateClientError.self) {
            _ = try await attempt(certificates.strangerCertificate, certificates.strangerKey)
        }
        await #expect(throws: TickgateClientError.self, "expired, though from the right CA") {
            _ = try await attempt(certificates.expiredCertificate, certificates.expiredKey)
        }
        #expect(await eventually { harness.gateway.stats.snapshot.tlsRefused == 3 })
        await harness.stop()
    }

    @Test func reloadingTheCertificateKeepsOpenConnections() async throws {
        let certificates = try TestCertificates.make()
        defer { certificates.remove() }
        let harness = try await GatewayHarness.start(partitions: 1) {
            $0.tls = GatewayTLS(certificateChainFile: certificates.serverCertificate, privateKeyFile: certificates.serverKey)
        }
        let tls = Credentials(tls: .init(caFile: certificates.caFile))
        let connection = try await TickgateConnection.connect(host: "127.0.0.1", port: harness.port, credentials: tls)
        let stream = try await connection.openStream()
        _ = try await stream.subscribe(["BTC-USD"])

        // A server certificate from another CA, swapped in under the same names.
        _ = try await runShell("cp \(certificates.strangerCertificate) \(certificates.serverCertificate) && cp \(certificates.strangerKey) \(certificates.serverKey)")
        try harness.gateway.reloadTLS()
        try await harness.publishAndFlush(makeTicks(symbols: ["BTC-USD"], perSymbol: 1))
        #expect(try await collect(stream, count: 1).count == 1, "the open connection stays")
        let fresh = try await TickgateConnection.connect(host: "127.0.0.1", port: harness.port, credentials: tls)
        await #expect(throws: TickgateClientError.self, "new connections get the new certificate (not from the test CA)") {
            _ = try await fresh.openStream().subscribe(["BTC-USD"])
        }
        // A broken file changes nothing.
        _ = try await runShell("echo broken > \(certificates.serverKey)")
        #expect(throws: TLSError.self) { try harness.gateway.reloadTLS() }
        stream.cancel()
        await connection.close()
        await harness.stop()
    }

    private func runShell(_ command: String) async throws -> Int32 {
        let status = system(command)
        if status != 0 { throw TestCertificates.Failure(description: "\(command) failed (\(status))") }
        return status
    }
}
