import Synchronization
import TickgateTLS

/// The certificate and key new connections are served with. Reloading
/// builds a new context from the files (a bad file changes nothing) and
/// swaps it in; connections already open keep the one they started with.
final class ServerTLS: Sendable {
    let configuration: TLSConfiguration
    private let current: Mutex<TLSContext>

    init(_ configuration: TLSConfiguration) throws(TLSError) {
        self.configuration = configuration
        self.current = Mutex(try TLSContext(configuration))
    }

    var context: TLSContext { current.withLock { $0 } }

    func reload() throws(TLSError) {
        let fresh = try TLSContext(configuration)
        current.withLock { $0 = fresh }
    }
}

/// Where the gateway serves TLS: certificate chain and key (PEM), and for
/// mutual TLS the CA client certificates must chain to.
public struct GatewayTLS: Sendable, Equatable {
    public var certificateChainFile: String
    public var privateKeyFile: String
    public var clientCAFile: String?

    public init(certificateChainFile: String, privateKeyFile: String, clientCAFile: String? = nil) {
        self.certificateChainFile = certificateChainFile
        self.privateKeyFile = privateKeyFile
        self.clientCAFile = clientCAFile
    }

    var configuration: TLSConfiguration {
        .grpcServer(certificateChainFile: certificateChainFile, privateKeyFile: privateKeyFile, clientCAFile: clientCAFile)
    }
}
