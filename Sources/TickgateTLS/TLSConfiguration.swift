/// How a TLS connection is set up. OpenSSL does the work; no OpenSSL type
/// leaves this module.
public struct TLSConfiguration: Sendable {
    public enum Role: Sendable {
        /// Verifies the server's certificate chain and host name.
        case client(serverName: String)
        /// Presents a certificate chain and key (PEM files).
        case server(certificateChainFile: String, privateKeyFile: String)
    }

    public var role: Role
    /// Extra trusted CA certificates (PEM) besides the system's, e.g. a test CA.
    public var trustedCAFile: String?

    public init(role: Role, trustedCAFile: String? = nil) {
        self.role = role
        self.trustedCAFile = trustedCAFile
    }

    public static func client(serverName: String, trustedCAFile: String? = nil) -> TLSConfiguration {
        TLSConfiguration(role: .client(serverName: serverName), trustedCAFile: trustedCAFile)
    }
}

public struct TLSError: Error, CustomStringConvertible, Equatable {
    public let detail: String

    public init(detail: String) {
        self.detail = detail
    }

    public var description: String { "TLS: \(detail)" }
}
