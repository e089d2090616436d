/// How a TLS connection is set up. OpenSSL does the work; no OpenSSL type
/// leaves this module. TLS 1.2 is the oldest version either side accepts.
public struct TLSConfiguration: Sendable {
    public enum Role: Sendable {
        /// Verifies the server's certificate chain and host name.
        case client(serverName: String)
        /// Presents a certificate chain and key (PEM files).
        case server(certificateChainFile: String, privateKeyFile: String)
    }

    /// A certificate chain and its private key, PEM files.
    public struct CertificateFiles: Sendable, Equatable {
        public var chain: String
        public var key: String
        public init(chain: String, key: String) {
            self.chain = chain
            self.key = key
        }
    }

    public var role: Role
    /// Client: CA certificates (PEM) trusted besides the system's, e.g. a
    /// test CA. Server with `requireClientCertificate`: the CAs client
    /// certificates must chain to.
    public var trustedCAFile: String?
    /// HTTP/2 over TLS: a client offers ALPN "h2"; a server requires it and
    /// refuses a client that does not negotiate it (as gRPC requires).
    public var alpnH2: Bool = false
    /// Server: mutual TLS, every client presents a certificate that chains
    /// to `trustedCAFile`.
    public var requireClientCertificate: Bool = false
    /// Client: the certificate presented to a server that asks (mutual TLS).
    public var clientCertificate: CertificateFiles? = nil

    public init(role: Role, trustedCAFile: String? = nil) {
        self.role = role
        self.trustedCAFile = trustedCAFile
    }

    public static func client(serverName: String, trustedCAFile: String? = nil) -> TLSConfiguration {
        TLSConfiguration(role: .client(serverName: serverName), trustedCAFile: trustedCAFile)
    }

    /// gRPC's server side: ALPN h2 required; mutual TLS with `clientCAFile`.
    public static func grpcServer(certificateChainFile: String, privateKeyFile: String, clientCAFile: String? = nil) -> TLSConfiguration {
        var configuration = TLSConfiguration(
            role: .server(certificateChainFile: certificateChainFile, privateKeyFile: privateKeyFile), trustedCAFile: clientCAFile)
        configuration.alpnH2 = true
        configuration.requireClientCertificate = clientCAFile != nil
        return configuration
    }

    /// gRPC's client side: ALPN h2 offered.
    public static func grpcClient(serverName: String, trustedCAFile: String? = nil, certificate: CertificateFiles? = nil) -> TLSConfiguration {
        var configuration = TLSConfiguration.client(serverName: serverName, trustedCAFile: trustedCAFile)
        configuration.alpnH2 = true
        configuration.clientCertificate = certificate
        return configuration
    }
}

public struct TLSError: Error, CustomStringConvertible, Equatable {
    public let detail: String

    public init(detail: String) {
        self.detail = detail
    }

    public var description: String { "TLS: \(detail)" }
}
